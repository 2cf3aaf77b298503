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

use secrecy::SecretString;
use serde::Deserialize;

use crate::{Error, Result};

mod amphi;
mod authorization;
mod servers;
mod session;
mod web;
pub use amphi::{AmphiSettings, Mode, WhenAbsent};
pub use authorization::{Auth, Endpoints, OAuth2Settings, Provider};
pub use servers::{ImapSettings, Security, SmtpSettings};
pub use session::{no_deadline, parse_local_datetime, MailSettings, SessionSettings};
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
    /// `[amphi]`: the turns, for `session.mode = "amphi"` (required then).
    #[serde(default)]
    pub amphi: Option<AmphiSettings>,
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
        let mut settings: Settings = toml::from_str(text).map_err(|error| error.to_string())?;
        settings.resolve_amphi()?;
        settings.check()?;
        Ok(settings)
    }

    fn check(&self) -> Result<(), String> {
        if let Some(web) = &self.web {
            web.check()?;
        }
        self.check_authorization()
    }

    /// `mode = "amphi"` needs `[amphi]`, whose start is local time in the
    /// session's time zone.
    fn resolve_amphi(&mut self) -> Result<(), String> {
        let tz = self.session.timezone;
        match (&mut self.amphi, self.session.mode) {
            (Some(amphi), _) => amphi.resolve(tz),
            (None, Mode::Amphi) => {
                Err("session.mode = \"amphi\" needs an [amphi] table with start and turn_minutes".into())
            }
            (None, Mode::Deadline) => Ok(()),
        }
    }

    /// The amphi's settings when the session runs as an amphi.
    pub fn amphi(&self) -> Option<&AmphiSettings> {
        self.amphi.as_ref().filter(|_| self.session.mode == Mode::Amphi)
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
    fn an_amphi_needs_its_table_and_may_leave_the_deadline_out() {
        let amphi = TEMPLATE.replace("deadline = \"2020-05-04T23:59:00\"", "mode = \"amphi\"");
        let error = Settings::parse(&amphi).unwrap_err();
        assert!(error.contains("needs an [amphi] table"), "{error}");
        let table =
            "\n[amphi]\nstart = \"2026-05-04T09:00:00\"\nturn_minutes = 0.5\nwhen_absent = \"wishes\"\n";
        let settings = Settings::parse(&format!("{amphi}{table}")).unwrap();
        let resolved = settings.amphi().unwrap();
        assert_eq!(resolved.start.to_rfc3339(), "2026-05-04T07:00:00+00:00");
        assert_eq!(resolved.turn_ms, 30_000);
        assert_eq!(resolved.when_absent, WhenAbsent::Wishes);
        assert_eq!(settings.session.deadline, session::no_deadline());
        // Written anyway (here in 2020, long past), it does not close the amphi.
        let with_deadline =
            TEMPLATE.replace("timezone = \"Europe/Paris\"", "timezone = \"Europe/Paris\"\nmode = \"amphi\"");
        let settings = Settings::parse(&format!("{with_deadline}{table}")).unwrap();
        assert_eq!(settings.session.deadline, session::no_deadline());
        let bad = table.replace("0.5", "0");
        assert!(Settings::parse(&format!("{amphi}{bad}")).unwrap_err().contains("amphi.turn_minutes"));
        let unknown = table.replace("when_absent", "when_away");
        assert!(Settings::parse(&format!("{amphi}{unknown}")).unwrap_err().contains("when_away"));
        let no_deadline = TEMPLATE.replace("deadline = \"2020-05-04T23:59:00\"", "");
        assert!(Settings::parse(&no_deadline).unwrap_err().contains("session.deadline is missing"));
    }

    #[test]
    fn deadline_in_the_autumn_repeated_hour_is_the_later_one() {
        // 02:30 happens at 00:30 UTC (CEST) and again at 01:30 UTC (CET).
        assert_eq!(instant("2020-10-25T02:30:00"), "2020-10-25T01:30:00+00:00");
    }

    #[test]
    fn deadline_in_the_spring_gap_is_the_end_of_the_gap() {
        assert_eq!(instant("2020-03-29T02:30:00"), "2020-03-29T01:00:00+00:00");
    }

    #[test]
    fn summer_and_winter_deadlines_use_the_right_offset() {
        assert_eq!(instant("2020-05-04T23:59:00"), "2020-05-04T21:59:00+00:00");
        assert_eq!(instant("2020-11-04T23:59"), "2020-11-04T22:59:00+00:00");
    }

    /// The deadline `written` in Paris time, as loaded.
    fn instant(written: &str) -> String {
        let text =
            TEMPLATE.replace("deadline = \"2020-05-04T23:59:00\"", &format!("deadline = \"{written}\""));
        Settings::parse(&text).unwrap().session.deadline.to_rfc3339()
    }

    #[test]
    fn a_bad_value_is_refused_at_load_by_its_key() {
        let bad_deadline = TEMPLATE.replace("deadline = \"2020-05-04T23:59:00\"", "deadline = \"4 mai\"");
        assert!(Settings::parse(&bad_deadline).unwrap_err().contains("session.deadline"));
        let bad_from = TEMPLATE.replace("<choix@asso.example>", "<choix>");
        assert!(Settings::parse(&bad_from).unwrap_err().contains("mail.from"));
        let plus = TEMPLATE.replace("reply_to = \"choix@", "reply_to = \"choix+x@");
        assert!(Settings::parse(&plus).unwrap_err().contains("must not contain '+'"));
    }
}
