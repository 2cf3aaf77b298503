//! Opening the IMAP connection: TCP, then TLS from the first byte (`tls`),
//! after a STARTTLS (`starttls`), or not at all (`none`), with a timeout on
//! each step. The certificate is checked against the Mozilla roots
//! (webpki-roots) plus the optional `ca_file`, for a server with its own CA.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::TlsConnector;

use super::pinning::client_config;
use super::refusal::{certificate_problem, Refusal};
use crate::settings::{ImapSettings, Security};

/// What async-imap needs of the connection, plain or TLS.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug> Io for T {}

/// The connection under the IMAP client, whatever its security.
pub type Stream = Box<dyn Io>;

/// An IMAP client before login.
pub type Client = async_imap::Client<Stream>;

/// Connects and reads the greeting; after STARTTLS when asked.
pub async fn open(settings: &ImapSettings, timeout: Duration) -> Result<Client> {
    let address = format!("{}:{}", settings.host, settings.port);
    // A refusal keeps its type (the daemon tells the referents about it);
    // anything else is worded with the address.
    let failed = |error: anyhow::Error| match error.downcast::<Refusal>() {
        Ok(refusal) => anyhow!(refusal),
        Err(error) => anyhow!("cannot connect to IMAP server {address}: {error:#}"),
    };
    let tcp = within(timeout, "TCP connect", TcpStream::connect((settings.host.as_str(), settings.port)))
        .await
        .map_err(failed)?;
    tcp.set_nodelay(true).ok();
    let client = match settings.security {
        Security::None => greeted(Box::new(tcp) as Stream, timeout).await.map_err(failed)?,
        Security::Tls => {
            let tls = handshake(settings, tcp, timeout).await.map_err(failed)?;
            greeted(Box::new(tls), timeout).await.map_err(failed)?
        }
        Security::Starttls => {
            let mut plain = greeted(Box::new(tcp) as Stream, timeout).await.map_err(failed)?;
            within(timeout, "STARTTLS", plain.run_command_and_check_ok("STARTTLS", None))
                .await
                .map_err(failed)?;
            // No greeting after STARTTLS: the server waits for the client.
            let tcp = plain.into_inner();
            Client::new(Box::new(handshake(settings, tcp, timeout).await.map_err(failed)?))
        }
    };
    Ok(client)
}

/// Wraps the stream in a client and reads the server's `* OK` greeting.
async fn greeted(stream: Stream, timeout: Duration) -> Result<Client> {
    let mut client = Client::new(stream);
    match within(timeout, "greeting", async { Ok::<_, anyhow::Error>(client.read_response().await) }).await? {
        Some(Ok(_greeting)) => Ok(client),
        Some(Err(error)) => bail!("no greeting: {error}"),
        None => bail!("the server closed the connection before its greeting"),
    }
}

async fn handshake<S: AsyncRead + AsyncWrite + Unpin>(
    settings: &ImapSettings,
    stream: S,
    timeout: Duration,
) -> Result<tokio_rustls::client::TlsStream<S>> {
    let config = client_config(settings.ca_file(), settings.tls_fingerprint())?;
    let name = ServerName::try_from(settings.host.clone())
        .map_err(|_| anyhow!("{:?} is not a valid host name for TLS", settings.host))?;
    let address = format!("{}:{}", settings.host, settings.port);
    match tokio::time::timeout(timeout, TlsConnector::from(Arc::new(config)).connect(name, stream)).await {
        Ok(Ok(tls)) => Ok(tls),
        Ok(Err(error)) => match certificate_problem(&error) {
            Some(detail) => Err(anyhow!(Refusal::Certificate { address, detail })),
            None => Err(anyhow!(error).context("TLS handshake failed")),
        },
        Err(_) => bail!("TLS handshake timed out after {}s", timeout.as_secs_f32()),
    }
}

/// Runs `step` with a deadline; the error names the step.
pub async fn within<T, E>(
    timeout: Duration,
    step: &str,
    future: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T>
where
    E: Into<anyhow::Error>,
{
    match tokio::time::timeout(timeout, future).await {
        Ok(result) => result.map_err(|error| error.into().context(format!("{step} failed"))),
        Err(_) => bail!("{step} timed out after {}s", timeout.as_secs_f32()),
    }
}
