//! Reading `choixbot.toml`: the session, the addresses, and how to reach the
//! IMAP and SMTP servers (SPEC §9).
//!
//! Every key of the specification is accepted; an unknown key is an error that
//! names it (serde's `deny_unknown_fields`), because a misspelt key silently
//! ignored is how a referent ends up sending invitations with the wrong
//! deadline. Passwords never appear in the file or on the command line: the
//! file names an environment variable (`password_env`) or a file
//! (`password_file`) that holds them, and they are kept in
//! [`secrecy::SecretString`] so they cannot be printed by accident.

use std::path::{Path, PathBuf};

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use secrecy::SecretString;
use serde::Deserialize;

use crate::domain::Email;
use crate::{Error, Result};

mod authorization;
mod web;
pub use authorization::{Auth, Endpoints, OAuth2Settings, Provider};
pub use web::WebSettings;

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `[session]`: what is being chosen, until when, and who receives the list.
    pub session: SessionSettings,
    /// `[mail]`: how choixbot's own messages are addressed.
    pub mail: MailSettings,
    /// `[imap]`: the mailbox the replies arrive in.
    pub imap: ImapSettings,
    /// `[smtp]`: the server the answers leave through.
    pub smtp: SmtpSettings,
    /// `[security]`: which authentication results to trust (optional).
    #[serde(default)]
    pub security: SecuritySettings,
    /// `[oauth2]`: the authorization server, for `auth = "oauth2"`
    /// (optional otherwise).
    #[serde(default)]
    pub oauth2: Option<OAuth2Settings>,
    /// `[web]`: the live page served by `choixbot run` (optional).
    #[serde(default)]
    pub web: Option<WebSettings>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionSettings {
    /// The session's name, shown in every email ("Semestre d'été 2020").
    pub name: String,
    /// The deadline in local time (`2020-05-04T23:59:00`), in `timezone`.
    pub deadline: String,
    /// An IANA time zone name; `Europe/Paris` by default.
    #[serde(default = "default_timezone")]
    pub timezone: String,
    /// Who at the ARS receives the consolidated list.
    pub ars_recipients: Vec<String>,
    /// The referents: in copy of the list, and named as the contact in
    /// emails. Optional.
    #[serde(default)]
    pub referents: Vec<String>,
    /// How many supernumeraries one (post, group) may take. 1 by default.
    #[serde(default = "default_supernumerary_cap")]
    pub supernumerary_cap: u32,
    /// How many days after the close the raw messages and the bodies of
    /// what was sent are kept, for the audit; then they are deleted (the
    /// list, the decisions and their dates stay). 90 by default.
    #[serde(default = "default_retention_days")]
    pub retention_days: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailSettings {
    /// The From of every message: `Name <address>` or a bare address.
    pub from: String,
    /// The address replies go to; each intern's token is added after a `+`.
    pub reply_to: String,
    /// How many messages `invite` and the outbox send per minute at most
    /// (providers cap it; Gmail accepts about 20 a minute). 0: no limit.
    #[serde(default)]
    pub max_per_minute: u32,
    /// How many answers one sender may cause per hour; further messages are
    /// recorded but not answered (a loop breaker). 30 by default.
    #[serde(default = "default_sender_hourly_limit")]
    pub max_answers_per_sender_per_hour: u32,
    /// A directory of templates that replace the built-in ones (same file
    /// names as `templates/` in the repository); empty for the built-in ones.
    #[serde(default)]
    pub templates_dir: String,
    /// At most one displacement notice per intern per this many minutes
    /// (SPEC §11): an intern displaced again meanwhile is told once, when
    /// the time is up, with the state then. 30 by default.
    #[serde(default = "default_notice_minutes")]
    pub notice_minutes: u32,
}

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
    /// An extra trusted CA certificate (PEM); empty for none.
    #[serde(default)]
    pub ca_file: String,
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

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecuritySettings {
    /// The `authserv-id`s whose `Authentication-Results` headers are trusted
    /// (your own receiving server's). Results from any other id are ignored,
    /// since anyone can write that header. Empty: none are read.
    #[serde(default)]
    pub trusted_authserv_ids: Vec<String>,
}

fn default_timezone() -> String {
    "Europe/Paris".into()
}
fn default_notice_minutes() -> u32 {
    30
}

fn default_supernumerary_cap() -> u32 {
    1
}
fn default_retention_days() -> u32 {
    90
}
fn default_sender_hourly_limit() -> u32 {
    30
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

impl Settings {
    /// Reads and checks the file. Every problem is bad input (exit 2).
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|error| {
            Error::bad_input(format!(
                "cannot read configuration {}: {error} (run `choixbot init` to write one)",
                path.display()
            ))
        })?;
        Self::parse(&text).map_err(|error| Error::bad_input(format!("{}: {error}", path.display())))
    }

    /// Parses and checks the text of a configuration file.
    pub fn parse(text: &str) -> Result<Self, String> {
        let settings: Settings = toml::from_str(text).map_err(|error| error.to_string())?;
        settings.check()?;
        Ok(settings)
    }

    fn check(&self) -> Result<(), String> {
        self.session.deadline_utc()?;
        if self.session.ars_recipients.is_empty() {
            return Err("session.ars_recipients is empty: whom should the list be sent to?".into());
        }
        for address in self.session.ars_recipients.iter().chain(&self.session.referents) {
            Email::parse(address).map_err(|error| format!("session: {error}"))?;
        }
        self.mail.from_address()?;
        self.mail.reply_to_address()?;
        if self.mail.reply_to.contains('+') {
            return Err("mail.reply_to must not contain '+': choixbot adds '+TOKEN' itself".into());
        }
        if let Some(web) = &self.web {
            web.check()?;
        }
        self.check_authorization()
    }

    /// `auth = "oauth2"` needs an `[oauth2]` table that names its
    /// endpoints, and an SMTP login to present the token for.
    fn check_authorization(&self) -> Result<(), String> {
        let wanted = [("imap", self.imap.auth), ("smtp", self.smtp.auth)]
            .into_iter()
            .find(|(_, auth)| *auth == Auth::Oauth2);
        match (&self.oauth2, wanted) {
            (None, Some((section, _))) => {
                return Err(format!("{section}.auth = \"oauth2\" needs an [oauth2] table (see the README)"))
            }
            (Some(oauth2), _) => {
                oauth2.endpoints()?;
            }
            (None, None) => {}
        }
        if self.smtp.auth == Auth::Oauth2 && self.smtp.credentials_username().is_none() {
            return Err("smtp.auth = \"oauth2\" needs smtp.username: the account the token is for".into());
        }
        Ok(())
    }

    /// The OAuth2 settings when IMAP or SMTP logs in with a token.
    pub fn authorization(&self) -> Option<&OAuth2Settings> {
        let wanted = self.imap.auth == Auth::Oauth2 || self.smtp.auth == Auth::Oauth2;
        self.oauth2.as_ref().filter(|_| wanted)
    }
}

