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
    let stack = tokio::task::spawn_blocking(MailStack::start)
        .await
        .unwrap()
        .unwrap_or_else(|error| panic!("cannot start the mail stack (Dovecot + Postfix): {error:#}"));
    let app = spawn_app().await;
    let mail_app = MailApp { app, stack };
    mail_app.write_config(deadline);
    mail_app.app.import_sample("posts", "posts.csv");
    mail_app.app.import_sample("interns", "interns.csv");
    mail_app
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
        let store = self.app.store().await;
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
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let found = self.mailbox(address).into_iter().find(|raw| {
                let (subject, text) = subject_and_text(raw);
                matches(&subject, &text)
            });
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
