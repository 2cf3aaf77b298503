//! `spawn_mail_app()`: a session wired to a private Dovecot + Postfix
//! (`mailstack`), with the daemon run in-process so that a test decides
//! exactly when it starts and stops.

use std::sync::Arc;
use std::time::Duration;

use choixbot::answer::Templates;
use choixbot::collect::Daemon;
use choixbot::domain::{Email, Token};
use choixbot::settings::Settings;
use mailstack::MailStack;

use crate::helpers::{spawn_app, TestApp};
pub use crate::stacks::{eventually, eventually_blocking, poll_until};

/// The mailbox choixbot reads, and its address.
pub const BOT: &str = "choix@asso.example";
pub const ARS: &str = "internat@ars.example";
pub const REFERENT: &str = "referent@asso.example";

/// A session on a private mail stack.
pub struct MailApp {
    /// The session (database, config, temp dir).
    pub app: TestApp,
    /// The running Dovecot and Postfix.
    pub stack: MailStack,
}

/// The daemon running in the test's runtime.
pub struct RunningDaemon {
    /// Completes the daemon's shutdown future.
    stop: tokio::sync::oneshot::Sender<()>,
    /// The daemon's task.
    task: tokio::task::JoinHandle<choixbot::Result<()>>,
}

impl RunningDaemon {
    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.expect("the daemon task panicked").expect("the daemon failed");
    }
}

/// A local time in Europe/Paris, `offset` from now, as the config wants it.
pub fn paris_time(offset: chrono::Duration) -> String {
    (chrono::Utc::now() + offset)
        .with_timezone(&chrono_tz::Europe::Paris)
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string()
}

pub async fn spawn_mail_app(deadline: &str) -> MailApp {
    spawn_mail_app_on(MailStack::builder(), deadline).await
}

impl MailApp {
    /// (Re)writes choixbot.toml for this stack with the given deadline.
    pub fn write_config(&self, deadline: &str) {
        let password = self.app.write("imap-password", self.stack.password());
        let config = format!(
            r#"[session]
name = "Semestre d'essai"
deadline = "{deadline}"
timezone = "Europe/Paris"
ars_recipients = ["{ARS}"]
referents = ["{REFERENT}"]

[mail]
from = "Choix de stage <{BOT}>"
reply_to = "{BOT}"

[imap]
host = "{host}"
port = {imaps}
security = "tls"
username = "{BOT}"
password_file = "{password}"
ca_file = "{ca}"
poll_seconds = 1
timeout_seconds = 15

[smtp]
host = "{host}"
port = {smtp}
security = "none"
timeout_seconds = 15
"#,
            host = self.stack.host(),
            imaps = self.stack.imaps_port(),
            smtp = self.stack.smtp_port(),
            password = password.display(),
            ca = self.stack.ca_pem_path().display(),
        );
        std::fs::write(&self.app.config, config).unwrap();
    }

    pub fn settings(&self) -> Arc<Settings> {
        Arc::new(Settings::load(&self.app.config).expect("the test config is valid"))
    }

    /// Starts `choixbot run` in-process.
    pub async fn start_daemon(&self) -> RunningDaemon {
        self.start_daemon_on(&choixbot::clock::Clock::system()).await
    }

    /// Starts `choixbot run` in-process, reading time from `clock`: the
    /// test lets the deadline pass with [`choixbot::clock::Clock::advance`].
    pub async fn start_daemon_on(&self, clock: &choixbot::clock::Clock) -> RunningDaemon {
        let store = self.app.store().await.with_clock(clock.clone());
        let templates = Arc::new(Templates::load(None).unwrap());
        let daemon = Daemon::new(self.settings(), store, templates).expect("the daemon starts");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(daemon.run(async move {
            let _ = stopped.await;
        }));
        RunningDaemon { stop, task }
    }

    /// The token of an intern.
    pub async fn token(&self, email: &str) -> Token {
        let store = self.app.store().await;
        let interns = store.interns().await.unwrap();
        let email = Email::parse(email).unwrap();
        interns.into_iter().find(|s| s.intern.email == email).expect("a known intern").token
    }

    /// Sends a message into choixbot's mailbox through Postfix.
    pub fn deliver(&self, envelope_from: &str, raw: &str) {
        self.stack.send(envelope_from, &[BOT], raw.as_bytes()).expect("Postfix accepts the reply");
    }

