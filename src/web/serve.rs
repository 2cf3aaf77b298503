//! Listening: plain HTTP on the loopback (or behind a reverse proxy), HTTPS
//! with the `[web]` certificate otherwise. Both stop with the daemon.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderValue};
use axum::response::Response;
use axum::Router;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;
use tracing::{debug, info};

use super::Web;
use crate::settings::WebSettings;

/// Serves the page on `listener` until `stopping`.
pub async fn serve(
    web: Web,
    listener: TcpListener,
    mut stopping: watch::Receiver<bool>,
) -> crate::Result<()> {
    let settings = web.0.web.clone();
    let router = with_safety_headers(web.router());
    let address = listener.local_addr().context("the web listener has no address")?;
    if settings.tls() {
        info!(%address, "serving the web page over HTTPS");
        return serve_tls(&settings, router, listener, stopping).await;
    }
    info!(%address, "serving the web page over HTTP");
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async move {
            let _ = stopping.wait_for(|stopping| *stopping).await;
        })
        .await
        .context("the web page stopped")?;
    Ok(())
}

/// Every response: no inline script, nothing from elsewhere, no framing,
/// no guessing of types, no caching of personal data.
fn with_safety_headers(router: Router) -> Router {
    router.layer(axum::middleware::map_response(|mut response: Response| async move {
        let headers = response.headers_mut();
        let csp =
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
        headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
        response
    }))
}

/// HTTPS: each connection's TLS handshake, then HTTP/1.1 on it.
async fn serve_tls(
    settings: &WebSettings,
    router: Router,
    listener: TcpListener,
    mut stopping: watch::Receiver<bool>,
) -> crate::Result<()> {
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls_config(settings)?));
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => { debug!("web: accept failed: {error}"); continue; }
            },
            _ = stopping.wait_for(|stopping| *stopping) => return Ok(()),
        };
        let (acceptor, router, mut stopping) = (acceptor.clone(), router.clone(), stopping.clone());
        tokio::spawn(async move {
            let Ok(stream) = acceptor.accept(stream).await else { return };
            let service =
                hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
                    request.extensions_mut().insert(ConnectInfo(peer));
                    router.clone().oneshot(request)
                });
            let connection =
                hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = stopping.wait_for(|stopping| *stopping) => connection.as_mut().graceful_shutdown(),
            }
        });
    }
}

/// The certificate and key of `[web]`, read once at start.
fn tls_config(settings: &WebSettings) -> crate::Result<tokio_rustls::rustls::ServerConfig> {
    let (cert_file, key_file) = (settings.cert_file.as_ref(), settings.key_file.as_ref());
    let (Some(cert_file), Some(key_file)) = (cert_file, key_file) else {
        return Err(crate::Error::bad_input("web: HTTPS needs cert_file and key_file"));
    };
    let read = |path: &std::path::Path| {
        std::fs::read(path)
            .map_err(|e| crate::Error::bad_input(format!("cannot read {}: {e}", path.display())))
    };
    let certs =
        rustls_pemfile::certs(&mut read(cert_file)?.as_slice()).collect::<Result<Vec<_>, _>>().map_err(
            |e| crate::Error::bad_input(format!("{}: not a PEM certificate: {e}", cert_file.display())),
        )?;
    let key = rustls_pemfile::private_key(&mut read(key_file)?.as_slice())
        .map_err(|e| crate::Error::bad_input(format!("{}: not a PEM key: {e}", key_file.display())))?
        .ok_or_else(|| crate::Error::bad_input(format!("{}: no private key in it", key_file.display())))?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|builder| builder.with_no_client_auth().with_single_cert(certs, key))
        .map_err(|e| crate::Error::bad_input(format!("web: the certificate and key do not go together: {e}")))
}
