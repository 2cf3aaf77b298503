//! OAuth2 access tokens for IMAP and SMTP (SASL XOAUTH2), for mailboxes
//! that no longer take a password: Microsoft 365 and Outlook.com, and the
//! Google Workspace domains that turned app passwords off.
//!
//! `choixbot login` ([`login`]) runs the device flow once and keeps the
//! refresh token in `oauth2.token_file` (0600). The daemon then asks the
//! token endpoint for an access token when it needs one, keeps it until a
//! little before it expires (on the one [`Clock`]), and asks again when a
//! server refuses it. IMAP and SMTP share one [`TokenSource`], so one
//! refresh serves both: Microsoft rotates the refresh token at each use,
//! and two refreshes racing with the same one could lose it.
//!
//! A refresh token that is refused (revoked, expired, or never obtained)
//! will not heal alone: [`NotAuthorized`] says so, and the mailbox turns it
//! into a refusal the referents are told about by email.

pub mod login;
pub mod sasl;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, Context};
use chrono::{DateTime, Utc};
use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{
    ClientId, ClientSecret, EndpointNotSet, EndpointSet, RefreshToken, RequestTokenError, Scope,
    TokenResponse, TokenUrl,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::settings::{Endpoints, OAuth2Settings};

/// How long before its announced expiry an access token is replaced, so
/// that a token never expires between being handed out and being used.
const EARLY: Duration = Duration::from_secs(5 * 60);

/// The deadline of one request to the token endpoint.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The lifetime assumed when the token endpoint announces none.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(60 * 60);

/// The refresh token is missing, revoked or expired: a person must run
/// `choixbot login` again. Nothing retried will change that.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the OAuth2 authorization kept in {token_file} does not work: {detail}")]
pub struct NotAuthorized {
    /// `oauth2.token_file`.
    pub token_file: String,
    /// What went wrong, in the authorization server's words when it said.
    pub detail: String,
}

/// What `oauth2.token_file` holds.
#[derive(Serialize, Deserialize)]
struct TokenFile {
    /// The refresh token.
    refresh_token: String,
    /// When it was obtained or last rotated (RFC 3339), for the referent.
    saved_at: String,
}

/// An access token in hand.
struct Access {
    /// The token.
    token: SecretString,
    /// When it should be replaced ([`EARLY`] before it expires).
    replace_at: DateTime<Utc>,
    /// Which token this is: a refusal of an older one does not discard a
    /// newer one.
    generation: u64,
}

/// The OAuth2 client with the endpoints choixbot uses.
type Client = BasicClient<EndpointNotSet, EndpointSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// Hands out access tokens, refreshing them when needed (see the module).
pub struct TokenSource {
    /// The application, with its device and token endpoints.
    client: Client,
    /// The scopes asked for.
    scopes: Vec<String>,
    /// The HTTP client (no redirects: a token request is not followed
    /// elsewhere).
    http: oauth2::reqwest::Client,
    /// `oauth2.token_file`.
    token_file: PathBuf,
    /// The one clock.
    clock: Clock,
    /// The current access token; the lock is held during a refresh, so
    /// that callers wait for it instead of refreshing twice.
    access: tokio::sync::Mutex<Option<Access>>,
}

impl TokenSource {
    /// Reads the settings; contacts nothing yet.
    pub fn new(settings: &OAuth2Settings, clock: Clock) -> anyhow::Result<TokenSource> {
        let endpoints = settings.endpoints().map_err(|error| anyhow!(error))?;
        Ok(TokenSource {
            client: client(settings, &endpoints)?,
            scopes: endpoints.scopes,
            http: http_client()?,
            token_file: settings.token_file().to_path_buf(),
            clock,
            access: tokio::sync::Mutex::new(None),
        })
    }

    /// A valid access token and its generation (to pass to
    /// [`TokenSource::refused`] if a server refuses it).
    pub async fn access_token(&self) -> anyhow::Result<(SecretString, u64)> {
        let mut access = self.access.lock().await;
        if let Some(current) = access.as_ref().filter(|current| self.clock.now() < current.replace_at) {
            return Ok((current.token.clone(), current.generation));
        }
        let generation = access.as_ref().map_or(1, |current| current.generation + 1);
        let fresh = self.refresh(generation).await?;
        let token = fresh.token.clone();
        *access = Some(fresh);
        Ok((token, generation))
    }

    /// A server refused the token of `generation`: the next
    /// [`TokenSource::access_token`] asks for a new one (unless another
    /// caller already did).
    pub async fn refused(&self, generation: u64) {
        let mut access = self.access.lock().await;
        if let Some(current) = access.as_mut().filter(|current| current.generation == generation) {
            current.replace_at = DateTime::<Utc>::MIN_UTC;
        }
    }

    /// Trades the refresh token for an access token, keeping the new
    /// refresh token when the server rotates it.
    async fn refresh(&self, generation: u64) -> anyhow::Result<Access> {
        let refresh_token = RefreshToken::new(read_token_file(&self.token_file)?);
        let asked_at = self.clock.now();
        let request = self
            .client
            .exchange_refresh_token(&refresh_token)
            .add_scopes(self.scopes.iter().cloned().map(Scope::new));
        let response = match request.request_async(&self.http).await {
            Ok(response) => response,
            Err(RequestTokenError::ServerResponse(response)) if refused_for_good(response.error()) => {
                return Err(anyhow!(self.not_authorized(&describe(&response))))
            }
            Err(error) => {
                return Err(anyhow!("cannot refresh the OAuth2 access token: {}", request_error(&error)))
            }
        };
        if let Some(rotated) = response.refresh_token() {
            save_token_file(&self.token_file, rotated.secret(), asked_at)?;
        }
        let lifetime = response.expires_in().unwrap_or(DEFAULT_LIFETIME);
        let early = EARLY.min(lifetime / 2);
        let replace_at = asked_at + chrono::Duration::from_std(lifetime - early).unwrap_or_default();
        tracing::info!(expires_in_s = lifetime.as_secs(), "OAuth2 access token refreshed");
        Ok(Access {
            token: SecretString::from(response.access_token().secret().clone()),
            replace_at,
            generation,
        })
    }

    fn not_authorized(&self, detail: &str) -> NotAuthorized {
        NotAuthorized { token_file: self.token_file.display().to_string(), detail: detail.to_string() }
    }
}

/// Errors that a later attempt with the same refresh token cannot fix.
fn refused_for_good(error: &BasicErrorResponseType) -> bool {
    matches!(
        error,
        BasicErrorResponseType::InvalidGrant
            | BasicErrorResponseType::InvalidClient
            | BasicErrorResponseType::UnauthorizedClient
    )
}

/// The server's error code and description, never a token.
fn describe(response: &oauth2::StandardErrorResponse<BasicErrorResponseType>) -> String {
    match response.error_description() {
        Some(description) => format!("{}: {description}", response.error().as_ref()),
        None => response.error().as_ref().to_string(),
    }
}

/// A request error in words, with its causes (reqwest's are nested).
fn request_error(error: &dyn std::error::Error) -> String {
    let mut words = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        words.push_str(": ");
        words.push_str(&cause.to_string());
        source = cause.source();
    }
    words
}

