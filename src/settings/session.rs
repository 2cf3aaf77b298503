//! `[session]` and `[mail]`, resolved once at load into typed values: the
//! deadline as an instant in its time zone, the addresses as [`Email`]s,
//! the From as a mailbox. A value that does not parse is an error at load
//! that names its key; nothing downstream parses these strings again.
//!
//! serde reads the file's text into the `Raw*` structs (which refuse an
//! unknown key), then `TryFrom` resolves them.

use std::path::PathBuf;

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use lettre::message::Mailbox;
use serde::Deserialize;

use crate::domain::Email;

/// `[session]`: what is being chosen, until when, and who receives the list.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawSession")]
pub struct SessionSettings {
    /// The session's name, shown in every email ("Semestre d'été 2020").
    pub name: String,
    /// How the session runs: ranked wishes until a deadline (the
    /// default), or the virtual amphi (`[amphi]`).
    pub mode: super::Mode,
    /// The deadline as an instant (see [`deadline_instant`]). In the
    /// amphi, where the session ends when every group is done, it may be
    /// left out and is not used: it is [`no_deadline`], which nothing
    /// reaches.
    pub deadline: DateTime<Utc>,
    /// The deadline as written in the file (local time): the log shows it,
    /// and the list's Message-ID is derived from it.
    pub deadline_written: String,
    /// The session's time zone; `Europe/Paris` by default.
    pub timezone: Tz,
    /// Who at the ARS receives the consolidated list (at least one).
    pub ars_recipients: Vec<Email>,
    /// The referents: in copy of the list, told of what will not heal by
    /// itself, and named as the contact in emails. Optional.
    pub referents: Vec<Email>,
    /// How many supernumeraries one (post, group) may take. 1 by default.
    pub supernumerary_cap: u32,
    /// How many days after the close the raw messages and the bodies of
    /// what was sent are kept, for the audit; then they are deleted (the
    /// list, the decisions and their dates stay). 90 by default.
    pub retention_days: u32,
}

/// `[session]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSession {
    name: String,
    #[serde(default)]
    mode: super::Mode,
    #[serde(default)]
    deadline: Option<String>,
    #[serde(default = "default_timezone")]
    timezone: String,
    ars_recipients: Vec<String>,
    #[serde(default)]
    referents: Vec<String>,
    #[serde(default = "default_supernumerary_cap")]
    supernumerary_cap: u32,
    #[serde(default = "default_retention_days")]
    retention_days: u32,
}

/// The deadline of an amphi that names none: far enough that no clock
/// reaches it, near enough that adding a few seconds cannot overflow.
/// (The first instant of the year 9000.)
pub fn no_deadline() -> DateTime<Utc> {
    DateTime::from_timestamp(221_845_392_000, 0).expect("a valid instant")
}

fn default_timezone() -> String {
    "Europe/Paris".into()
}
fn default_supernumerary_cap() -> u32 {
    1
}
fn default_retention_days() -> u32 {
    90
}

impl TryFrom<RawSession> for SessionSettings {
    type Error = String;

    fn try_from(raw: RawSession) -> Result<Self, String> {
        let timezone: Tz = raw
            .timezone
            .parse()
            .map_err(|_| format!("session.timezone {:?} is not a known time zone", raw.timezone))?;
        // An amphi ends when every group is done, not at a time: a deadline
        // written anyway is checked, and not used (a past one would close
        // the session before the first call).
        let (deadline, deadline_written) = match (raw.deadline, raw.mode) {
            (Some(written), super::Mode::Amphi) => {
                deadline_instant(&written, timezone)?;
                (no_deadline(), String::new())
            }
            (Some(written), super::Mode::Deadline) => (deadline_instant(&written, timezone)?, written),
            (None, super::Mode::Amphi) => (no_deadline(), String::new()),
            (None, super::Mode::Deadline) => return Err("session.deadline is missing".into()),
        };
        if raw.ars_recipients.is_empty() {
            return Err("session.ars_recipients is empty: whom should the list be sent to?".into());
        }
        let emails = |key: &str, addresses: &[String]| {
            addresses
                .iter()
                .map(|address| Email::parse(address).map_err(|error| format!("session.{key}: {error}")))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(Self {
            ars_recipients: emails("ars_recipients", &raw.ars_recipients)?,
            referents: emails("referents", &raw.referents)?,
            name: raw.name,
            mode: raw.mode,
            deadline,
            deadline_written,
            timezone,
            supernumerary_cap: raw.supernumerary_cap,
            retention_days: raw.retention_days,
        })
    }
}

/// The deadline, written in local time in `tz`, as an instant.
///
/// Daylight saving makes two local times special. In the autumn hour that
/// happens twice, the deadline is the second one (the later: no intern
/// loses time they could read on a clock). In the spring hour that does not
/// exist, the deadline is the first instant after the gap.
pub fn deadline_instant(written: &str, tz: Tz) -> Result<DateTime<Utc>, String> {
    let naive = parse_local_datetime(written)?;
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
                .ok_or_else(|| format!("session.deadline {written:?} does not exist in {tz}"))?
        }
    };
    Ok(instant.with_timezone(&Utc))
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