impl SessionSettings {
    pub fn tz(&self) -> Result<Tz, String> {
        self.timezone
            .parse()
            .map_err(|_| format!("session.timezone {:?} is not a known time zone", self.timezone))
    }

    /// The deadline as an instant.
    ///
    /// Daylight saving makes two local times special. In the autumn hour
    /// that happens twice, the deadline is the second one (the later: no
    /// intern loses time they could read on a clock). In the spring hour
    /// that does not exist, the deadline is the first instant after the gap.
    pub fn deadline_utc(&self) -> Result<DateTime<Utc>, String> {
        let tz = self.tz()?;
        let naive = parse_local_datetime(&self.deadline)?;
        let instant = match tz.from_local_datetime(&naive) {
            LocalResult::Single(instant) => instant,
            LocalResult::Ambiguous(_, later) => later,
            LocalResult::None => {
                // Walk forward minute by minute to the end of the gap (at most
                // a few hours in any real time zone).
                (1..=24 * 60)
                    .find_map(|minutes| {
                        tz.from_local_datetime(&(naive + chrono::Duration::minutes(minutes))).earliest()
                    })
                    .ok_or_else(|| format!("session.deadline {:?} does not exist in {tz}", self.deadline))?
            }
        };
        Ok(instant.with_timezone(&Utc))
    }

    pub fn ars_recipients(&self) -> Vec<Email> {
        self.ars_recipients.iter().filter_map(|a| Email::parse(a).ok()).collect()
    }

    pub fn referents(&self) -> Vec<Email> {
        self.referents.iter().filter_map(|a| Email::parse(a).ok()).collect()
    }
}

/// Accepts `2020-05-04T23:59:00`, `2020-05-04T23:59`, and the same with a
/// space instead of the `T`.
pub fn parse_local_datetime(text: &str) -> Result<NaiveDateTime, String> {
    let text = text.trim();
    ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .ok_or_else(|| {
            format!("session.deadline {text:?} is not a local date and time like 2020-05-04T23:59:00")
        })
}

impl MailSettings {
    /// The address part of `from`.
    pub fn from_address(&self) -> Result<Email, String> {
        Email::parse(&self.from).map_err(|error| format!("mail.from: {error}"))
    }

