//! `choixbot check`'s look at the SMTP server: connect, secure, log in,
//! and have the server accept the sender (MAIL FROM, then RSET), without
//! sending anything. Each step that fails says which it was, for the check
//! to say what to change.

use std::time::Duration;

use anyhow::Context;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::commands::{Mail, Rset};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::Error as SmtpError;
use lettre::Address;
use secrecy::{ExposeSecret, SecretString};

use crate::settings::{Security, SmtpSettings};

/// The step of [`probe`] that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Reaching the server, its greeting, EHLO, TLS.
    Connect,
    /// SMTP AUTH.
    Login,
    /// MAIL FROM with the configured sender.
    Sender,
}

/// What [`probe`] found wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct ProbeFailure {
    /// Where it failed.
    pub step: Step,
    /// What the server or the network said.
    pub detail: String,
}

/// What [`probe`] found working.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probed {
    /// Whether the connection was encrypted.
    pub encrypted: bool,
    /// Whether it logged in (false: no credentials configured).
    pub logged_in: bool,
}

/// Connects to the SMTP server of `settings`, logs in with `credentials`
/// when given (a password, or an access token with `smtp.auth =
/// "oauth2"`), and checks that `sender` may send (MAIL FROM, then RSET and
/// QUIT): no message is sent.
pub async fn probe(
    settings: &SmtpSettings,
    credentials: Option<(String, SecretString)>,
    sender: &str,
) -> Result<Probed, ProbeFailure> {
    let address = format!("{}:{}", settings.host, settings.port);
    let failure = |step, detail: String| ProbeFailure { step, detail };
    let connect =
        |error: String| failure(Step::Connect, format!("cannot connect to SMTP server {address}: {error}"));
    let timeout = Duration::from_secs(settings.timeout_seconds.max(1));
    let mut connection = open(settings, timeout).await.map_err(connect)?;
    let logged_in = credentials.is_some();
    if let Some((username, password)) = credentials {
        let credentials = Credentials::new(username.clone(), password.expose_secret().to_string());
        // With `smtp.auth = "oauth2"` the secret is an access token.
        let mechanisms = match settings.auth {
            crate::settings::Auth::Password => DEFAULT_MECHANISMS,
            crate::settings::Auth::Oauth2 => &[lettre::transport::smtp::authentication::Mechanism::Xoauth2],
        };
        connection.auth(mechanisms, &credentials).await.map_err(|error| {
            failure(Step::Login, format!("SMTP login failed for {username} on {address}: {error}"))
        })?;
    }
    let from: Address = sender.parse().map_err(|error| {
        failure(Step::Sender, format!("the sender {sender:?} is not an address: {error}"))
    })?;
    connection.command(Mail::new(Some(from), Vec::new())).await.map_err(|error| {
        failure(Step::Sender, format!("SMTP server {address} refuses the sender <{sender}>: {error}"))
    })?;
    let _ = connection.command(Rset).await;
    let _ = connection.quit().await;
    let encrypted = connection.is_encrypted() || settings.security != Security::None;
    Ok(Probed { encrypted, logged_in })
}

/// The connection, greeted and secured: lettre's TLS first, then
/// choixbot's own (`super::pinned`, which the outbox always uses) for a
/// server's own certificate, so that a refusal says which setting would
/// trust it.
async fn open(settings: &SmtpSettings, timeout: Duration) -> Result<AsyncSmtpConnection, String> {
    let pinned =
        || async { super::pinned::connect(settings, timeout).await.map_err(|error| format!("{error:#}")) };
    if super::pinned::from_the_start(settings) {
        return pinned().await;
    }
    let tls = || tls_parameters(settings).map_err(|error| format!("{error:#}"));
    let hello = ClientId::default();
    let wrapper = match settings.security {
        Security::Tls => Some(tls()?),
        _ => None,
    };
    let server = (settings.host.as_str(), settings.port);
    let opened = match AsyncSmtpConnection::connect_tokio1(server, Some(timeout), &hello, wrapper, None).await
    {
        Ok(mut connection) if settings.security == Security::Starttls => {
            connection.starttls(tls()?, &hello).await.map(|()| connection)
        }
        other => other,
    };
    match opened {
        Ok(connection) => Ok(connection),
        // lettre's TLS cannot trust a server's own self-signed certificate
        // given as ca_file; choixbot's can (the outbox always uses it).
        // Without one, choixbot's check says which fingerprint would trust
        // it.
        Err(error) if certificate_refused(&error) => pinned().await,
        Err(error) => Err(error.to_string()),
    }
}

/// Whether lettre's TLS refused the server's certificate (rustls's
/// "invalid peer certificate", which lettre reports as a connection error).
fn certificate_refused(error: &SmtpError) -> bool {
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

/// lettre's TLS for `settings`: the web roots, plus the certificate of
/// `ca_file` as a root.
fn tls_parameters(settings: &SmtpSettings) -> anyhow::Result<TlsParameters> {
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
