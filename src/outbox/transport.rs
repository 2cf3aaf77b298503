//! Handing a finished message to the SMTP server, and saying what became of
//! it in the four cases the outbox must tell apart (SPEC §7): accepted, try
//! again later, never (5xx), or unknown (the connection broke while the
//! message was being sent, so the server may have it).
//!
//! lettre speaks SMTP on connections choixbot opens itself
//! (`super::pinned`, which says why: TCP_NODELAY, and a server's own
//! certificate), kept open between sends and checked with a NOOP before
//! each reuse.
//!
//! # What lettre lets us distinguish
//!
//! lettre reports a reply code (`status()`, `is_transient()` for 4xx,
//! `is_permanent()` for 5xx) but not the phase of the dialogue a failure
//! happened in. Its error kinds are told apart by `Display`'s prefix (lettre
//! has no accessor for them): "Connection error" is raised only while
//! opening the TCP connection, before any command, so it is safely
//! [`SendOutcome::Transient`]; a TLS error happens during the handshake,
//! before any mail command, so it is transient too. A "network error" (an
//! I/O error or EOF on an open connection) or a timeout may have happened
//! during MAIL/RCPT (harmless) or after DATA began (the server may have
//! queued the message): lettre does not say which, so both are
//! [`SendOutcome::Ambiguous`], never silently retried as if nothing had
//! been sent. The caller resends with the same Message-ID (SPEC §6), so a
//! duplicate can at least be recognised by the recipient's client.
//!
//! A 4xx or 5xx reply, even to the end of DATA, is a clear refusal: the
//! message was not accepted, so those are transient and permanent.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::AsyncSmtpConnection;
use lettre::transport::smtp::Error as SmtpError;
use lettre::Address;
use secrecy::{ExposeSecret, SecretString};

use crate::oauth::TokenSource;
use crate::settings::{Auth, SmtpSettings};

/// How many messages the outbox sends at once, and how many connections
/// are kept open between sends. Each send waits on a few round trips and
/// on the server writing its queue file, so throughput grows with the
/// connections; a larger concurrency than the connections kept would
/// reconnect for every send above it.
pub const SEND_CONCURRENCY: usize = 16;

/// What became of one message handed to the SMTP server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// The server accepted the message (250 to the end of DATA).
    Accepted,
    /// Not sent, worth retrying later: a 4xx reply, or the server could not
    /// be reached (refused, reset or timed out before any command).
    Transient(String),
    /// Refused for good: a 5xx reply to MAIL, RCPT or DATA, or a message
    /// the client cannot send at all (e.g. 8-bit to a 7-bit server).
    Permanent(String),
    /// The connection failed while the message may have been on its way
    /// (a network error or a timeout after the connection was open): the
    /// server may have accepted it. The caller decides.
    Ambiguous(String),
}

/// The outgoing SMTP server, with the connections kept open between sends.
#[derive(Clone)]
pub struct SmtpTransport {
    /// With `smtp.auth = "oauth2"`: the tokens, and the login they are for.
    oauth2: Option<Arc<OAuth2>>,
    /// `HOST:PORT`, for messages.
    address: String,
    /// The deadline of one whole send.
    timeout: Duration,
    /// `smtp.*`, to open connections (`super::pinned`).
    settings: Arc<SmtpSettings>,
    /// The password login, if any (with OAuth2 the tokens are used).
    credentials: Option<(String, SecretString)>,
    /// Connections that sent their last message and wait for the next.
    idle: Arc<std::sync::Mutex<Vec<Idle>>>,
}

/// The OAuth2 login of the SMTP connections.
struct OAuth2 {
    /// The tokens, shared with IMAP.
    tokens: Arc<TokenSource>,
    /// The login the token is for.
    username: String,
}

/// An open, logged-in connection between two sends.
struct Idle {
    /// The connection.
    connection: AsyncSmtpConnection,
    /// When its last send ended.
    since: std::time::Instant,
}

/// How long a connection may wait for its next send before it is closed
/// rather than reused (lettre's pool used the same).
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

