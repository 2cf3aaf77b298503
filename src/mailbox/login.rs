//! Logging in: with the password, read again at each connection (so that
//! a referent who fixes it need not restart), or with an OAuth2 access
//! token (SASL XOAUTH2). A token the server refuses is replaced once, on a
//! fresh connection, before the refusal counts: it may just have expired
//! earlier than announced, or been revoked with a new one waiting.

use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use secrecy::ExposeSecret;

use super::connect::{self, Client};
use super::refusal::{self, Refusal};
use super::Session;
use crate::oauth::sasl::ImapXoauth2;
use crate::oauth::{NotAuthorized, TokenSource};
use crate::settings::{Auth, ImapSettings};

/// Connects and logs in as `settings.username`, with the password or,
/// when `imap.auth = "oauth2"`, a token from `tokens`.
pub(super) async fn open_session(
    settings: &ImapSettings,
    tokens: Option<&TokenSource>,
    timeout: Duration,
) -> Result<Session> {
    match (settings.auth, tokens) {
        (Auth::Password, _) => {
            let password = settings.password()?;
            let client = connect::open(settings, timeout).await?;
            let login = client.login(&settings.username, password.expose_secret());
            refused_or(settings, tokio::time::timeout(timeout, login).await, timeout)
        }
        (Auth::Oauth2, Some(tokens)) => match with_token(settings, tokens, timeout).await {
            Err(error) if is_refused_login(&error) => {
                with_token(settings, tokens, timeout).await.map_err(token_refused)
            }
            other => other,
        },
        (Auth::Oauth2, None) => bail!("imap.auth = \"oauth2\" but the daemon was given no [oauth2] table"),
    }
}

/// One XOAUTH2 login with the current token; a refused login marks the
/// token so that the next attempt asks for a new one.
async fn with_token(settings: &ImapSettings, tokens: &TokenSource, timeout: Duration) -> Result<Session> {
    let (token, generation) = tokens.access_token().await.map_err(authorization_refused)?;
    let client: Client = connect::open(settings, timeout).await?;
    let login = client.authenticate("XOAUTH2", ImapXoauth2::new(&settings.username, &token));
    let result = refused_or(settings, tokio::time::timeout(timeout, login).await, timeout);
    if result.as_ref().is_err_and(is_refused_login) {
        tokens.refused(generation).await;
    }
    result
}

/// Whether the server refused the login itself (not, say, the
/// certificate before any token was shown).
fn is_refused_login(error: &anyhow::Error) -> bool {
    matches!(refusal::refusal(error), Some(Refusal::Login { .. }))
}

/// A second refused login, with a token fresh from the endpoint: no new
/// token will do better, and the password's remedy would mislead.
fn token_refused(error: anyhow::Error) -> anyhow::Error {
    match refusal::refusal(&error) {
        Some(Refusal::Login { address, username, detail }) => anyhow!(Refusal::TokenRefused {
            address: address.clone(),
            username: username.clone(),
            detail: detail.clone(),
        }),
        _ => error,
    }
}

/// A missing or revoked authorization is a refusal the referents are told
/// about; a token endpoint out of reach heals alone.
fn authorization_refused(error: anyhow::Error) -> anyhow::Error {
    match error.downcast::<NotAuthorized>() {
        Ok(not_authorized) => anyhow!(Refusal::Authorization { detail: not_authorized.to_string() }),
        Err(error) => error,
    }
}

type LoginResult = Result<async_imap::Session<connect::Stream>, (async_imap::error::Error, Client)>;

/// The session, or why not: a NO or BAD that is not "try again later" is a
/// refusal a person must fix; anything else heals.
fn refused_or(
    settings: &ImapSettings,
    result: Result<LoginResult, tokio::time::error::Elapsed>,
    timeout: Duration,
) -> Result<Session> {
    let address = format!("{}:{}", settings.host, settings.port);
    let login_failed = || format!("IMAP login failed for {} on {address}", settings.username);
    match result {
        Ok(Ok(session)) => Ok(session),
        Ok(Err((async_imap::error::Error::No(detail) | async_imap::error::Error::Bad(detail), _)))
            if !refusal::is_temporary(&detail) =>
        {
            Err(anyhow!(Refusal::Login {
                address,
                username: settings.username.clone(),
                detail: detail.trim().to_string(),
            }))
        }
        Ok(Err((error, _client))) => Err(anyhow!(error).context(login_failed())),
        Err(_) => bail!("{}: no answer within {}s", login_failed(), timeout.as_secs()),
    }
}