    /// Waits for `count` messages in `address`'s mailbox (all folders).
    pub fn wait_for(&self, address: &str, count: usize) -> Vec<Vec<u8>> {
        tokio::task::block_in_place(|| self.stack.wait_for_messages(address, count, Duration::from_secs(60)))
            .unwrap_or_else(|error| panic!("{address} did not receive {count} message(s): {error:#}"))
    }

    /// Waits for a message in `address`'s mailbox whose subject and text
    /// satisfy `matches`, and returns it.
    pub fn wait_for_matching(
        &self,
        address: &str,
        what: &str,
        matches: impl Fn(&str, &str) -> bool,
    ) -> Vec<u8> {
        self.wait_for_raw(address, what, |raw| {
            let (subject, text) = subject_and_text(raw);
            matches(&subject, &text)
        })
    }

    /// Waits (60 s at most, then fails loudly) for a message in `address`'s
    /// mailbox whose raw bytes `matches` accepts, and returns it.
    pub fn wait_for_raw(&self, address: &str, what: &str, matches: impl Fn(&[u8]) -> bool) -> Vec<u8> {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let found = self.mailbox(address).into_iter().find(|raw| matches(raw));
            if let Some(raw) = found {
                return raw;
            }
            if std::time::Instant::now() > deadline {
                let subjects: Vec<String> =
                    self.mailbox(address).iter().map(|raw| subject_and_text(raw).0).collect();
                panic!("{address} never received {what}; it has: {subjects:?}");
            }
            tokio::task::block_in_place(|| std::thread::sleep(Duration::from_millis(200)));
        }
    }

    /// The messages in `address`'s mailbox now.
    pub fn mailbox(&self, address: &str) -> Vec<Vec<u8>> {
        self.stack.messages(address)
    }
}

/// A plain reply as a phone client writes it, to the plus address.
pub fn reply(from: &str, token: Option<&Token>, subject: &str, body: &str) -> String {
    let to = match token {
        Some(token) => format!("choix+{token}@asso.example"),
        None => BOT.to_string(),
    };
    let id = format!("<{}.{}@test.example>", from.replace('@', "."), rand_suffix());
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: {id}\r\nDate: Mon, 4 May 2020 09:12:00 +0200\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}"
    )
}

fn rand_suffix() -> u64 {
    use rand::Rng;
    rand::thread_rng().gen()
}

/// The subject and the plain-text body of a raw message.
pub fn subject_and_text(raw: &[u8]) -> (String, String) {
    let message = mail_parser::MessageParser::default().parse(raw).expect("a parsable message");
    let subject = message.subject().unwrap_or_default().to_string();
    let text = message.body_text(0).map(|t| t.to_string()).unwrap_or_default();
    (subject, text)
}

/// A header of a raw message, as text.
pub fn header(raw: &[u8], name: &str) -> Option<String> {
    let message = mail_parser::MessageParser::default().parse(raw)?;
    message.header_raw(name).map(|v| v.trim().to_string())
}

// ---------------------------------------------------------------------
// Fault-suite helpers: the daemon as a child process (so that it can be
// aborted at a chosen step), configuration edits, and reading back what
// was decided and what was delivered.

/// One row of the `messages` table, as the fault tests check it.
#[derive(Debug, Clone)]
pub struct DecidedRow {
    /// The incoming message's Message-ID.
    pub message_id: Option<String>,
    /// confirmed, rejected, ignored…
    pub verdict: String,
    /// The intern it was attributed to.
    pub intern: Option<String>,
    /// The decision's reasons (JSON).
    pub reasons: String,
}

impl MailApp {
    /// Writes the config, adding each `(section, line)` at the top of that
    /// section (or in a new section at the end).
    pub fn write_config_with(&self, deadline: &str, edits: &[(&str, &str)]) {
        self.write_config(deadline);
        let mut config = std::fs::read_to_string(&self.app.config).unwrap();
        for (section, line) in edits {
            let header = format!("[{section}]\n");
            if config.contains(&header) {
                config = config.replacen(&header, &format!("{header}{line}\n"), 1);
            } else {
                config.push_str(&format!("\n{header}{line}\n"));
            }
        }
        std::fs::write(&self.app.config, config).unwrap();
    }