/// `[mail]`: how choixbot's own messages are addressed.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawMail")]
pub struct MailSettings {
    /// The From of every message (`Name <address>` or a bare address).
    pub from: Mailbox,
    /// The address of the From.
    pub from_address: Email,
    /// The address replies go to; each intern's token is added after a
    /// `+` ([`MailSettings::reply_to_for`]).
    pub reply_to: Email,
    /// How many messages `invite` and the outbox send per minute at most
    /// (providers cap it; Gmail accepts about 20 a minute). 0: no limit.
    pub max_per_minute: u32,
    /// How many answers one sender may cause per hour; further messages are
    /// recorded but not answered (a loop breaker). 30 by default.
    pub max_answers_per_sender_per_hour: u32,
    /// A directory of templates that replace the built-in ones (same file
    /// names as `templates/` in the repository); `None` for the built-in ones.
    pub templates_dir: Option<PathBuf>,
    /// At most one displacement notice per intern per this many minutes
    /// (SPEC §11): an intern displaced again meanwhile is told once, when
    /// the time is up, with the state then. 30 by default.
    pub notice_minutes: u32,
}

/// `[mail]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMail {
    from: String,
    reply_to: String,
    #[serde(default)]
    max_per_minute: u32,
    #[serde(default = "default_sender_hourly_limit")]
    max_answers_per_sender_per_hour: u32,
    #[serde(default)]
    templates_dir: String,
    #[serde(default = "default_notice_minutes")]
    notice_minutes: u32,
}

fn default_sender_hourly_limit() -> u32 {
    30
}
fn default_notice_minutes() -> u32 {
    30
}

impl TryFrom<RawMail> for MailSettings {
    type Error = String;

    fn try_from(raw: RawMail) -> Result<Self, String> {
        // Our own Email rules first (lower case, a dotted domain), so that
        // the From is an address choixbot would accept from an intern.
        let address = Email::parse(&raw.from).map_err(|error| format!("mail.from: {error}"))?;
        let from: Mailbox = raw
            .from
            .trim()
            .parse()
            .map_err(|error| format!("mail.from {:?} is not a mailbox: {error}", raw.from))?;
        let from = Mailbox::new(from.name, address.as_str().parse().map_err(|e| format!("mail.from: {e}"))?);
        let from_address = address;
        let reply_to = Email::parse(&raw.reply_to).map_err(|error| format!("mail.reply_to: {error}"))?;
        if reply_to.local_part().contains('+') {
            return Err("mail.reply_to must not contain '+': choixbot adds '+TOKEN' itself".into());
        }
        let templates_dir = Some(raw.templates_dir.trim()).filter(|dir| !dir.is_empty()).map(PathBuf::from);
        Ok(Self {
            from,
            from_address,
            reply_to,
            max_per_minute: raw.max_per_minute,
            max_answers_per_sender_per_hour: raw.max_answers_per_sender_per_hour,
            templates_dir,
            notice_minutes: raw.notice_minutes,
        })
    }
}

impl MailSettings {
    /// `choix+TOKEN@domain`.
    pub fn reply_to_for(&self, token: &crate::domain::Token) -> String {
        format!("{}+{}@{}", self.reply_to.local_part(), token, self.reply_to.domain())
    }
}
