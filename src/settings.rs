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

use std::path::Path;

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use secrecy::SecretString;
use serde::Deserialize;

use crate::domain::Email;
use crate::{Error, Result};

mod authorization;
mod servers;
mod web;
pub use authorization::{Auth, Endpoints, OAuth2Settings, Provider};
pub use servers::{ImapSettings, Security, SmtpSettings};
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
