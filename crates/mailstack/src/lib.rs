//! A private mail server stack for choixbot's tests, demonstration and
//! benchmarks: a Dovecot (IMAP with STARTTLS and implicit TLS, LMTP) and a
//! Postfix (SMTP accepting anything from the loopback, delivering to Dovecot
//! over LMTP), on free loopback ports in a fresh temporary directory.
//!
//! Every address of every domain is a mailbox with the same password, so
//! interns at gmail.com or orange.fr, the ARS and choixbot itself all get
//! mail. Several stacks may run at once; dropping one kills its servers and
//! removes its directory. The recipe is explained in `DEVELOPERS.md`
//! ("Mail test stack recipe"); the servers need root (they switch to the
//! `mail`, `dovecot`, `dovenull` and `postfix` users).

mod config;
mod maildir;
mod postfix_global;
mod process;
mod reading;
mod smtp_client;
mod tls;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use config::Layout;
pub use config::BASIC_IMAP_CAPABILITY;
use process::Server;

/// The password of every mailbox.
const PASSWORD: &str = "mailstack-password";

/// Options for [`MailStack::builder`].
#[derive(Debug, Clone, Default)]
pub struct MailStackBuilder {
    /// Replaces Dovecot's advertised capabilities (see [`BASIC_IMAP_CAPABILITY`]).
    imap_capability: Option<String>,
    /// Recipients Postfix refuses with a 5xx.
    rejected_recipients: Vec<String>,
    /// Recipients Postfix defers with a 4xx.
    deferred_recipients: Vec<String>,
    /// Senders (MAIL FROM) Postfix refuses with a 5xx.
    rejected_senders: Vec<String>,
    /// The servers present a self-signed certificate (CA:TRUE, as
    /// `openssl req -x509` makes it) instead of one signed by the test CA.
    self_signed: bool,
    /// Dovecot also accepts XOAUTH2 and OAUTHBEARER, validating the bearer
    /// token locally as a JWT signed (HS256) with this key.
    oauth2_key: Option<Vec<u8>>,
}

impl MailStackBuilder {
    /// Makes Dovecot and Postfix present a self-signed certificate marked
    /// CA:TRUE, as a small server of an association's own often has;
    /// [`MailStack::ca_pem_path`] is then that very certificate.
    pub fn self_signed_certificate(mut self) -> Self {
        self.self_signed = true;
        self
    }

    /// Makes Dovecot (IMAP, and Postfix's SMTP AUTH through it) accept
    /// XOAUTH2 and OAUTHBEARER with a JWT signed with `key` by HS256, as
    /// Dovecot 2.3's `oauth2` passdb validates it locally
    /// (`introspection_mode = local`): the token's `email` must be the
    /// login, and its `exp` in the future. Passwords still work.
    pub fn oauth2_key(mut self, key: &[u8]) -> Self {
        self.oauth2_key = Some(key.to_vec());
        self
    }

    /// Makes Dovecot advertise exactly `capability` (e.g. without IDLE, MOVE
    /// and UIDPLUS, to test a client's fallbacks).
    pub fn imap_capability(mut self, capability: &str) -> Self {
        self.imap_capability = Some(capability.to_string());
        self
    }

    /// Makes Postfix answer `RCPT TO:<address>` with a 554 (permanent) error.
    pub fn reject_recipient(mut self, address: &str) -> Self {
        self.rejected_recipients.push(address.to_string());
        self
    }

    /// Makes Postfix refuse mail from `address` (5xx to MAIL FROM), as a
    /// provider refuses a sender the account may not send as.
    pub fn reject_sender(mut self, address: &str) -> Self {
        self.rejected_senders.push(address.to_string());
        self
    }

    /// Makes Postfix answer `RCPT TO:<address>` with a 450 (try again later).
    pub fn defer_recipient(mut self, address: &str) -> Self {
        self.deferred_recipients.push(address.to_string());
        self
    }

    /// Starts the stack. A server that finds one of its ports taken in
    /// the instant between our check and its bind (another process's
    /// listener) is started again on fresh ports, up to three times.
    pub fn start(self) -> Result<MailStack> {
        let mut attempt = 1;
        loop {
            match MailStack::start_with(&self) {
                Err(error) if attempt < 3 && format!("{error:#}").contains("Address already in use") => {
                    attempt += 1;
                }
                result => return result,
            }
        }
    }
}

/// One delivered message, see [`MailStack::deliveries`].
#[derive(Debug, Clone)]
pub struct Delivery {
    /// When Dovecot wrote it into the Maildir.
    pub at: std::time::SystemTime,
    /// The message as stored (LF line endings, trace headers on top).
    pub raw: Vec<u8>,
}