    /// The display name part of `from`, if any.
    pub fn from_name(&self) -> Option<String> {
        let (name, _) = self.from.rsplit_once('<')?;
        let name = name.trim().trim_matches('"').trim();
        (!name.is_empty()).then(|| name.to_string())
    }

    pub fn reply_to_address(&self) -> Result<Email, String> {
        Email::parse(&self.reply_to).map_err(|error| format!("mail.reply_to: {error}"))
    }

    pub fn templates_dir(&self) -> Option<&Path> {
        (!self.templates_dir.trim().is_empty()).then(|| Path::new(self.templates_dir.trim()))
    }

    /// `choix+TOKEN@domain`.
    pub fn reply_to_for(&self, token: &crate::domain::Token) -> String {
        let address = self.reply_to_address().expect("checked at load");
        format!("{}+{}@{}", address.local_part(), token, address.domain())
    }
}

/// Reads a secret from the environment variable, else from the file.
fn read_secret(variable: &str, file: Option<&Path>, what: &str) -> Result<Option<SecretString>> {
    if let Ok(value) = std::env::var(variable) {
        return Ok(Some(SecretString::from(value)));
    }
    if let Some(file) = file {
        let value = std::fs::read_to_string(file).map_err(|error| {
            Error::bad_input(format!("cannot read the {what} password file {}: {error}", file.display()))
        })?;
        return Ok(Some(SecretString::from(value.trim_end_matches(['\r', '\n']).to_string())));
    }
    Ok(None)
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
}

/// The commented file `choixbot init` writes.
pub const TEMPLATE: &str = include_str!("../templates/choixbot.toml");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_written_by_init_is_valid() {
        let settings = Settings::parse(TEMPLATE).unwrap();
        assert_eq!(settings.session.supernumerary_cap, 1);
        assert_eq!(settings.imap.folder, "INBOX");
    }

    #[test]
    fn an_unknown_key_is_an_error_that_names_it() {
        let text = TEMPLATE.replace("[imap]", "[imap]\nfolderr = \"INBOX\"");
        let error = Settings::parse(&text).unwrap_err();
        assert!(error.contains("folderr"), "{error}");
    }

    #[test]
    fn oauth2_without_its_table_or_an_smtp_login_is_refused_by_name() {
        let text = TEMPLATE.replace("[imap]", "[imap]\nauth = \"oauth2\"");
        let error = Settings::parse(&text).unwrap_err();
        assert!(error.contains("imap.auth = \"oauth2\" needs an [oauth2] table"), "{error}");
        let table = "\n[oauth2]\nprovider = \"google\"\nclient_id = \"id\"\ntoken_file = \"t.json\"\n";
        let settings = Settings::parse(&format!("{text}{table}")).unwrap();
        assert_eq!(settings.authorization().unwrap().client_id, "id");
        let smtp = TEMPLATE
            .replace("[smtp]", "[smtp]\nauth = \"oauth2\"")
            .replace("username = \"choix@asso.example\"        # empty", "username = \"\"        # empty");
        let error = Settings::parse(&format!("{smtp}{table}")).unwrap_err();
        assert!(error.contains("smtp.auth = \"oauth2\" needs smtp.username"), "{error}");
    }

    #[test]
    fn deadline_in_the_autumn_repeated_hour_is_the_later_one() {
        let mut settings = Settings::parse(TEMPLATE).unwrap();
        settings.session.deadline = "2020-10-25T02:30:00".into();
        // 02:30 happens at 00:30 UTC (CEST) and again at 01:30 UTC (CET).
        assert_eq!(settings.session.deadline_utc().unwrap().to_rfc3339(), "2020-10-25T01:30:00+00:00");
    }

    #[test]
    fn deadline_in_the_spring_gap_is_the_end_of_the_gap() {
        let mut settings = Settings::parse(TEMPLATE).unwrap();
        settings.session.deadline = "2020-03-29T02:30:00".into();
        assert_eq!(settings.session.deadline_utc().unwrap().to_rfc3339(), "2020-03-29T01:00:00+00:00");
    }

    #[test]
    fn summer_and_winter_deadlines_use_the_right_offset() {
        let mut settings = Settings::parse(TEMPLATE).unwrap();
        settings.session.deadline = "2020-05-04T23:59:00".into();
        assert_eq!(settings.session.deadline_utc().unwrap().to_rfc3339(), "2020-05-04T21:59:00+00:00");
        settings.session.deadline = "2020-11-04T23:59".into();
        assert_eq!(settings.session.deadline_utc().unwrap().to_rfc3339(), "2020-11-04T22:59:00+00:00");
    }
}
