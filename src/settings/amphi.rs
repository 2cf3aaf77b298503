//! `[session] mode` and `[amphi]`: the virtual amphi (SPEC §11, seed 000),
//! resolved once at load. In the amphi, interns choose in turns, in rank
//! order within their group, among the posts still open in front of them;
//! the groups run side by side.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Deserialize;

/// How the session runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Ranked wishes until the deadline, allocated at the close (SPEC §3).
    #[default]
    Deadline,
    /// Turns in rank order, each validation final (SPEC §11).
    Amphi,
}

/// What happens at the end of a turn with no valid reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WhenAbsent {
    /// The intern is absent: no post.
    Absent,
    /// The best obtainable of the intern's wishes, if any (the national
    /// procedure's rule for an absent candidate with pre-choices).
    Wishes,
}

/// `[amphi]`, resolved.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawAmphi")]
pub struct AmphiSettings {
    /// When the first turns are called, as an instant.
    pub start: DateTime<Utc>,
    /// `start` as written (local time), for the log.
    pub start_written: String,
    /// How long one turn lasts, in milliseconds (`turn_minutes`, decimals
    /// allowed: 0.5 is 30 s).
    pub turn_ms: i64,
    /// What an unanswered turn gives.
    pub when_absent: WhenAbsent,
    /// An intern is told their turn is near when this many interns are
    /// ahead of them in their group (3 by default; 0: no such notice).
    pub notice_ahead: u32,
}

/// `[amphi]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAmphi {
    start: String,
    turn_minutes: f64,
    #[serde(default = "default_when_absent")]
    when_absent: WhenAbsent,
    #[serde(default = "default_notice_ahead")]
    notice_ahead: u32,
}

fn default_when_absent() -> WhenAbsent {
    WhenAbsent::Absent
}
fn default_notice_ahead() -> u32 {
    3
}

impl TryFrom<RawAmphi> for AmphiSettings {
    type Error = String;

    fn try_from(raw: RawAmphi) -> Result<Self, String> {
        if !(raw.turn_minutes.is_finite() && raw.turn_minutes > 0.0 && raw.turn_minutes <= 24.0 * 60.0) {
            return Err(format!(
                "amphi.turn_minutes = {} must be more than 0 and at most a day (1440)",
                raw.turn_minutes
            ));
        }
        let turn_ms = (raw.turn_minutes * 60_000.0).round() as i64;
        if turn_ms < 1_000 {
            return Err("amphi.turn_minutes is under a second: an intern could not answer".into());
        }
        Ok(Self {
            // The time zone is the session's: resolved in `Settings::check`.
            start: DateTime::<Utc>::MIN_UTC,
            start_written: raw.start,
            turn_ms,
            when_absent: raw.when_absent,
            notice_ahead: raw.notice_ahead,
        })
    }
}

impl AmphiSettings {
    /// Resolves `start` in the session's time zone (the same rules as the
    /// deadline for the hours daylight saving repeats or skips).
    pub(super) fn resolve(&mut self, tz: Tz) -> Result<(), String> {
        self.start = super::session::deadline_instant(&self.start_written, tz)
            .map_err(|error| error.replace("session.deadline", "amphi.start"))?;
        Ok(())
    }

    /// One turn's length.
    pub fn turn(&self) -> chrono::Duration {
        chrono::Duration::milliseconds(self.turn_ms)
    }
}
