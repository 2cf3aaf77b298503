//! `choixbot amphi pause | resume | skip EMAIL`, and the amphi's part of
//! `status`: per group, who is choosing, until when, and how many are left.
//!
//! The commands write to the database only; the daemon acts on them at its
//! next step (within seconds): it alone calls and settles turns, so a turn
//! is never settled by two processes at once.

use serde::Serialize;

use crate::amphi::{Intent, Line, Turn};
use crate::answer::french::ms_in_words;
use crate::domain::Email;
use crate::settings::Settings;
use crate::store::{self, amphi as rows, Store};
use crate::{Error, Result};

/// What the referent asks.
#[derive(Debug, Clone, PartialEq, Eq, clap::Subcommand)]
pub enum AmphiAction {
    /// Stop calling interns and stop the clocks of the turns running.
    Pause,
    /// Start again: the turns running get back the time the pause took.
    Resume,
    /// Make this intern absent: at once if it is their turn, else when it comes.
    Skip {
        /// The intern's email address.
        email: String,
    },
}

/// Runs `choixbot amphi …`.
pub async fn amphi(settings: &Settings, store: &Store, action: &AmphiAction) -> Result<()> {
    if settings.amphi().is_none() {
        return Err(Error::bad_input("this session is no amphi: set session.mode = \"amphi\" and [amphi]"));
    }
    let now = store.now_ms();
    let mut tx = store.begin_write().await?;
    let paused = rows::paused_since(&mut tx).await?;
    let said = match action {
        AmphiAction::Pause if paused.is_some() => "The amphi was already paused.".to_string(),
        AmphiAction::Pause => {
            store::set_state(&mut tx, rows::PAUSED_AT, &now.to_string()).await?;
            "The amphi is paused: nobody is called, and the turns running stand still.".to_string()
        }
        AmphiAction::Resume => match paused {
            None => "The amphi was not paused.".to_string(),
            Some(since) => {
                let moved = rows::extend_open_turns(&mut tx, now - since).await?;
                rows::unpause(&mut tx).await?;
                format!(
                    "The amphi goes on; {moved} turn(s) running got back the {} s of the pause.",
                    (now - since) / 1000
                )
            }
        },
        AmphiAction::Skip { email } => {
            let intern = Email::parse(email).map_err(Error::bad_input)?;
            if !store.interns().await?.iter().any(|stored| stored.intern.email == intern) {
                return Err(Error::bad_input(format!("{intern} is not on the call list")));
            }
            // Over: settled, unless PLUS TARD, and so to be called again.
            let settled = rows::turns_of(&mut tx, &intern).await?.last().is_some_and(|turn| {
                turn.settled.as_ref().is_some_and(|s| s.outcome != crate::amphi::Outcome::Later)
            });
            if settled {
                return Err(Error::bad_input(format!("the turn of {intern} is over: a validation is final")));
            }
            rows::set_intent(&mut tx, &intern, Intent::Skipped, now, None).await?;
            format!("{intern} will be absent: at once if it is their turn, else when it comes.")
        }
    };
    store.commit(tx).await?;
    println!("{said}");
    Ok(())
}

/// The amphi in `status`.
#[derive(Debug, Clone, Serialize)]
pub struct AmphiStatus {
    /// Since when the amphi is paused, in words.
    pub paused_since: Option<String>,
    /// Whether every group is done.
    pub finished: bool,
    /// Each group.
    pub groups: Vec<AmphiGroup>,
}

/// One group of the amphi in `status`.
#[derive(Debug, Clone, Serialize)]
pub struct AmphiGroup {
    /// The group (DES).
    pub group: String,
    /// Who is choosing now (email), if anyone.
    pub choosing: Option<String>,
    /// Until when, in words.
    pub until: Option<String>,
    /// How many are still to be called.
    pub left: usize,
    /// How many turns are settled.
    pub settled: usize,
}

impl AmphiStatus {
    /// Reads the amphi, when the session is one.
    pub async fn read(store: &Store, settings: Option<&Settings>) -> Result<Option<Self>> {
        let Some(settings) = settings.filter(|s| s.amphi().is_some()) else { return Ok(None) };
        let tz = settings.session.timezone;
        let mut conn = store.pool().acquire().await.map_err(anyhow::Error::from)?;
        let turns: Vec<Turn> = rows::turns(&mut conn).await?;
        let paused = rows::paused_since(&mut conn).await?;
        let interns: Vec<_> = store.interns().await?.into_iter().map(|stored| stored.intern).collect();
        let mut names: Vec<_> = interns.iter().map(|intern| intern.group.clone()).collect();
        names.sort();
        names.dedup();
        let groups: Vec<AmphiGroup> = names
            .iter()
            .map(|group| {
                let group_turns: Vec<Turn> = turns.iter().filter(|t| &t.group == group).cloned().collect();
                let line = Line::new(interns.iter().filter(|i| &i.group == group).collect(), &group_turns);
                let open = line.open_turn();
                AmphiGroup {
                    group: group.to_string(),
                    choosing: open.map(|turn| turn.intern.to_string()),
                    until: open.map(|turn| ms_in_words(turn.ends_at, tz)),
                    left: line.waiting().len(),
                    settled: group_turns.iter().filter(|t| !t.is_open()).count(),
                }
            })
            .collect();
        let finished = groups.iter().all(|g| g.choosing.is_none() && g.left == 0);
        Ok(Some(Self { paused_since: paused.map(|ms| ms_in_words(ms, tz)), finished, groups }))
    }

    /// The amphi, for the terminal.
    pub fn to_text(&self) -> String {
        let mut text = String::from("Virtual amphi");
        match (&self.paused_since, self.finished) {
            (_, true) => text.push_str(": every group is done.\n"),
            (Some(since), _) => text.push_str(&format!(": PAUSED since {since} (choixbot amphi resume).\n")),
            (None, false) => text.push_str(":\n"),
        }
        for group in &self.groups {
            let now = match (&group.choosing, &group.until) {
                (Some(who), Some(until)) => format!("{who} is choosing until {until}"),
                _ if group.left == 0 => "done".to_string(),
                _ => "nobody is choosing".to_string(),
            };
            text.push_str(&format!(
                "  {}: {now}; {} to call, {} turn(s) settled.\n",
                group.group, group.left, group.settled
            ));
        }
        text.push('\n');
        text
    }
}

/// An intern's turns in the amphi, for `audit`: each call and how it was
/// settled, in order (UTC, to the millisecond).
pub fn audit(turns: &[Turn]) -> String {
    if turns.is_empty() {
        return String::new();
    }
    let at = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .map_or_else(|| ms.to_string(), |at| at.format("%Y-%m-%d %H:%M:%S%.3f UTC").to_string())
    };
    let mut text = String::from("\nAmphi turns:\n");
    for turn in turns {
        text.push_str(&format!(
            "  round {}: called {}, turn until {}\n",
            turn.round,
            at(turn.called_at),
            at(turn.ends_at)
        ));
        match &turn.settled {
            None => text.push_str("    still choosing\n"),
            Some(settled) => {
                let outcome = match &settled.outcome {
                    crate::amphi::Outcome::Chosen { ars_id, status } => {
                        format!("validated n° {ars_id} ({status:?})")
                    }
                    other => other.name().to_string(),
                };
                text.push_str(&format!(
                    "    settled {}: {outcome}, by {}\n",
                    at(settled.at),
                    settled.how.name()
                ));
            }
        }
    }
    text
}
