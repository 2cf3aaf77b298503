//! The `[oauth2]` table and the `auth` key of `[imap]` and `[smtp]`: how
//! choixbot logs in to a mailbox that takes no password (Microsoft 365,
//! Outlook.com, a Google Workspace without app passwords). The well-known
//! providers come with their endpoints and scopes, so that a referent only
//! copies a client id; `custom` names them.

use std::path::{Path, PathBuf};

use secrecy::SecretString;
use serde::Deserialize;

use super::read_secret;
use crate::Result;

/// How choixbot logs in to a server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Auth {
    /// A password (or app password), from `password_env` or `password_file`.
    #[default]
    Password,
    /// An OAuth2 access token (SASL XOAUTH2), from `[oauth2]`.
    Oauth2,
}

/// Whose authorization server issues the tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// Microsoft identity platform: Microsoft 365 and Outlook.com.
    Microsoft,
    /// Google: Gmail and Google Workspace.
    Google,
    /// Any other: `device_url`, `token_url` and `scopes` say where.
    Custom,
}

/// `[oauth2]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuth2Settings {
    /// `microsoft`, `google` or `custom`.
    pub provider: Provider,
    /// The application's client id (from its registration).
    pub client_id: String,
    /// Microsoft's tenant: the directory id or domain of a Microsoft 365
    /// organisation, `consumers` for Outlook.com; `organizations` by
    /// default.
    #[serde(default = "default_tenant")]
    pub tenant: String,
    /// Where `choixbot login` keeps the refresh token (created 0600).
    pub token_file: PathBuf,
    /// The environment variable holding the client secret, for providers
    /// that want one even for a device (Google does).
    #[serde(default = "default_client_secret_env")]
    pub client_secret_env: String,
    /// A file holding the client secret, used when the variable is not set.
    #[serde(default)]
    pub client_secret_file: Option<PathBuf>,
    /// The device authorization endpoint; overrides the provider's.
    #[serde(default)]
    pub device_url: String,
    /// The token endpoint; overrides the provider's.
    #[serde(default)]
    pub token_url: String,
    /// The scopes asked for; override the provider's.
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// Where to ask, and for what: resolved from [`OAuth2Settings`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// The device authorization endpoint (RFC 8628).
    pub device_url: String,
    /// The token endpoint.
    pub token_url: String,
    /// The scopes asked for.
    pub scopes: Vec<String>,
}

fn default_tenant() -> String {
    "organizations".into()
}

fn default_client_secret_env() -> String {
    "CHOIXBOT_OAUTH2_CLIENT_SECRET".into()
}

/// Microsoft's scopes for IMAP and SMTP, and a refresh token.
const MICROSOFT_SCOPES: [&str; 3] = [
    "https://outlook.office.com/IMAP.AccessAsUser.All",
    "https://outlook.office.com/SMTP.Send",
    "offline_access",
];

/// Google's one scope for IMAP and SMTP.
const GOOGLE_SCOPE: &str = "https://mail.google.com/";

impl OAuth2Settings {
    /// The endpoints and scopes: the provider's, each overridden by the
    /// setting when given. `custom` must give both endpoints.
    pub fn endpoints(&self) -> Result<Endpoints, String> {
        let (device, token, scopes): (String, String, Vec<String>) = match self.provider {
            Provider::Microsoft => {
                let base = format!("https://login.microsoftonline.com/{}/oauth2/v2.0", self.tenant.trim());
                (format!("{base}/devicecode"), format!("{base}/token"), strings(&MICROSOFT_SCOPES))
            }
            Provider::Google => (
                "https://oauth2.googleapis.com/device/code".into(),
                "https://oauth2.googleapis.com/token".into(),
                strings(&[GOOGLE_SCOPE]),
            ),
            Provider::Custom => (String::new(), String::new(), Vec::new()),
        };
        let pick = |setting: &str, default: String| match setting.trim() {
            "" => default,
            given => given.to_string(),
        };
        let endpoints = Endpoints {
            device_url: pick(&self.device_url, device),
            token_url: pick(&self.token_url, token),
            scopes: if self.scopes.is_empty() { scopes } else { self.scopes.clone() },
        };
        if endpoints.device_url.is_empty() || endpoints.token_url.is_empty() {
            return Err("oauth2.provider = \"custom\" needs oauth2.device_url and oauth2.token_url".into());
        }
        if self.client_id.trim().is_empty() {
            return Err("oauth2.client_id is empty: copy the application's client id".into());
        }
        Ok(endpoints)
    }

    /// The client secret, when one is set.
    pub fn client_secret(&self) -> Result<Option<SecretString>> {
        read_secret(&self.client_secret_env, self.client_secret_file.as_deref(), "OAuth2 client secret")
    }

    /// Where the refresh token is kept.
    pub fn token_file(&self) -> &Path {
        &self.token_file
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| item.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(provider: Provider) -> OAuth2Settings {
        toml::from_str::<OAuth2Settings>(&format!(
            "provider = {:?}\nclient_id = \"abc\"\ntoken_file = \"token.json\"",
            format!("{provider:?}").to_lowercase()
        ))
        .unwrap()
    }

    #[test]
    fn microsoft_asks_its_tenant_for_imap_smtp_and_a_refresh_token() {
        let endpoints = settings(Provider::Microsoft).endpoints().unwrap();
        assert_eq!(
            endpoints.device_url,
            "https://login.microsoftonline.com/organizations/oauth2/v2.0/devicecode"
        );
        assert!(endpoints.scopes.contains(&"offline_access".to_string()));
        assert!(endpoints.scopes.iter().any(|scope| scope.ends_with("SMTP.Send")));
    }

    #[test]
    fn google_asks_for_the_mail_scope() {
        let endpoints = settings(Provider::Google).endpoints().unwrap();
        assert_eq!(endpoints.scopes, vec!["https://mail.google.com/".to_string()]);
    }

    #[test]
    fn custom_without_endpoints_says_which_keys_are_missing() {
        let error = settings(Provider::Custom).endpoints().unwrap_err();
        assert!(error.contains("oauth2.device_url") && error.contains("oauth2.token_url"), "{error}");
        let given = OAuth2Settings {
            device_url: "http://127.0.0.1:1/device".into(),
            token_url: "http://127.0.0.1:1/token".into(),
            scopes: vec!["mail".into()],
            ..settings(Provider::Custom)
        };
        assert_eq!(given.endpoints().unwrap().token_url, "http://127.0.0.1:1/token");
    }
}
