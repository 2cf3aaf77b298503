//! The `[web]` table: the live page `choixbot run` serves beside its mail
//! work. The keys are a contract (SPEC §11): `listen`, `password_env` or
//! `password_file`, `public`; `cert_file`/`key_file` and `behind_proxy`
//! say how the page is safe to reach from elsewhere than this machine.

use std::net::SocketAddr;
use std::path::PathBuf;

use secrecy::SecretString;
use serde::Deserialize;

use super::read_secret;
use crate::{Error, Result};

/// `[web]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebSettings {
    /// Where to listen, `127.0.0.1:8080` by default.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// The environment variable holding the referents' password.
    #[serde(default = "default_password_env")]
    pub password_env: String,
    /// A file holding the referents' password, used when the variable is
    /// not set.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Serve the public page at `/` (posts and places left; the
    /// assignments after the close). Off by default.
    #[serde(default)]
    pub public: bool,
    /// The certificate chain (PEM) to serve HTTPS with.
    #[serde(default)]
    pub cert_file: Option<PathBuf>,
    /// The private key (PEM) of `cert_file`.
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// A reverse proxy on this machine terminates TLS and forwards to
    /// `listen` (see the README): the page may listen on a non-loopback
    /// address without a certificate, and the client's address is read
    /// from the proxy's `X-Forwarded-For`.
    #[serde(default)]
    pub behind_proxy: bool,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}

fn default_password_env() -> String {
    "CHOIXBOT_WEB_PASSWORD".to_string()
}

impl WebSettings {
    /// Checked at load: a page that shows interns' addresses is reached in
    /// clear text only on this machine.
    pub(super) fn check(&self) -> std::result::Result<(), String> {
        match (&self.cert_file, &self.key_file) {
            (Some(_), None) | (None, Some(_)) => {
                return Err("web: cert_file and key_file go together".into());
            }
            _ => {}
        }
        if !self.listen.ip().is_loopback() && !self.tls() && !self.behind_proxy {
            return Err(format!(
                "web.listen = \"{}\" is reachable from other machines: the referents' password and the \
                 interns' addresses would cross the network in clear. Give cert_file and key_file (HTTPS), \
                 or put a reverse proxy with TLS in front and set behind_proxy = true (see the README), \
                 or listen on 127.0.0.1",
                self.listen
            ));
        }
        Ok(())
    }

    /// Whether the page is served over HTTPS by choixbot itself.
    pub fn tls(&self) -> bool {
        self.cert_file.is_some() && self.key_file.is_some()
    }

    /// The referents' password: required to serve the page.
    pub fn password(&self) -> Result<SecretString> {
        let password = read_secret(&self.password_env, self.password_file.as_deref(), "web")?;
        match password {
            Some(password) if !secrecy::ExposeSecret::expose_secret(&password).is_empty() => Ok(password),
            _ => Err(Error::bad_input(format!(
                "no password for the referents' page: set the environment variable {} or web.password_file",
                self.password_env
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn web(text: &str) -> std::result::Result<(), String> {
        let settings: WebSettings = toml::from_str(text).map_err(|e| e.to_string())?;
        settings.check()
    }

    #[test]
    fn the_loopback_needs_no_certificate() {
        assert_eq!(web(r#"listen = "127.0.0.1:8080""#), Ok(()));
        assert_eq!(web(r#"listen = "[::1]:8080""#), Ok(()));
        assert_eq!(web(""), Ok(()), "127.0.0.1:8080 by default");
    }

    #[test]
    fn another_address_needs_tls_or_a_proxy() {
        let refused = web(r#"listen = "0.0.0.0:8080""#).unwrap_err();
        assert!(refused.contains("cert_file") && refused.contains("behind_proxy"), "{refused}");
        assert_eq!(web("listen = \"0.0.0.0:8443\"\ncert_file = \"c.pem\"\nkey_file = \"k.pem\""), Ok(()));
        assert_eq!(web("listen = \"0.0.0.0:8080\"\nbehind_proxy = true"), Ok(()));
        assert!(web("listen = \"0.0.0.0:8443\"\ncert_file = \"c.pem\"").unwrap_err().contains("go together"));
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(web("listen = \"127.0.0.1:1\"\npasword_env = \"X\"").unwrap_err().contains("pasword_env"));
    }
}