    /// Starts `choixbot run` as a child process, which aborts at `crash_at`
    /// (see `choixbot::crash_point`) when given. Its stderr goes to
    /// `daemon-N.log` in the test directory.
    pub fn spawn_daemon_process(&self, crash_at: Option<&str>) -> std::process::Child {
        let hooks: Vec<(&str, &str)> =
            crash_at.map(|step| (choixbot::crash_point::VARIABLE, step)).into_iter().collect();
        self.spawn_daemon_process_with(&hooks)
    }

    /// [`MailApp::spawn_daemon_process`] with the test hooks' variables
    /// (`choixbot::crash_point`) given as `(name, value)`.
    pub fn spawn_daemon_process_with(&self, hooks: &[(&str, &str)]) -> std::process::Child {
        let log_name = format!("daemon-{}.log", rand_suffix());
        let log = std::fs::File::create(self.app.dir.path().join(log_name)).unwrap();
        let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("choixbot"));
        command
            .current_dir(self.app.dir.path())
            .env_remove("DATABASE_URL")
            .env_remove(choixbot::crash_point::VARIABLE)
            .env_remove(choixbot::crash_point::FAIL_VARIABLE)
            .env("RUST_LOG", "info")
            .arg("--config")
            .arg(&self.app.config)
            .arg("--database-url")
            .arg(&self.app.database_url)
            .arg("run")
            .stdout(std::process::Stdio::null())
            .stderr(log);
        command.envs(hooks.iter().copied());
        command.spawn().expect("cannot start choixbot run")
    }

    /// The daemons' logs, for assertion messages.
    pub fn daemon_logs(&self) -> String {
        let mut text = String::new();
        for entry in std::fs::read_dir(self.app.dir.path()).unwrap().flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if name.starts_with("daemon-") {
                text.push_str(&format!("--- {name}\n{}", std::fs::read_to_string(entry.path()).unwrap()));
            }
        }
        text
    }

    /// `choixbot status --json`.
    pub fn status_json(&self) -> serde_json::Value {
        serde_json::from_str(&self.app.ok(&["status", "--json"])).expect("status --json is JSON")
    }

    /// Waits (up to 90 s) until `status --json` satisfies `done`.
    pub async fn wait_for_status(&self, what: &str, done: impl Fn(&serde_json::Value) -> bool) {
        let reached = poll_until(Duration::from_secs(90), Duration::from_millis(250), || async {
            done(&self.status_json()).then_some(())
        })
        .await;
        if reached.is_none() {
            panic!("never reached: {what}\n{}\n{}", self.status_json(), self.daemon_logs());
        }
    }

    /// Waits until `n` messages are recorded and nothing is left pending in
    /// the outbox (everything sent or failed).
    pub async fn wait_until_settled(&self, n: i64) {
        self.wait_for_status(&format!("{n} messages recorded and the outbox empty"), |json| {
            json["mail"]["messages"].as_i64() == Some(n) && outbox_count(json, "pending") == 0
        })
        .await;
    }

    /// Every row of `messages`, in order.
    pub async fn decided(&self) -> Vec<DecidedRow> {
        use sqlx::Row;
        let store = self.app.store().await;
        let rows = sqlx::query("SELECT message_id, verdict, intern_email, reasons FROM messages ORDER BY id")
            .fetch_all(store.pool())
            .await
            .unwrap();
        rows.iter()
            .map(|row| DecidedRow {
                message_id: row.get(0),
                verdict: row.get(1),
                intern: row.get(2),
                reasons: row.get(3),
            })
            .collect()
    }

    /// The Message-IDs of what `address` received, in delivery order.
    pub fn received_ids(&self, address: &str) -> Vec<String> {
        self.mailbox(address).iter().map(|raw| header(raw, "Message-ID").unwrap_or_default()).collect()
    }

    /// Waits until Postfix has finished with every message it accepted, so
    /// that a mailbox count is final.
    pub fn wait_for_postfix_idle(&self) {
        crate::stacks::wait_for_postfix_idle(&self.stack);
    }
}

/// How many outbox messages have this status in a `status --json`.
pub fn outbox_count(json: &serde_json::Value, status: &str) -> i64 {
    json["outbox"]
        .as_array()
        .map(|rows| rows.iter().filter(|r| r[1] == status).map(|r| r[2].as_i64().unwrap_or(0)).sum())
        .unwrap_or(0)
}

