//! `[imap]` and `[smtp]`: where the replies arrive and the answers leave,
//! how the connections are secured, and how choixbot logs in (the password
//! is read from the environment or a file, never from this file).

use std::path::{Path, PathBuf};

use secrecy::SecretString;
use serde::Deserialize;

use super::{read_secret, Auth};
use crate::{Error, Result};

/// How a connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// TLS from the first byte (IMAPS 993, SMTPS 465).
    Tls,
    /// A plain connection upgraded with STARTTLS (IMAP 143, submission 587).
    Starttls,
    /// No encryption: only for a server on the same machine.
    None,
}

impl Security {
    /// As written in `choixbot.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tls => "tls",
            Self::Starttls => "starttls",
            Self::None => "none",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImapSettings {
    /// The server's host name (checked against its certificate).
    pub host: String,
    /// 993 for `tls`, 143 for `starttls` or `none`.
    pub port: u16,
    /// `tls`, `starttls` or `none`.
    pub security: Security,
    /// The login.
    pub username: String,
    /// `password` (the default) or `oauth2` (then `[oauth2]` is needed).
    #[serde(default)]
    pub auth: Auth,
    /// The environment variable that holds the password.
    #[serde(default = "default_imap_password_env")]
    pub password_env: String,
    /// A file that holds the password, used when the variable is not set.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// The folder the replies arrive in.
    #[serde(default = "default_folder")]
    pub folder: String,
    /// Where processed messages are moved; created when missing.
    #[serde(default = "default_processed_folder")]
    pub processed_folder: String,
    /// An extra trusted CA certificate (PEM), or the server's own
    /// certificate (self-signed, CA:TRUE or not: trusted as it is, pinned);
    /// empty for none.
    #[serde(default)]
    pub ca_file: String,
    /// The SHA-256 fingerprint of the server's certificate
    /// (`sha256:HEX`, colons and case ignored), trusted as it is: pinning
    /// without a file. Empty for none.
    #[serde(default)]
    pub tls_fingerprint: String,
    /// Seconds between two checks when the server has no IDLE.
    #[serde(default = "default_poll_seconds")]
    pub poll_seconds: u64,
    /// Seconds any IMAP command may take before the connection is dropped
    /// and made again.
    #[serde(default = "default_command_timeout")]
    pub timeout_seconds: u64,
    /// Seconds of silence from the server during IDLE after which the
    /// connection is checked (the IDLE is ended; a dead connection then
    /// fails within `timeout_seconds`). 300 by default; Dovecot says
    /// `* OK Still here` every 2 minutes, so a live one never stays silent.
    #[serde(default = "default_idle_silence_seconds")]
    pub idle_silence_seconds: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    /// The server's host name (checked against its certificate).
    pub host: String,
    /// 465 for `tls`, 587 for `starttls`, 25 for a local relay.
    pub port: u16,
    /// `tls`, `starttls` or `none`.
    pub security: Security,
    /// The login; empty or absent for no authentication (a local relay).
    #[serde(default)]
    pub username: Option<String>,
    /// `password` (the default) or `oauth2` (then `[oauth2]` and
    /// `username` are needed).
    #[serde(default)]
    pub auth: Auth,
    /// The environment variable that holds the password.
    #[serde(default = "default_smtp_password_env")]
    pub password_env: String,
    /// A file that holds the password, used when the variable is not set.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// An extra trusted CA certificate (PEM), or the server's own
    /// certificate (self-signed, CA:TRUE or not: trusted as it is, pinned);
    /// empty for none.
    #[serde(default)]
    pub ca_file: String,
    /// The SHA-256 fingerprint of the server's certificate, trusted as it
    /// is (as `imap.tls_fingerprint`). Empty for none.
    #[serde(default)]
    pub tls_fingerprint: String,
    /// Seconds one send may take before it is abandoned (and retried).
    #[serde(default = "default_command_timeout")]
    pub timeout_seconds: u64,
    /// The wait before the first retry of a temporary failure, doubled at
    /// each next one (30 s by default; the fault tests shorten it).
    #[serde(default = "default_retry_first_seconds")]
    pub retry_first_seconds: u64,
    /// The longest wait between two retries (30 min by default).
    #[serde(default = "default_retry_max_seconds")]
    pub retry_max_seconds: u64,
}

fn default_imap_password_env() -> String {
    "CHOIXBOT_IMAP_PASSWORD".into()
}
fn default_smtp_password_env() -> String {
    "CHOIXBOT_SMTP_PASSWORD".into()
}
fn default_folder() -> String {
    "INBOX".into()
}
fn default_processed_folder() -> String {
    "choixbot-processed".into()
}
fn default_idle_silence_seconds() -> u64 {
    300
}
fn default_poll_seconds() -> u64 {
    60
}
fn default_retry_first_seconds() -> u64 {
    30
}
fn default_retry_max_seconds() -> u64 {
    30 * 60
}
fn default_command_timeout() -> u64 {
    60
}

impl ImapSettings {
    /// The IMAP password: required.
    pub fn password(&self) -> Result<SecretString> {
        read_secret(&self.password_env, self.password_file.as_deref(), "IMAP")?.ok_or_else(|| {
            Error::bad_input(format!(
                "no IMAP password: set the environment variable {} or imap.password_file",
                self.password_env
            ))
        })
    }

    pub fn ca_file(&self) -> Option<&Path> {
        (!self.ca_file.trim().is_empty()).then(|| Path::new(self.ca_file.trim()))
    }

    pub fn tls_fingerprint(&self) -> Option<&str> {
        Some(self.tls_fingerprint.trim()).filter(|f| !f.is_empty())
    }
}

impl SmtpSettings {
    /// The login and password, when the server wants authentication.
    pub fn credentials(&self) -> Result<Option<(String, SecretString)>> {
        let Some(username) = self.credentials_username() else {
            return Ok(None);
        };
        let password = read_secret(&self.password_env, self.password_file.as_deref(), "SMTP")?.ok_or_else(|| {
            Error::bad_input(format!(
                "smtp.username is set but there is no SMTP password: set the environment variable {} or smtp.password_file",
                self.password_env
            ))
        })?;
        Ok(Some((username.to_string(), password)))
    }

    /// The login, unless empty or absent.
    pub fn credentials_username(&self) -> Option<&str> {
        self.username.as_deref().map(str::trim).filter(|username| !username.is_empty())
    }

    pub fn ca_file(&self) -> Option<&Path> {
        (!self.ca_file.trim().is_empty()).then(|| Path::new(self.ca_file.trim()))
    }

    pub fn tls_fingerprint(&self) -> Option<&str> {
        Some(self.tls_fingerprint.trim()).filter(|f| !f.is_empty())
    }
}
