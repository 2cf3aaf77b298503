//! Running a server as a child in its own process group, waiting for its
//! ports, and killing the whole group (Dovecot and Postfix fork many helper
//! processes that would otherwise outlive the test).

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
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

/// `count` distinct free loopback ports. All are held open together so the
/// kernel gives distinct ones, then released for the servers to bind.
pub fn free_ports(count: usize) -> Result<Vec<u16>> {
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