impl SmtpTransport {
    /// Builds the transport; nothing is connected until the first send.
    /// `credentials` comes from [`SmtpSettings::credentials`].
    pub fn new(
        settings: &SmtpSettings,
        credentials: Option<(String, SecretString)>,
    ) -> Result<SmtpTransport> {
        let timeout = Duration::from_secs(settings.timeout_seconds.max(1));
        let address = format!("{}:{}", settings.host, settings.port);
        // A broken CA file is told at the start, not at the first send.
        crate::mailbox::pinning::client_config(settings.ca_file(), settings.tls_fingerprint())?;
        Ok(SmtpTransport {
            oauth2: None,
            address,
            timeout,
            settings: Arc::new(settings.clone()),
            credentials,
            idle: Arc::new(std::sync::Mutex::new(Vec::new())),
        })
    }

    /// The transport for `settings`: with the password, or with tokens
    /// from `tokens` when `smtp.auth = "oauth2"`.
    pub fn for_settings(
        settings: &SmtpSettings,
        tokens: Option<&Arc<TokenSource>>,
    ) -> crate::Result<SmtpTransport> {
        if settings.auth != Auth::Oauth2 {
            return Ok(SmtpTransport::new(settings, settings.credentials()?)?);
        }
        let (Some(tokens), Some(username)) = (tokens, settings.credentials_username()) else {
            return Err(crate::Error::bad_input(
                "smtp.auth = \"oauth2\" needs smtp.username and an [oauth2] table",
            ));
        };
        let mut transport = SmtpTransport::new(settings, None)?;
        transport.oauth2 = Some(Arc::new(OAuth2 { tokens: tokens.clone(), username: username.to_string() }));
        Ok(transport)
    }

    /// Sends `raw` (a complete message, CRLF line endings) to `recipients`
    /// with `envelope_from` as the MAIL FROM (empty for the null sender
    /// `<>`, as bounces use).
    pub async fn send_raw(&self, envelope_from: &str, recipients: &[String], raw: &[u8]) -> SendOutcome {
        let envelope = match envelope(envelope_from, recipients) {
            Ok(envelope) => envelope,
            Err(error) => return SendOutcome::Permanent(format!("{error:#}")),
        };
        // lettre ends DATA with "\r\n.\r\n" whatever the message ends
        // with, so a message that already ends with a line break would gain
        // an empty line: the last break is left to lettre.
        let raw = raw.strip_suffix(b"\r\n").or_else(|| raw.strip_suffix(b"\n")).unwrap_or(raw);
        let mut connection = match self.reused().await {
            Some(connection) => connection,
            None => match self.open().await {
                Ok(connection) => connection,
                Err(outcome) => return outcome,
            },
        };
        match tokio::time::timeout(self.timeout, connection.send(&envelope, raw)).await {
            Ok(Ok(_response)) => {
                self.keep(connection);
                SendOutcome::Accepted
            }
            // lettre has closed the connection after any error.
            Ok(Err(error)) => classify(&error, &self.address),
            Err(_) => self.too_long(),
        }
    }

    /// An idle connection that still answers, if any. It is checked with
    /// a NOOP first, as lettre's pool did: a connection the server closed
    /// while it was idle then fails here, where nothing was sent, rather
    /// than at MAIL FROM, where a network error is ambiguous (see the
    /// module comment).
    async fn reused(&self) -> Option<AsyncSmtpConnection> {
        loop {
            let idle = self.idle.lock().expect("the SMTP connections' lock").pop()?;
            if idle.since.elapsed() > IDLE_TIMEOUT {
                continue;
            }
            let mut connection = idle.connection;
            if let Ok(true) = tokio::time::timeout(self.timeout, connection.test_connected()).await {
                return Some(connection);
            }
        }
    }

    /// Keeps `connection` for the next send, up to [`SEND_CONCURRENCY`]
    /// connections.
    fn keep(&self, connection: AsyncSmtpConnection) {
        let mut idle = self.idle.lock().expect("the SMTP connections' lock");
        idle.retain(|idle| idle.since.elapsed() <= IDLE_TIMEOUT);
        if idle.len() < SEND_CONCURRENCY {
            idle.push(Idle { connection, since: std::time::Instant::now() });
        }
    }

