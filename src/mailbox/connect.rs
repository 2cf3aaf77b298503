//! Opening the IMAP connection: TCP, then TLS from the first byte (`tls`),
//! after a STARTTLS (`starttls`), or not at all (`none`), with a timeout on
//! each step. The certificate is checked against the Mozilla roots
//! (webpki-roots) plus the optional `ca_file`, for a server with its own CA.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;

use super::pinning::PinningVerifier;
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
    let config = tls_config(settings.ca_file(), settings.tls_fingerprint())?;
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

/// A rustls configuration trusting the Mozilla roots and `ca_file` (a
/// private CA, or the server's own certificate, pinned), and the
/// certificate whose fingerprint is `fingerprint` (see `pinning.rs`).
pub fn tls_config(ca_file: Option<&std::path::Path>, fingerprint: Option<&str>) -> Result<ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let pinned = match ca_file {
        Some(path) => read_pem_certificates(path)?,
        None => Vec::new(),
    };
    if let Some(path) = ca_file {
        for certificate in &pinned {
            roots
                .add(certificate.clone())
                .with_context(|| format!("the CA file {} holds an unusable certificate", path.display()))?;
        }
    }
    // The provider is named rather than taken from the process default, so
    // this works whatever other crates enabled in rustls.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let webpki =
        rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .context("cannot build the certificate verifier")?;
    let verifier = PinningVerifier::new(pinned, fingerprint.map(str::to_string), webpki, provider.clone());
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("no TLS protocol version available")?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth())
}

fn read_pem_certificates(path: &std::path::Path) -> Result<Vec<CertificateDer<'static>>> {
    let pem = std::fs::read(path).with_context(|| format!("cannot read the CA file {}", path.display()))?;
    let certificates = rustls_pemfile::certs(&mut pem.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("the CA file {} is not PEM", path.display()))?;
    if certificates.is_empty() {
        bail!("the CA file {} holds no certificate", path.display());
    }
    Ok(certificates)
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