fn client(settings: &OAuth2Settings, endpoints: &Endpoints) -> anyhow::Result<Client> {
    let mut client = BasicClient::new(ClientId::new(settings.client_id.trim().to_string()))
        .set_device_authorization_url(
            oauth2::DeviceAuthorizationUrl::new(endpoints.device_url.clone())
                .with_context(|| format!("oauth2.device_url {:?} is not a URL", endpoints.device_url))?,
        )
        .set_token_uri(
            TokenUrl::new(endpoints.token_url.clone())
                .with_context(|| format!("oauth2.token_url {:?} is not a URL", endpoints.token_url))?,
        )
        .set_auth_type(oauth2::AuthType::RequestBody);
    if let Some(secret) = settings.client_secret()? {
        client = client.set_client_secret(ClientSecret::new(secret.expose_secret().to_string()));
    }
    Ok(client)
}

fn http_client() -> anyhow::Result<oauth2::reqwest::Client> {
    oauth2::reqwest::Client::builder()
        .redirect(oauth2::reqwest::redirect::Policy::none())
        .timeout(REQUEST_TIMEOUT)
        .build()
        .context("cannot set up the HTTP client for OAuth2")
}

/// The refresh token kept in `path`.
fn read_token_file(path: &Path) -> anyhow::Result<String> {
    let not_authorized = |detail: String| NotAuthorized { token_file: path.display().to_string(), detail };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(anyhow!(not_authorized("there is none yet: run `choixbot login`".into())))
        }
        Err(error) => return Err(anyhow!(error).context(format!("cannot read {}", path.display()))),
    };
    let file: TokenFile = serde_json::from_str(&text)
        .map_err(|error| anyhow!(not_authorized(format!("it is not a token file ({error})"))))?;
    Ok(file.refresh_token)
}

/// Keeps `refresh_token` in `path`, readable by its owner only.
fn save_token_file(path: &Path, refresh_token: &str, at: DateTime<Utc>) -> anyhow::Result<()> {
    let file = TokenFile { refresh_token: refresh_token.to_string(), saved_at: at.to_rfc3339() };
    let text = serde_json::to_string_pretty(&file).expect("a token file serializes");
    if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        crate::private::create_dir_all(parent)?;
    }
    // Written aside and renamed: a crash never leaves half a token.
    let aside = path.with_extension("tmp");
    crate::private::write(&aside, text.as_bytes())?;
    std::fs::rename(&aside, path).with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_file_is_owner_only_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens/oauth2.json");
        save_token_file(&path, "rt-1", Utc::now()).unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(read_token_file(&path).unwrap(), "rt-1");
    }

    #[test]
    fn a_missing_token_file_says_to_run_login() {
        let dir = tempfile::tempdir().unwrap();
        let error = read_token_file(&dir.path().join("none.json")).unwrap_err();
        let not_authorized = error.downcast_ref::<NotAuthorized>().expect("not authorized");
        assert!(not_authorized.detail.contains("choixbot login"), "{not_authorized}");
    }
}
