//! The virtual amphi (SPEC §11, seed 000): interns are called in turns, in
//! rank order within their group, the groups side by side; each chooses
//! among the posts still open in front of them, and a validation is final.
//!
//! This module is the amphi's rules, pure: who is called next
//! ([`Line::next`]), what an intern can still obtain at their turn
//! ([`Seats::first_obtainable`], SPEC §5's rules applied at each turn),
//! what a reply does given the intern's turn ([`judge_reply`]), and the
//! final allocation the list is made of ([`final_allocation`]). The daemon
//! (`collect::amphi`) reads the facts from the store, applies these rules
//! and records what they say, in one transaction per step.
//!
//! Why the database, not memory, holds the turns: a crash or a restart
//! must resume a turn with the time it had left and never validate it
//! twice. A turn's end is an instant recorded at the call, and a reply
//! counts when the server received it (INTERNALDATE) before that instant;
//! a turn is settled by an `UPDATE … WHERE settled_at IS NULL`, once.

mod line;
mod seats;

use chrono::{DateTime, Utc};

pub use line::{Line, Waiting};
pub use seats::{final_allocation, Seats};

use crate::allocation::Status;
use crate::domain::{ArsId, Email, Group};

/// One call of an intern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Turn {
    /// The intern called.
    pub intern: Email,
    /// Their group.
    pub group: Group,
    /// 1 at their rank; 2 when called again after `PLUS TARD`.
    pub round: i64,
    /// When they were called (ms since the epoch).
    pub called_at: i64,
    /// When the turn ends (ms since the epoch; a pause moves it on).
    pub ends_at: i64,
    /// How it was settled, once it is.
    pub settled: Option<Settled>,
}

impl Turn {
    /// Whether the turn is still running.
    pub fn is_open(&self) -> bool {
        self.settled.is_none()
    }
}

/// How a turn ended. Never changed once recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    /// When (ms since the epoch).
    pub at: i64,
    /// What the intern got.
    pub outcome: Outcome,
    /// What settled it.
    pub how: How,
}

/// What a turn gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A post, final: a place (`Status::Assigned`) or as a supernumerary.
    Chosen {
        /// The post.
        ars_id: ArsId,
        /// `Assigned` or `Surnombre`.
        status: Status,
    },
    /// No post.
    Absent,
    /// `PLUS TARD`: called again after the last of the group.
    Later,
}

impl Outcome {
    /// The name stored in the database.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Chosen { .. } => "chosen",
            Self::Absent => "absent",
            Self::Later => "later",
        }
    }
}

/// What settled a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    /// A wish sent before the turn, obtainable at the call.
    Favourite,
    /// A reply during the turn.
    Reply,
    /// The turn ended unanswered: `amphi.when_absent` applied.
    WhenAbsent,
    /// The intern's `ABSENT` or `PLUS TARD`.
    Declared,
    /// A referent's `choixbot amphi skip`.
    Skipped,
}

impl How {
    /// The name stored in the database.
    pub fn name(self) -> &'static str {
        match self {
            Self::Favourite => "favourite",
            Self::Reply => "reply",
            Self::WhenAbsent => "when_absent",
            Self::Declared => "declared",
            Self::Skipped => "skipped",
        }
    }

    /// Reads a stored name back.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Favourite, Self::Reply, Self::WhenAbsent, Self::Declared, Self::Skipped]
            .into_iter()
            .find(|how| how.name() == name)
    }
}

/// What an intern said before their turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    /// `ABSENT`: they will not choose.
    Absent,
    /// `PLUS TARD`: call them after the last of their group.
    Later,
    /// A referent skipped them (`choixbot amphi skip`).
    Skipped,
}

impl Intent {
    /// The name stored in the database.
    pub fn name(self) -> &'static str {
        match self {
            Self::Absent => "absent",
            Self::Later => "later",
            Self::Skipped => "skipped",
        }
    }

    /// Reads a stored name back.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Absent, Self::Later, Self::Skipped].into_iter().find(|intent| intent.name() == name)
    }
}

/// Where an intern stands, for a reply of theirs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// Not called yet: their wishes are favourites.
    Waiting,
    /// Their turn is running until `ends_at`.
    Choosing {
        /// The turn.
        turn: Turn,
    },
    /// Their last turn is settled.
    Settled {
        /// The turn.
        turn: Turn,
        /// Whether they will be called again (`PLUS TARD`).
        again: bool,
    },
}

impl Standing {
    /// From the intern's turns, oldest first.
    pub fn of(turns: &[Turn]) -> Self {
        match turns.last() {
            None => Self::Waiting,
            Some(turn) if turn.is_open() => Self::Choosing { turn: turn.clone() },
            Some(turn) => {
                let again = turn.settled.as_ref().is_some_and(|s| s.outcome == Outcome::Later);
                Self::Settled { turn: turn.clone(), again }
            }
        }
    }
}

/// What a list of wishes sent by an intern does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyEffect {
    /// Before their turn: kept as favourites.
    Favourites,
    /// During their turn: this post is validated, final.
    Validate {
        /// The post.
        ars_id: ArsId,
        /// `Assigned` or `Surnombre`.
        status: Status,
    },
    /// During their turn, but none of the posts named can still be
    /// obtained: refused, and the turn goes on.
    NoneOpen,
    /// Received after their turn ended, before it was settled: the end of
    /// the turn decides (`amphi.when_absent`).
    AfterTurn {
        /// When the turn ended (ms).
        ended_at: i64,
    },
    /// Their turn is settled: nothing changes.
    AlreadySettled {
        /// The settled turn.
        turn: Turn,
    },
}

/// What the wishes `wishes`, received by the server at `received`, do for
/// an intern who stands at `standing`; `obtainable` says what they can
/// still obtain now.
pub fn judge_reply(
    standing: &Standing,
    received: DateTime<Utc>,
    wishes: &[ArsId],
    obtainable: impl Fn(&[ArsId]) -> Option<(ArsId, Status)>,
) -> ReplyEffect {
    match standing {
        Standing::Waiting | Standing::Settled { again: true, .. } => ReplyEffect::Favourites,
        Standing::Choosing { turn } if received.timestamp_millis() >= turn.ends_at => {
            ReplyEffect::AfterTurn { ended_at: turn.ends_at }
        }
        Standing::Choosing { .. } => match obtainable(wishes) {
            Some((ars_id, status)) => ReplyEffect::Validate { ars_id, status },
            None => ReplyEffect::NoneOpen,
        },
        Standing::Settled { turn, again: false } => ReplyEffect::AlreadySettled { turn: turn.clone() },
    }
}

#[cfg(test)]
mod tests;