    /// Opens a connection and logs in. Every failure is before any mail
    /// command: the outcome is never ambiguous.
    async fn open(&self) -> Result<AsyncSmtpConnection, SendOutcome> {
        let (credentials, generation) = match &self.oauth2 {
            None => (self.credentials.clone(), None),
            Some(oauth2) => match oauth2.tokens.access_token().await {
                Ok((token, generation)) => (Some((oauth2.username.clone(), token)), Some(generation)),
                Err(error) => {
                    return Err(SendOutcome::Transient(format!("SMTP server {}: {error:#}", self.address)))
                }
            },
        };
        let mut connection = super::pinned::connect(&self.settings, self.timeout).await.map_err(|error| {
            SendOutcome::Transient(format!("cannot connect to SMTP server {}: {error:#}", self.address))
        })?;
        if let Some((username, secret)) = credentials {
            let mechanisms = match self.settings.auth {
                Auth::Password => DEFAULT_MECHANISMS,
                Auth::Oauth2 => &[Mechanism::Xoauth2],
            };
            let login = Credentials::new(username, secret.expose_secret().to_string());
            match tokio::time::timeout(self.timeout, connection.auth(mechanisms, &login)).await {
                Ok(Ok(_)) => {}
                Ok(Err(error)) if generation.is_some() && is_authentication_refused(&error) => {
                    return Err(self.token_refused(generation, &error).await)
                }
                Ok(Err(error)) => return Err(classify(&error, &self.address)),
                // Before any mail command: nothing was sent.
                Err(_) => {
                    return Err(SendOutcome::Transient(format!("SMTP login on {} timed out", self.address)))
                }
            }
        }
        Ok(connection)
    }

    /// Refused at AUTH, before any mail command: a new token at the next
    /// attempt.
    async fn token_refused(&self, generation: Option<u64>, error: &SmtpError) -> SendOutcome {
        if let (Some(oauth2), Some(generation)) = (&self.oauth2, generation) {
            oauth2.tokens.refused(generation).await;
        }
        SendOutcome::Transient(format!("SMTP server {} refused the OAuth2 token: {error}", self.address))
    }

    /// A send that took longer than the timeout: the server may have it.
    fn too_long(&self) -> SendOutcome {
        SendOutcome::Ambiguous(format!(
            "sending through SMTP server {} took more than {}s",
            self.address,
            self.timeout.as_secs()
        ))
    }
}

/// The server refused the credentials at AUTH, before any mail command.
///
/// Refusing an XOAUTH2 token, a server first sends a challenge holding a
/// JSON error (Google's protocol, which Dovecot follows), and waits for an
/// empty line before its 535. lettre's XOAUTH2 does not answer challenges:
/// it gives up with a client error, "This mechanism does not expect a
/// challenge". Both mean the token was refused.
fn is_authentication_refused(error: &SmtpError) -> bool {
    let text = error.to_string();
    (error.is_client() && text.contains("does not expect a challenge"))
        || (error.is_permanent() && (text.contains("(535)") || text.contains("(534)")))
}

fn envelope(from: &str, recipients: &[String]) -> Result<Envelope> {
    let from = match from.trim() {
        "" => None,
        address => {
            Some(address.parse::<Address>().with_context(|| format!("bad envelope sender {address:?}"))?)
        }
    };
    let to = recipients
        .iter()
        .map(|address| {
            address.trim().parse::<Address>().with_context(|| format!("bad recipient {address:?}"))
        })
        .collect::<Result<Vec<_>>>()?;
    Envelope::new(from, to).context("no recipient")
}

/// Sorts a lettre error into the four outcomes (see the module comment).
fn classify(error: &SmtpError, address: &str) -> SendOutcome {
    let text = format!("SMTP server {address}: {error}");
    // "Connection error" is only raised while opening the connection.
    let not_connected = !error.is_timeout() && error.to_string().starts_with("Connection error");
    if error.is_permanent() || error.is_client() {
        SendOutcome::Permanent(text)
    } else if error.is_transient() || error.is_tls() || error.is_transport_shutdown() || not_connected {
        SendOutcome::Transient(text)
    } else {
        SendOutcome::Ambiguous(text)
    }
}
