//! `choixbot login`: the device authorization flow (RFC 8628). It prints
//! an address and a code; the referent opens the address on any device,
//! signs in to the mailbox's account and types the code; choixbot waits,
//! then keeps the refresh token in `oauth2.token_file` (0600). Nothing
//! secret goes on the command line, the screen or the log: only the
//! address and the one-time code are shown.

use std::io::Write;

use anyhow::{anyhow, bail, Context};
use oauth2::{Scope, StandardDeviceAuthorizationResponse, TokenResponse};

use super::{client, describe, http_client, request_error, save_token_file};
use crate::clock::Clock;
use crate::settings::OAuth2Settings;

/// Runs the flow; `out` receives the instructions for the referent.
pub async fn login(settings: &OAuth2Settings, clock: &Clock, out: &mut dyn Write) -> anyhow::Result<()> {
    let endpoints = settings.endpoints().map_err(|error| anyhow!(error))?;
    let client = client(settings, &endpoints)?;
    let http = http_client()?;
    let details: StandardDeviceAuthorizationResponse = client
        .exchange_device_code()
        .add_scopes(endpoints.scopes.iter().cloned().map(Scope::new))
        .request_async(&http)
        .await
        .map_err(|error| match error {
            oauth2::RequestTokenError::ServerResponse(response) => {
                anyhow!("the authorization server refused to start: {}", describe(&response))
            }
            other => anyhow!("cannot reach {}: {}", endpoints.device_url, request_error(&other)),
        })?;
    let minutes = details.expires_in().as_secs().div_ceil(60);
    writeln!(
        out,
        "Ouvrez {} et saisissez le code {} (valable {minutes} min).\n\
         Open {} and enter the code {} (valid for {minutes} min).\n\
         Waiting…",
        details.verification_uri().as_str(),
        details.user_code().secret(),
        details.verification_uri().as_str(),
        details.user_code().secret(),
    )?;
    out.flush()?;
    let token = client
        .exchange_device_access_token(&details)
        .request_async(&http, tokio::time::sleep, None)
        .await
        .map_err(|error| match error {
            oauth2::RequestTokenError::ServerResponse(response) => {
                let code = response.error().as_ref().to_string();
                let detail = response.error_description().map(|d| format!(": {d}")).unwrap_or_default();
                anyhow!("the sign-in did not complete ({code}{detail}); run `choixbot login` again")
            }
            other => anyhow!("cannot reach {}: {}", endpoints.token_url, request_error(&other)),
        })?;
    let Some(refresh_token) = token.refresh_token() else {
        bail!(
            "the authorization server gave no refresh token: choixbot could not log in again later \
             (for Microsoft, the scope offline_access is needed)"
        );
    };
    save_token_file(settings.token_file(), refresh_token.secret(), clock.now())
        .with_context(|| format!("cannot keep the authorization in {}", settings.token_file().display()))?;
    writeln!(out, "Autorisation enregistrée dans {}.", settings.token_file().display())?;
    Ok(())
}
