//! Running a server as a child in its own process group, waiting for its
//! ports, and killing the whole group (Dovecot and Postfix fork many helper
//! processes that would otherwise outlive the test).

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// How long a server may take to open its ports.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A server started by the stack.
#[derive(Debug)]
pub struct Server {
    /// "Dovecot" or "Postfix", for messages.
    pub name: &'static str,
    /// The leader of the server's process group.
    child: Child,
    /// A file holding the pid of a daemon that made its own process group
    /// (Postfix's master calls setsid(), unless it is pid 1).
    daemon_pid_file: Option<PathBuf>,
    /// Set by [`Server::stop`], so a second call signals nothing.
    stopped: bool,
}

impl Server {
    /// Starts `program args…` in a new process group, with its output in
    /// `output`, and waits until every port in `ports` accepts connections.
    pub fn start(
        name: &'static str,
        program: &str,
        args: &[&str],
        output: &Path,
        ports: &[u16],
        log: &Path,
    ) -> Result<Self> {
        Self::start_daemon(name, program, args, output, ports, log, None)
    }

    /// Like [`Server::start`], for a server whose daemon leaves the process
    /// group and writes its pid to `daemon_pid_file`: stopping also kills
    /// that daemon's group.
    pub fn start_daemon(
        name: &'static str,
        program: &str,
        args: &[&str],
        output: &Path,
        ports: &[u16],
        log: &Path,
        daemon_pid_file: Option<PathBuf>,
    ) -> Result<Self> {
        let binary = find_binary(program).with_context(|| {
            format!("{name} is not installed ({program} not found): run `sudo scripts/install-test-deps.sh`")
        })?;
        let stdout =
            std::fs::File::create(output).with_context(|| format!("cannot create {}", output.display()))?;
        let stderr = stdout.try_clone()?;
        let child = Command::new(&binary)
            .args(args)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .process_group(0)
            .spawn()
            .with_context(|| format!("cannot start {name} ({})", binary.display()))?;
        let mut server = Server { name, child, daemon_pid_file, stopped: false };
        server.wait_for_ports(ports, &[log, output])?;
        Ok(server)
    }

