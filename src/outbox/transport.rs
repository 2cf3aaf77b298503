//! Handing a finished message to the SMTP server, and saying what became of
//! it in the four cases the outbox must tell apart (SPEC §7): accepted, try
//! again later, never (5xx), or unknown (the connection broke while the
//! message was being sent, so the server may have it).
//!
//! It uses lettre's pooled `AsyncSmtpTransport` (connections are reused
//! across sends; the pool checks a connection before reusing it).
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

use std::time::Duration;

use anyhow::{Context, Result};
use lettre::address::Envelope;
use std::sync::Arc;

use lettre::transport::smtp::authentication::{Credentials, Mechanism, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::AsyncSmtpTransportBuilder;
use lettre::transport::smtp::Error as SmtpError;
use lettre::transport::smtp::PoolConfig;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};

use tracing::info;

use crate::oauth::TokenSource;
use crate::settings::{Auth, Security, SmtpSettings};

/// How many messages the outbox sends at once, and how many connections the
/// pool keeps. Each send waits on a few round trips and on the server
/// writing its queue file, so throughput grows with the connections: with
/// 8 the storm benchmark sent half as fast as Postfix's `smtp-source` did.
/// lettre's pool keeps 10 by default; a larger concurrency than the pool
/// would reconnect for every send above it.
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

/// The outgoing SMTP server, with a pool of connections.
#[derive(Clone)]
pub struct SmtpTransport {
    /// lettre's pooled transport (with the password, or none).
    inner: AsyncSmtpTransport<Tokio1Executor>,
    /// With `smtp.auth = "oauth2"`: the pool for the current access token.
    oauth2: Option<Arc<OAuth2Pool>>,
    /// `HOST:PORT`, for messages.
    address: String,
    /// The deadline of one whole send.
    timeout: Duration,
    /// `smtp.*`, for the connections over choixbot's own TLS.
    settings: Arc<SmtpSettings>,
    /// The password login, if any (with OAuth2 the pool's tokens are used).
    credentials: Option<(String, SecretString)>,
    /// Whether to send over choixbot's own TLS (`super::pinned`): from the
    /// start with `tls_fingerprint`, and for good once lettre's TLS refused
    /// the server's certificate that `ca_file` trusts as it is.
    pinned: Arc<std::sync::atomic::AtomicBool>,
}

/// lettre takes fixed credentials: a new access token means a new pool.
/// The connections of the old one were authenticated already and still
/// send until they close.
struct OAuth2Pool {
    /// The tokens, shared with IMAP.
    tokens: Arc<TokenSource>,
    /// `smtp.*`, to build the pool again.
    settings: SmtpSettings,
    /// The login the token is for.
    username: String,
    /// The pool and the generation of the token it logs in with.
    current: std::sync::Mutex<Option<(u64, AsyncSmtpTransport<Tokio1Executor>)>>,
}

impl OAuth2Pool {
    /// The pool for a valid token, and that token's generation.
    async fn transport(&self) -> Result<(AsyncSmtpTransport<Tokio1Executor>, u64)> {
        let (token, generation) = self.tokens.access_token().await?;
        let mut current = self.current.lock().expect("the SMTP pool lock");
        if let Some((built, transport)) = current.as_ref() {
            if *built == generation {
                return Ok((transport.clone(), generation));
            }
        }
        let transport = builder(&self.settings)?
            .credentials(Credentials::new(self.username.clone(), token.expose_secret().to_string()))
            .authentication(vec![Mechanism::Xoauth2])
            .build();
        *current = Some((generation, transport.clone()));
        Ok((transport, generation))
    }
}