/// A running Dovecot + Postfix. Dropping it stops both and deletes the mail.
#[derive(Debug)]
pub struct MailStack {
    /// Postfix, `None` while stopped by [`MailStack::stop_smtp`]. Declared
    /// first so it is dropped before the directory it lives in.
    postfix: Option<Server>,
    /// Dovecot.
    dovecot: Option<Server>,
    /// Stops the servers if this process dies without dropping the stack.
    watchdog: Option<std::process::Child>,
    /// Dovecot's plain IMAP port (STARTTLS offered).
    imap_port: u16,
    /// Dovecot's implicit-TLS IMAP port.
    imaps_port: u16,
    /// Dovecot's LMTP port.
    lmtp_port: u16,
    /// Dovecot's authentication port, which Postfix's SMTP AUTH asks.
    auth_port: u16,
    /// Postfix's plain SMTP port (STARTTLS offered).
    smtp_port: u16,
    /// Postfix's implicit-TLS SMTP port.
    smtps_port: u16,
    /// The temporary directory holding configuration, certificates, queues,
    /// logs and Maildirs; removed on drop (after the servers are stopped).
    dir: tempfile::TempDir,
}

impl MailStack {
    /// Starts a stack with the default options.
    pub fn start() -> Result<MailStack> {
        Self::builder().start()
    }

    /// Options: capability override, rejected recipients.
    pub fn builder() -> MailStackBuilder {
        MailStackBuilder::default()
    }

    fn start_with(options: &MailStackBuilder) -> Result<MailStack> {
        check_root()?;
        let mut dir = tempfile::Builder::new()
            .prefix("mailstack-")
            .tempdir()
            .context("cannot create the stack directory")?;
        // For debugging a failing start: keep the configuration and logs.
        let keep = std::env::var_os("MAILSTACK_KEEP").is_some();
        dir.disable_cleanup(keep);
        if keep {
            std::fs::write(dir.path().join("keep"), "")?;
        }
        let ports = process::free_ports(6)?;
        let mut stack = MailStack {
            postfix: None,
            dovecot: None,
            watchdog: None,
            imap_port: ports[0],
            imaps_port: ports[1],
            lmtp_port: ports[2],
            smtp_port: ports[3],
            smtps_port: ports[4],
            auth_port: ports[5],
            dir,
        };
        stack.prepare(options)?;
        stack.watchdog = Some(process::spawn_watchdog(stack.dir.path())?);
        stack.start_dovecot()?;
        stack.start_smtp()?;
        Ok(stack)
    }

    /// Writes certificates, configuration and directories.
    fn prepare(&self, options: &MailStackBuilder) -> Result<()> {
        let dir = self.dir.path();
        set_mode(dir, 0o755)?;
        if options.self_signed {
            tls::make_self_signed(dir)?;
        } else {
            tls::make_certificates(dir)?;
        }
        let layout = self.layout(options.imap_capability.as_deref(), options.oauth2_key.is_some());
        std::fs::write(dir.join("dovecot.conf"), config::dovecot_conf(&layout))?;
        if let Some(key) = &options.oauth2_key {
            std::fs::write(dir.join("dovecot-oauth2.conf.ext"), config::dovecot_oauth2_conf(&layout))?;
            // Dovecot looks the key up as `<azp>/<alg>/<kid>`, "default"
            // for a token without `azp` or `kid`; the file holds it in base64.
            let keys = dir.join("oauth2-keys/default/HS256");
            std::fs::create_dir_all(&keys)?;
            std::fs::write(keys.join("default"), config::base64(key))?;
        }
        let postfix_dir = dir.join("postfix");
        std::fs::create_dir(&postfix_dir)?;
        std::fs::write(postfix_dir.join("main.cf"), config::postfix_main_cf(&layout))?;
        std::fs::write(postfix_dir.join("master.cf"), config::postfix_master_cf(&layout))?;
        std::fs::write(
            postfix_dir.join("recipient_access"),
            config::recipient_access(&options.rejected_recipients, &options.deferred_recipients),
        )?;
        std::fs::write(postfix_dir.join("sender_access"), config::sender_access(&options.rejected_senders))?;
        // The queue belongs to root (Postfix makes its subdirectories), the
        // data directory to the postfix user.
        std::fs::create_dir(dir.join("postfix-queue"))?;
        let data = dir.join("postfix-data");
        std::fs::create_dir(&data)?;
        let postfix_uid = user_id("postfix")?;
        std::os::unix::fs::chown(&data, Some(postfix_uid), None).context("cannot chown postfix-data")?;
        let mail = dir.join("mail");
        std::fs::create_dir(&mail)?;
        chown_to_mail(&mail)?;
        postfix_global::allow_config_directory(&postfix_dir)?;
        Ok(())
    }

    fn layout<'a>(&'a self, imap_capability: Option<&'a str>, oauth2: bool) -> Layout<'a> {
        Layout {
            dir: self.dir.path(),
            imap_port: self.imap_port,
            imaps_port: self.imaps_port,
            lmtp_port: self.lmtp_port,
            auth_port: self.auth_port,
            smtp_port: self.smtp_port,
            smtps_port: self.smtps_port,
            password: PASSWORD,
            imap_capability,
            oauth2,
        }
    }

