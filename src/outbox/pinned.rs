//! The outbox's SMTP connections, opened by choixbot itself rather than by
//! lettre's pool, for two reasons:
//!
//! - **TCP_NODELAY.** lettre writes a message and then its final
//!   `\r\n.\r\n` in two writes on a socket it never sets TCP_NODELAY on.
//!   Nagle's algorithm holds the second, small write until the server
//!   acknowledges the first, and the server, waiting for the end of the
//!   message, delays that acknowledgement (40 ms on Linux). Over 8
//!   connections to the test Postfix, 2,000 messages took 11.6 s that way
//!   and 3.6 s with TCP_NODELAY (`examples/nagle_probe.rs`): the outbox
//!   sent at about 250 a second where `smtp-source` reached 370.
//! - **A server's own certificate.** lettre's rustls backend takes no
//!   certificate verifier, and webpki refuses a certificate marked CA:TRUE
//!   as a server's (`CaUsedAsEndEntity`) even when it is its own trust
//!   anchor. Here the TLS is made with the IMAP connection's check
//!   (`mailbox::pinning`): the certificate of `ca_file`, or the one whose
//!   fingerprint is `tls_fingerprint`, is trusted as it is; otherwise the
//!   usual web roots.
//!
//! lettre then speaks SMTP on that stream
//! (`AsyncSmtpConnection::connect_with_transport`); the transport keeps
//! the connections open between sends (`super::transport`).
//!
//! With STARTTLS the greeting, EHLO and STARTTLS are exchanged here in
//! clear, as a client must; lettre then reads the server's greeting again
//! ([`Replayed`]) and sends its EHLO over the encrypted stream, as
//! RFC 3207 §4.2 asks after a STARTTLS.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream};
use lettre::transport::smtp::extension::ClientId;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::TlsConnector;

use crate::mailbox::pinning::client_config;
use crate::settings::{Security, SmtpSettings};

/// Whether `choixbot check` opens its connection here from the start:
/// `tls_fingerprint` names the certificate to trust. (With `ca_file`
/// alone, only once lettre's TLS refused the certificate it holds, so
/// the check can say why.)
pub fn from_the_start(settings: &SmtpSettings) -> bool {
    settings.security != Security::None && settings.tls_fingerprint().is_some()
}

/// Connects to the SMTP server of `settings` (over choixbot's own TLS,
/// unless `security = "none"`) and returns lettre's connection, greeted
/// and EHLO'd. Every failure is before any mail command: the caller may
/// retry.
pub async fn connect(settings: &SmtpSettings, timeout: Duration) -> Result<AsyncSmtpConnection> {
    let address = format!("{}:{}", settings.host, settings.port);
    let within = |step: &'static str| move |_| anyhow!("{step} timed out after {}s", timeout.as_secs());
    let tcp = tokio::time::timeout(timeout, TcpStream::connect((settings.host.as_str(), settings.port)))
        .await
        .map_err(within("TCP connect"))?
        .map_err(|error| anyhow!("TCP connect failed: {error}"))?;
    tcp.set_nodelay(true)?;
    let peer = tcp.peer_addr()?;
    let hello = ClientId::default();
    let (tcp, greeting) = match settings.security {
        Security::Starttls => {
            tokio::time::timeout(timeout, starttls(tcp)).await.map_err(within("STARTTLS"))??
        }
        Security::Tls => (tcp, Vec::new()),
        Security::None => {
            let connecting = AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &hello);
            return greeted(connecting, timeout, &address).await;
        }
    };
    let config = client_config(settings.ca_file(), settings.tls_fingerprint())?;
    let name = ServerName::try_from(settings.host.clone())
        .map_err(|_| anyhow!("{:?} is not a valid host name for TLS", settings.host))?;
    let tls = tokio::time::timeout(timeout, TlsConnector::from(Arc::new(config)).connect(name, tcp))
        .await
        .map_err(within("TLS handshake"))?
        .map_err(|error| match crate::mailbox::certificate_problem(&error) {
            Some(detail) => anyhow!("the TLS handshake refused its certificate: {detail}"),
            None => anyhow!("TLS handshake failed: {error}"),
        })?;
    let stream = Replayed { greeting, read: 0, tls, peer };
    greeted(AsyncSmtpConnection::connect_with_transport(Box::new(stream), &hello), timeout, &address).await
}

/// lettre's greeting and EHLO, within `timeout`.
async fn greeted(
    connecting: impl std::future::Future<Output = Result<AsyncSmtpConnection, lettre::transport::smtp::Error>>,
    timeout: Duration,
    address: &str,
) -> Result<AsyncSmtpConnection> {
    tokio::time::timeout(timeout, connecting)
        .await
        .map_err(|_| anyhow!("the greeting timed out after {}s", timeout.as_secs()))?
        .map_err(|error| anyhow!("{error}"))
        .map_err(|error| error.context(format!("SMTP server {address}")))
}

/// Reads the greeting, says EHLO, asks for STARTTLS; gives the stream
/// back, ready for the handshake, with the greeting to replay.
async fn starttls(tcp: TcpStream) -> Result<(TcpStream, Vec<u8>)> {
    let mut reader = BufReader::new(tcp);
    let greeting = reply(&mut reader, "220").await.map_err(|e| e.context("the greeting"))?;
    reader.get_mut().write_all(format!("EHLO {}\r\n", ClientId::default()).as_bytes()).await?;
    let ehlo = reply(&mut reader, "250").await.map_err(|e| e.context("EHLO"))?;
    if !String::from_utf8_lossy(&ehlo).to_ascii_uppercase().contains("STARTTLS") {
        bail!("the server does not offer STARTTLS");
    }
    reader.get_mut().write_all(b"STARTTLS\r\n").await?;
    reply(&mut reader, "220").await.map_err(|e| e.context("STARTTLS"))?;
    if !reader.buffer().is_empty() {
        // Bytes sent before the TLS began could be an attacker's.
        bail!("the server sent data after agreeing to STARTTLS");
    }
    Ok((reader.into_inner(), greeting))
}

/// One SMTP reply (its lines up to the one with a space after the code),
/// which must have `code`; returns its bytes.
async fn reply(reader: &mut BufReader<TcpStream>, code: &str) -> Result<Vec<u8>> {
    let mut all = Vec::new();
    loop {
        let mut line = Vec::new();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            bail!("the server closed the connection");
        }
        all.extend_from_slice(&line);
        if !line.starts_with(code.as_bytes()) {
            bail!("unexpected reply: {}", String::from_utf8_lossy(&line).trim_end());
        }
        if line.get(3) != Some(&b'-') {
            return Ok(all);
        }
    }
}

/// The TLS stream, with the server's first greeting read again before it
/// (after a STARTTLS; empty with TLS from the first byte).
struct Replayed {
    /// The greeting to replay.
    greeting: Vec<u8>,
    /// How much of it lettre has read.
    read: usize,
    /// The connection.
    tls: TlsStream<TcpStream>,
    /// The server's address.
    peer: SocketAddr,
}

impl std::fmt::Debug for Replayed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replayed").field("peer", &self.peer).finish_non_exhaustive()
    }
}

impl AsyncRead for Replayed {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.read < self.greeting.len() {
            let n = buf.remaining().min(self.greeting.len() - self.read);
            let start = self.read;
            buf.put_slice(&self.greeting[start..start + n]);
            self.read += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.tls).poll_read(cx, buf)
    }
}

impl AsyncWrite for Replayed {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.tls).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.tls).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.tls).poll_shutdown(cx)
    }
}

impl AsyncTokioStream for Replayed {
    fn peer_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.peer)
    }
}