impl SmtpTransport {
    /// Builds the transport; nothing is connected until the first send.
    /// `credentials` comes from [`SmtpSettings::credentials`].
    pub fn new(
        settings: &SmtpSettings,
        credentials: Option<(String, SecretString)>,
    ) -> Result<SmtpTransport> {
        let timeout = Duration::from_secs(settings.timeout_seconds.max(1));
        let address = format!("{}:{}", settings.host, settings.port);
        let mut builder = builder(settings)?;
        if let Some((username, password)) = &credentials {
            builder =
                builder.credentials(Credentials::new(username.clone(), password.expose_secret().to_string()));
        }
        let pinned = super::pinned::from_the_start(settings);
        Ok(SmtpTransport {
            inner: builder.build(),
            oauth2: None,
            address,
            timeout,
            settings: Arc::new(settings.clone()),
            credentials,
            pinned: Arc::new(std::sync::atomic::AtomicBool::new(pinned)),
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
        transport.oauth2 = Some(Arc::new(OAuth2Pool {
            tokens: tokens.clone(),
            settings: settings.clone(),
            username: username.to_string(),
            current: std::sync::Mutex::new(None),
        }));
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
        if self.pinned.load(std::sync::atomic::Ordering::Relaxed) {
            return self.send_pinned(&envelope, raw).await;
        }
        let (transport, generation) = match &self.oauth2 {
            None => (self.inner.clone(), None),
            Some(pool) => match pool.transport().await {
                Ok((transport, generation)) => (transport, Some(generation)),
                // Nothing was sent; a revoked authorization is told to
                // the referents by the mailbox, which needs it too.
                Err(error) => {
                    return SendOutcome::Transient(format!("SMTP server {}: {error:#}", self.address))
                }
            },
        };
        match tokio::time::timeout(self.timeout, transport.send_raw(&envelope, raw)).await {
            Ok(Ok(_response)) => SendOutcome::Accepted,
            Ok(Err(error)) if generation.is_some() && is_authentication_refused(&error) => {
                self.token_refused(generation, &error).await
            }
            Ok(Err(error)) if certificate_refused(&error) && self.settings.ca_file().is_some() => {
                // lettre's TLS cannot trust a server's own self-signed
                // certificate (CA:TRUE): try choixbot's, which can. The TLS
                // failed before any command, so nothing was sent.
                let outcome = self.send_pinned(&envelope, raw).await;
                if !matches!(outcome, SendOutcome::Transient(_)) {
                    info!(server = %self.address, "SMTP over choixbot's own TLS: ca_file holds the server's own certificate");
                    self.pinned.store(true, std::sync::atomic::Ordering::Relaxed);
                }
                outcome
            }
            Ok(Err(error)) => classify(&error, &self.address),
            Err(_) => self.too_long(),
        }
    }

    /// One send on a connection of its own over choixbot's own TLS.
    async fn send_pinned(&self, envelope: &Envelope, raw: &[u8]) -> SendOutcome {
        let (credentials, generation) = match &self.oauth2 {
            None => (self.credentials.clone(), None),
            Some(pool) => match pool.tokens.access_token().await {
                Ok((token, generation)) => (Some((pool.username.clone(), token)), Some(generation)),
                Err(error) => {
                    return SendOutcome::Transient(format!("SMTP server {}: {error:#}", self.address))
                }
            },
        };
        let mut connection = match super::pinned::connect(&self.settings, self.timeout).await {
            Ok(connection) => connection,
            Err(error) => {
                return SendOutcome::Transient(format!(
                    "cannot connect to SMTP server {}: {error:#}",
                    self.address
                ))
            }
        };
        if let Some((username, secret)) = credentials {
            let mechanisms = match self.settings.auth {
                Auth::Password => DEFAULT_MECHANISMS,
                Auth::Oauth2 => &[Mechanism::Xoauth2],
            };
            let login = Credentials::new(username, secret.expose_secret().to_string());
            match tokio::time::timeout(self.timeout, connection.auth(mechanisms, &login)).await {
                Ok(Ok(_)) => {}
                Ok(Err(error)) if generation.is_some() && is_authentication_refused(&error) => {
                    return self.token_refused(generation, &error).await
                }
                Ok(Err(error)) => return classify(&error, &self.address),
                // Before any mail command: nothing was sent.
                Err(_) => return SendOutcome::Transient(format!("SMTP login on {} timed out", self.address)),
            }
        }
        match tokio::time::timeout(self.timeout, connection.send(envelope, raw)).await {
            Ok(Ok(_response)) => {
                let _ = connection.quit().await;
                SendOutcome::Accepted
            }
            Ok(Err(error)) => classify(&error, &self.address),
            Err(_) => self.too_long(),
        }
    }

    /// Refused at AUTH, before any mail command: a new token at the next
    /// attempt.
    async fn token_refused(&self, generation: Option<u64>, error: &SmtpError) -> SendOutcome {
        if let (Some(pool), Some(generation)) = (&self.oauth2, generation) {
            pool.tokens.refused(generation).await;
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

/// lettre's builder for `settings`, without credentials.
fn builder(settings: &SmtpSettings) -> Result<AsyncSmtpTransportBuilder> {
    let timeout = Duration::from_secs(settings.timeout_seconds.max(1));
    let builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(settings.host.as_str())
        .port(settings.port)
        .timeout(Some(timeout))
        .pool_config(PoolConfig::new().max_size(SEND_CONCURRENCY as u32));
    Ok(match settings.security {
        Security::Tls => builder.tls(Tls::Wrapper(tls_parameters(settings)?)),
        Security::Starttls => builder.tls(Tls::Required(tls_parameters(settings)?)),
        Security::None => builder.tls(Tls::None),
    })
}

/// Whether lettre's TLS refused the server's certificate (rustls's
/// "invalid peer certificate", which lettre reports as a connection error).
pub(super) fn certificate_refused(error: &SmtpError) -> bool {
    let mut cause = std::error::Error::source(error);
    while let Some(error) = cause {
        if let Some(io) = error.downcast_ref::<std::io::Error>() {
            if crate::mailbox::certificate_problem(io).is_some() {
                return true;
            }
        }
        cause = error.source();
    }
    false
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

pub(super) fn tls_parameters(settings: &SmtpSettings) -> Result<TlsParameters> {
    let mut builder = TlsParameters::builder(settings.host.clone());
    if let Some(path) = settings.ca_file() {
        let pem =
            std::fs::read(path).with_context(|| format!("cannot read the CA file {}", path.display()))?;
        let certificate = Certificate::from_pem(&pem)
            .with_context(|| format!("the CA file {} is not a PEM certificate", path.display()))?;
        builder = builder.add_root_certificate(certificate);
    }
    builder.build_rustls().context("cannot set up TLS for SMTP")
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