    fn start_dovecot(&mut self) -> Result<()> {
        let dir = self.dir.path();
        let conf = dir.join("dovecot.conf").display().to_string();
        let server = Server::start(
            "Dovecot",
            "dovecot",
            &["-F", "-c", &conf],
            &dir.join("dovecot.out"),
            &[self.imap_port, self.imaps_port, self.lmtp_port, self.auth_port],
            &dir.join("dovecot.log"),
        )?;
        self.dovecot = Some(server);
        Ok(())
    }

    /// Stops Dovecot and starts it again on the same ports (the mail stays).
    /// A delivery in flight may then be made twice: Dovecot writes the
    /// file before answering LMTP, and Postfix retries what got no answer
    /// (real servers do the same; SPEC §7 wants it handled).
    pub fn restart_dovecot(&mut self) -> Result<()> {
        if let Some(mut dovecot) = self.dovecot.take() {
            dovecot.stop();
        }
        self.start_dovecot()
    }

    /// Stops Postfix: SMTP connections are refused until [`Self::start_smtp`].
    pub fn stop_smtp(&mut self) {
        if let Some(mut postfix) = self.postfix.take() {
            postfix.stop();
        }
    }

    /// Starts Postfix (again) on the stack's SMTP ports.
    pub fn start_smtp(&mut self) -> Result<()> {
        if self.postfix.is_some() {
            return Ok(());
        }
        let dir = self.dir.path();
        let config_dir = dir.join("postfix").display().to_string();
        // `start-fg` keeps postfix-script in our process group, but the
        // master daemon makes its own (setsid) and records its pid.
        let server = Server::start_daemon(
            "Postfix",
            "postfix",
            &["-c", &config_dir, "start-fg"],
            &dir.join("postfix.out"),
            &[self.smtp_port, self.smtps_port],
            &dir.join("maillog"),
            Some(dir.join("postfix-queue/pid/master.pid")),
        )?;
        self.postfix = Some(server);
        Ok(())
    }

    /// 127.0.0.1: every server listens on the loopback only.
    pub fn host(&self) -> &'static str {
        "127.0.0.1"
    }

    /// Dovecot's plain IMAP port, which offers STARTTLS.
    pub fn imap_port(&self) -> u16 {
        self.imap_port
    }

    /// Dovecot's implicit-TLS IMAP port.
    pub fn imaps_port(&self) -> u16 {
        self.imaps_port
    }

    /// Postfix's plain SMTP port, which offers STARTTLS.
    pub fn smtp_port(&self) -> u16 {
        self.smtp_port
    }

    /// Postfix's implicit-TLS SMTP port.
    pub fn smtps_port(&self) -> u16 {
        self.smtps_port
    }

    /// The password of every mailbox.
    pub fn password(&self) -> &'static str {
        PASSWORD
    }

    /// The CA that signed the servers' certificate (for `ca_file`); with
    /// [`MailStackBuilder::self_signed_certificate`], the certificate itself.
    pub fn ca_pem_path(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The stack's directory (configuration, logs, Maildirs).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Postfix's log (`maillog_file`), with one line per accepted and
    /// delivered message; the benchmarks read it.
    pub fn maillog_path(&self) -> PathBuf {
        self.dir.path().join("maillog")
    }

    /// Sends `raw` through Postfix's SMTP port, as a mail client would.
    pub fn send(&self, from: &str, to: &[&str], raw: &[u8]) -> Result<()> {
        smtp_client::send(self.smtp_port, from, to, raw)
    }
}

impl Drop for MailStack {
    fn drop(&mut self) {
        self.stop_smtp();
        if let Some(mut dovecot) = self.dovecot.take() {
            dovecot.stop();
        }
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
        // `dir` is removed when the fields are dropped, after this.
    }
}

fn check_root() -> Result<()> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        bail!("the mail stack must run as root (Dovecot and Postfix switch to their own users); run the tests as root");
    }
    Ok(())
}

/// The uid of a system user, from /etc/passwd.
fn user_id(name: &str) -> Result<u32> {
    let passwd = std::fs::read_to_string("/etc/passwd").context("cannot read /etc/passwd")?;
    passwd
        .lines()
        .map(|line| line.split(':').collect::<Vec<_>>())
        .find(|fields| fields.first() == Some(&name))
        .and_then(|fields| fields.get(2)?.parse().ok())
        .with_context(|| format!("no user {name}: is Postfix installed (scripts/install-test-deps.sh)?"))
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot chmod {}", path.display()))
}

/// Gives the Maildir root to the `mail` user (uid/gid 8 on Debian), which
/// Dovecot delivers as.
fn chown_to_mail(path: &Path) -> Result<()> {
    std::os::unix::fs::chown(path, Some(8), Some(8))
        .with_context(|| format!("cannot chown {} to mail", path.display()))
}