/// Waits (up to 60 s) for a child process to exit.
pub fn wait_for_exit(child: &mut std::process::Child) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the daemon did not exit within 60 s");
        }
        tokio::task::block_in_place(|| std::thread::sleep(Duration::from_millis(50)));
    }
}

/// Stops a daemon child process with SIGTERM (by its id) and waits for it.
pub fn terminate(child: &mut std::process::Child) -> std::process::ExitStatus {
    let pid = child.id().to_string();
    std::process::Command::new("kill").args(["-TERM", &pid]).status().expect("cannot run kill");
    wait_for_exit(child)
}

/// Three plain interns of the sample (same group, no proxy).
pub const PLAIN_INTERNS: [&str; 3] =
    ["camille.martin@gmail.com", "lbernard@orange.fr", "dubois.chloe@free.fr"];

impl MailApp {
    /// The ARS numbers of the open posts of `email`'s group.
    pub async fn posts_of(&self, email: &str) -> Vec<String> {
        let store = self.app.store().await;
        let interns = store.intern_list().await.unwrap();
        let intern = interns.iter().find(|i| i.email.as_str() == email).expect("a sample intern");
        let posts = store.posts().await.unwrap();
        posts.iter().filter(|p| p.group == intern.group).map(|p| p.ars_id.as_str().to_string()).collect()
    }

    /// Delivers a valid reply of `email` (with their token) choosing their
    /// group's first post; returns the raw message.
    pub async fn deliver_valid_reply(&self, email: &str) -> String {
        let post = self.posts_of(email).await.remove(0);
        let raw = reply(email, Some(&self.token(email).await), "Re: Choix de stage", &format!("{post}\n"));
        self.deliver(email, &raw);
        raw
    }

    /// Waits until choixbot's INBOX is empty (everything moved away).
    pub fn wait_for_empty_inbox(&self) {
        eventually_blocking(
            "choixbot's INBOX to be emptied",
            Duration::from_secs(60),
            Duration::from_millis(100),
            || self.stack.messages_in(BOT, "INBOX").is_empty().then_some(()),
        );
    }
}

/// [`spawn_mail_app`] on a stack built with fault options.
pub async fn spawn_mail_app_on(builder: mailstack::MailStackBuilder, deadline: &str) -> MailApp {
    let stack = crate::stacks::start(builder).await;
    let mail_app = MailApp { app: spawn_app().await, stack };
    mail_app.write_config(deadline);
    mail_app.app.import_sample("posts", "posts.csv");
    mail_app.app.import_sample("interns", "interns.csv");
    mail_app
}

impl MailApp {
    /// Puts `raw` straight into choixbot's INBOX on disk, as Dovecot would
    /// (for bytes no SMTP server would carry). The INBOX must exist (after
    /// a first delivery).
    pub fn drop_into_inbox(&self, raw: &[u8]) {
        let new = self.stack.dir().join("mail").join(BOT).join("Maildir").join("new");
        let path = new.join(format!("{}.fault{}.localhost", chrono::Utc::now().timestamp(), rand_suffix()));
        std::fs::write(&path, raw).unwrap();
        std::os::unix::fs::chown(&path, Some(8), Some(8)).unwrap();
    }

    /// Makes Postfix accept `address` again (drops it from the reject and
    /// defer table) and restarts Postfix so that it reads the table again.
    pub fn allow_recipient(&mut self, address: &str) {
        let table = self.stack.dir().join("postfix").join("recipient_access");
        let text = std::fs::read_to_string(&table).unwrap();
        let kept: String =
            text.lines().filter(|l| !l.starts_with(address)).map(|l| format!("{l}\n")).collect();
        std::fs::write(&table, kept).unwrap();
        self.stack.stop_smtp();
        self.stack.start_smtp().expect("Postfix starts again");
    }

    /// (status, attempts, last error) of the outbox messages to `address`.
    pub async fn outbox_to(&self, address: &str) -> Vec<(String, i64, Option<String>)> {
        use sqlx::Row;
        let store = self.app.store().await;
        let rows = sqlx::query("SELECT status, attempts, last_error, recipients FROM outbox ORDER BY id")
            .fetch_all(store.pool())
            .await
            .unwrap();
        rows.iter()
            .filter(|row| row.get::<String, _>(3).contains(address))
            .map(|row| (row.get(0), row.get(1), row.get(2)))
            .collect()
    }