    fn wait_for_ports(&mut self, ports: &[u16], logs: &[&Path]) -> Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        for &port in ports {
            let address = SocketAddr::from(([127, 0, 0, 1], port));
            while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
                if let Some(status) = self.child.try_wait()? {
                    bail!(
                        "{} exited ({status}) before opening port {port}; is it installed (scripts/install-test-deps.sh)?\n{}",
                        self.name,
                        tails(logs)
                    );
                }
                if Instant::now() > deadline {
                    bail!(
                        "{} did not open port {port} within {}s; is it installed (scripts/install-test-deps.sh)?\n{}",
                        self.name,
                        START_TIMEOUT.as_secs(),
                        tails(logs)
                    );
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        Ok(())
    }

    /// Kills the whole process group and reaps the leader. Once only: the
    /// group ids may belong to other processes afterwards.
    pub fn stop(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        if let Some(daemon) = self.daemon_pid_file.as_deref().and_then(read_pid) {
            kill_group(daemon, None);
        }
        kill_group(self.child.id() as libc::pid_t, Some(&mut self.child));
        let _ = self.child.wait();
    }
}

/// Sends SIGTERM to a process group, then SIGKILL if it is still there
/// after 3 s, and waits until it is gone, reaping `leader` (our child, a
/// zombie member of the group until reaped) on the way.
fn kill_group(group: libc::pid_t, mut leader: Option<&mut Child>) {
    // SAFETY: kill(2) with a negative pid signals the group of a server we
    // started; it has no memory-safety preconditions.
    unsafe {
        libc::kill(-group, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        if let Some(child) = leader.as_deref_mut() {
            let _ = child.try_wait();
        }
        if !group_alive(group) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: as above.
    unsafe {
        libc::kill(-group, libc::SIGKILL);
    }
}

fn read_pid(path: &Path) -> Option<libc::pid_t> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok().filter(|&pid| pid > 1)
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn group_alive(group: libc::pid_t) -> bool {
    // SAFETY: signal 0 only checks whether the group still has members.
    unsafe { libc::kill(-group, 0) == 0 }
}

/// Starts a watchdog that stops the stack's servers and removes `dir` if
/// the test process dies without dropping the stack (killed, or Ctrl-C:
/// the servers are in process groups of their own, so the terminal's
/// SIGINT does not reach them). It runs in its own process group too, and
/// ends by itself once `dir` is gone.
pub fn spawn_watchdog(dir: &Path) -> Result<Child> {
    const SCRIPT: &str = r#"
owner=$1; dir=$2
while kill -0 "$owner" 2>/dev/null && [ -d "$dir" ]; do sleep 1; done
[ -d "$dir" ] || exit 0
for pidfile in "$dir/dovecot-run/master.pid" "$dir/postfix-queue/pid/master.pid"; do
    [ -f "$pidfile" ] && kill -TERM -"$(cat "$pidfile")" 2>/dev/null
done
sleep 2
[ -f "$dir/keep" ] || rm -rf "$dir"
"#;
    Command::new("/bin/sh")
        .args([
            "-c",
            SCRIPT,
            "mailstack-watchdog",
            &std::process::id().to_string(),
            &dir.display().to_string(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .context("cannot start the mail stack's watchdog (/bin/sh)")
}

/// Finds a binary on PATH or in the sbin directories (not on a user's PATH).
pub fn find_binary(program: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/sbin", "/sbin", "/usr/local/sbin"])
        .map(|dir| Path::new(dir).join(program))
        .find(|candidate| candidate.is_file());
    found
}

/// `count` distinct free loopback ports for the servers to bind.
///
/// Not from the kernel's ephemeral range (`bind(0)` would pick from it):
/// every outgoing connection on the machine (the daemon to IMAP, lettre to
/// SMTP, Postfix to LMTP, a test's own client) also takes its local port
/// from that range, so a port found free there can be taken as the source
/// port of some connection before Dovecot binds it. A CI run failed exactly
/// so: "service(auth): listen(127.0.0.1, 36077) failed: Address already in
/// use". Below the range, only listeners compete, and each candidate is
/// checked by binding it; the process-wide counter keeps stacks started by
/// parallel tests on different ports. All are held open together, then
/// released for the servers.
pub fn free_ports(count: usize) -> Result<Vec<u16>> {
    let Some((first, span)) = listening_range() else {
        return kernel_ports(count);
    };
    static NEXT: AtomicU32 = AtomicU32::new(0);
    // Processes start at different places, so two test binaries run at
    // once rarely probe the same ports.
    let offset = std::process::id().wrapping_mul(2_654_435_761) % span;
    let mut listeners = Vec::with_capacity(count);
    for _ in 0..span {
        if listeners.len() == count {
            break;
        }
        let port = first + ((offset + NEXT.fetch_add(1, Ordering::Relaxed)) % span) as u16;
        if let Ok(listener) = TcpListener::bind(("127.0.0.1", port)) {
            listeners.push(listener);
        }
    }
    if listeners.len() < count {
        bail!("cannot find {count} free loopback ports between {first} and {}", u32::from(first) + span);
    }
    listeners.iter().map(|listener| Ok(listener.local_addr()?.port())).collect()
}

/// The ports below the kernel's ephemeral range, from 10000: the first and
/// how many. `None` when the range starts too low to leave room.
fn listening_range() -> Option<(u16, u32)> {
    const FIRST: u16 = 10_000;
    let range = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").ok()?;
    let low: u16 = range.split_whitespace().next()?.parse().ok()?;
    let span = u32::from(low.checked_sub(FIRST)?);
    (span >= 1_000).then_some((FIRST, span))
}

/// `count` distinct ports chosen by the kernel, the fallback.
fn kernel_ports(count: usize) -> Result<Vec<u16>> {
    let listeners = (0..count)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<std::io::Result<Vec<_>>>()
        .context("cannot find a free loopback port")?;
    listeners.iter().map(|listener| Ok(listener.local_addr()?.port())).collect()
}

/// The last lines of each log, for an error message.
pub fn tails(logs: &[&Path]) -> String {
    logs.iter()
        .map(|log| {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let tail = lines[lines.len().saturating_sub(20)..].join("\n");
            format!("--- last lines of {} ---\n{tail}", log.display())
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs a short command to completion, failing with its output.
pub fn run(program: &str, args: &[&str]) -> Result<()> {
    let binary = find_binary(program)
        .with_context(|| format!("{program} not found: run `sudo scripts/install-test-deps.sh`"))?;
    let output =
        Command::new(&binary).args(args).output().with_context(|| format!("cannot run {program}"))?;
    if !output.status.success() {
        bail!(
            "{program} {} failed ({}): {}{}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: ports from the ephemeral range could be taken as the
    /// source port of an outgoing connection before Dovecot bound them.
    #[test]
    fn free_ports_are_distinct_and_outside_the_ephemeral_range() {
        // A machine whose ephemeral range starts low falls back to the
        // kernel's choice: then only distinctness is checked.
        let range = listening_range();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..50 {
            for port in free_ports(6).unwrap() {
                if let Some((first, span)) = range {
                    assert!(port >= first && u32::from(port) < u32::from(first) + span, "port {port}");
                }
                assert!(seen.insert(port), "port {port} handed out twice");
            }
        }
    }
}
