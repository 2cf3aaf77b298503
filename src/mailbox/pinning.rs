//! Trusting a server's own certificate, as mail programs do after "accept
//! this certificate": a small server of the association's own often has a
//! self-signed certificate made by `openssl req -x509`, which marks it
//! CA:TRUE. webpki refuses such a certificate as a server's
//! (`CaUsedAsEndEntity`) even when it is its own trust anchor, so the usual
//! chain check cannot trust it. Pinning can: a certificate that is exactly
//! one of `ca_file`'s, or whose SHA-256 fingerprint is `tls_fingerprint`,
//! is the server's, whatever its extensions. Any other certificate goes
//! through the usual check against the Mozilla roots and `ca_file` (a
//! private CA), and a refusal says which fingerprint the server showed and
//! which setting would trust it.

use std::sync::Arc;

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};
use tokio_rustls::rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use tokio_rustls::rustls::client::WebPkiServerVerifier;
use tokio_rustls::rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::{
    self, CertificateError, ClientConfig, DigitallySignedStruct, OtherError, RootCertStore, SignatureScheme,
};

/// `sha256:` and the lowercase hex of the certificate's SHA-256, the form
/// of `tls_fingerprint`.
pub fn fingerprint(certificate: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(certificate)))
}

/// Normalises a configured fingerprint: `sha256:` optional, colons and
/// case ignored (browsers show `AB:CD:…`).
pub fn normalise_fingerprint(text: &str) -> String {
    let text = text.trim();
    let hex = text.strip_prefix("sha256:").or_else(|| text.strip_prefix("SHA256:")).unwrap_or(text);
    format!("sha256:{}", hex.replace(':', "").to_lowercase())
}

/// The certificate verifier of the connections to the mail servers.
#[derive(Debug)]
pub struct PinningVerifier {
    /// The certificates of `ca_file`, trusted as they are when the server
    /// presents one of them.
    pinned: Vec<CertificateDer<'static>>,
    /// `tls_fingerprint`, normalised.
    fingerprint: Option<String>,
    /// The usual chain check.
    webpki: Arc<WebPkiServerVerifier>,
    /// For the handshake signatures.
    provider: Arc<CryptoProvider>,
}

impl PinningVerifier {
    pub fn new(
        pinned: Vec<CertificateDer<'static>>,
        fingerprint: Option<String>,
        webpki: Arc<WebPkiServerVerifier>,
        provider: Arc<CryptoProvider>,
    ) -> Self {
        Self { pinned, fingerprint: fingerprint.map(|f| normalise_fingerprint(&f)), webpki, provider }
    }

    fn is_pinned(&self, end_entity: &CertificateDer<'_>) -> bool {
        self.pinned.iter().any(|pinned| pinned.as_ref() == end_entity.as_ref())
            || self.fingerprint.as_deref() == Some(fingerprint(end_entity).as_str())
    }
}

/// A refused certificate, worded for the referent.
#[derive(Debug)]
struct Untrusted {
    /// What the chain check found.
    reason: rustls::Error,
    /// The server certificate's fingerprint.
    fingerprint: String,
}

impl std::fmt::Display for Untrusted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}; the server's certificate has the fingerprint {}: if it is your server's own, trust it \
             with tls_fingerprint = \"{}\" (or give the certificate itself as ca_file)",
            reason_in_words(&self.reason),
            self.fingerprint,
            self.fingerprint
        )
    }
}

/// rustls's reason, in words: its `Other` errors display as their Debug.
pub fn reason_in_words(reason: &rustls::Error) -> String {
    match reason {
        rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(inner))) => {
            let text = inner.to_string();
            match text.as_str() {
                "CaUsedAsEndEntity" => {
                    "the certificate is marked CA:TRUE, as a self-signed one made by `openssl req -x509` is, \
                     and is not trusted as a server's"
                        .to_string()
                }
                _ => format!("the certificate is not trusted ({text})"),
            }
        }
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
            "the certificate is signed by an authority that is not trusted (a private CA? give it as ca_file)"
                .to_string()
        }
        other => other.to_string(),
    }
}

impl std::error::Error for Untrusted {}

impl ServerCertVerifier for PinningVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self.is_pinned(end_entity) {
            return Ok(ServerCertVerified::assertion());
        }
        self.webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now).map_err(
            |reason| {
                let untrusted = Untrusted { reason, fingerprint: fingerprint(end_entity) };
                rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(untrusted))))
            },
        )
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// The client configuration of a connection to a mail server (IMAP, and
/// SMTP when it is pinned): a rustls configuration trusting the Mozilla roots and `ca_file` (a
/// private CA, or the server's own certificate, pinned), and the
/// certificate whose fingerprint is `fingerprint` (see `pinning.rs`).
pub fn client_config(ca_file: Option<&std::path::Path>, fingerprint: Option<&str>) -> Result<ClientConfig> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_compared_whatever_their_spelling() {
        let hex = "ab".repeat(32);
        let spelled = hex
            .as_bytes()
            .chunks(2)
            .map(|c| std::str::from_utf8(c).unwrap().to_uppercase())
            .collect::<Vec<_>>()
            .join(":");
        assert_eq!(normalise_fingerprint(&spelled), format!("sha256:{hex}"));
        assert_eq!(normalise_fingerprint(&format!("SHA256:{hex}")), format!("sha256:{hex}"));
    }
}