    /// Waits until the outbox rows to `address` satisfy `done`.
    pub async fn wait_for_outbox(
        &self,
        address: &str,
        what: &str,
        done: impl Fn(&[(String, i64, Option<String>)]) -> bool,
    ) {
        let reached = poll_until(Duration::from_secs(60), Duration::from_millis(250), || async {
            done(&self.outbox_to(address).await).then_some(())
        })
        .await;
        if reached.is_none() {
            panic!("never reached: {what}: {:?}\n{}", self.outbox_to(address).await, self.daemon_logs());
        }
    }
}

/// A short retry schedule (1 s, then 2 s) for the outage tests.
pub const FAST_RETRY: [(&str, &str); 2] =
    [("smtp", "retry_first_seconds = 1"), ("smtp", "retry_max_seconds = 2")];

impl MailApp {
    /// Puts `raw` into choixbot's INBOX with IMAP APPEND, as received by
    /// the server at `received` (its INTERNALDATE): how a test makes a
    /// reply that reached the mailbox after a deadline that, for the
    /// daemon's moved clock, has passed. Straight to Dovecot, whatever
    /// proxy the daemon goes through.
    pub async fn append_received_at(&self, raw: &str, received: chrono::DateTime<chrono::Utc>) {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.stack.imap_port())).await.unwrap();
        let mut client = async_imap::Client::new(tcp);
        client.read_response().await.expect("a greeting").expect("a greeting");
        let mut session = client.login(BOT, self.stack.password()).await.map_err(|(e, _)| e).expect("login");
        let date = received.format("\"%d-%b-%Y %H:%M:%S +0000\"").to_string();
        session.append("INBOX", None, Some(&date), raw.as_bytes()).await.expect("APPEND is accepted");
        let _ = session.logout().await;
    }

    /// How many messages wait in choixbot's INBOX now.
    pub fn inbox_len(&self) -> usize {
        self.stack.messages_in(BOT, "INBOX").len()
    }
}

/// The bytes of the attachment of the list to the ARS whose name ends with
/// `extension` (".csv", ".xlsx").
pub fn list_attachment(list: &[u8], extension: &str) -> Vec<u8> {
    use mail_parser::MimeHeaders;
    let message = mail_parser::MessageParser::default().parse(list).expect("a parsable list");
    let attachment = message
        .attachments()
        .find(|a| a.attachment_name().is_some_and(|n| n.ends_with(extension)))
        .unwrap_or_else(|| panic!("the list has no {extension} attachment"))
        .contents()
        .to_vec();
    attachment
}

impl MailApp {
    /// The end of a scenario: waits until `n` messages are recorded, every
    /// answer sent and choixbot's INBOX done with, stops `daemon`, then waits
    /// until Postfix has delivered every answer, so that counts are final.
    pub async fn settle_and_stop(&self, daemon: RunningDaemon, n: i64) {
        self.wait_until_settled(n).await;
        // Moved away, or (on a server without UIDPLUS) copied away and
        // flagged \Deleted.
        let what = "every message of choixbot's INBOX moved away";
        eventually_blocking(what, Duration::from_secs(60), Duration::from_millis(100), || {
            let left = self.stack.messages_in(BOT, "INBOX").len();
            (self.stack.flagged_deleted_in(BOT, "INBOX") == left).then_some(())
        });
        daemon.stop().await;
        self.wait_for_postfix_idle();
    }

    /// Each of `interns` has exactly one recorded message, confirmed, and
    /// received exactly one answer.
    pub async fn check_each_answered_once(&self, interns: &[&str]) {
        let rows = self.decided().await;
        for intern in interns {
            let theirs: Vec<&DecidedRow> =
                rows.iter().filter(|r| r.intern.as_deref() == Some(intern)).collect();
            assert_eq!(theirs.len(), 1, "{intern} was decided {} times: {rows:#?}", theirs.len());
            assert_eq!(theirs[0].verdict, "confirmed", "{intern}: {rows:#?}");
            let answers = self.received_ids(intern);
            assert_eq!(answers.len(), 1, "{intern} received {answers:?}\n{}", self.daemon_logs());
        }
    }
}
