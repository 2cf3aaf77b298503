//! What the amphi's emails are given (SPEC §11): one template, `amphi`,
//! whose `kind` says which moment of the intern's turn it is about.

use serde::Serialize;

use super::context::{InternFacts, PostLine, SessionFacts, WishLine};
use crate::domain::Intern;

/// Which of the amphi's emails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AmphiKind {
    /// "C'est votre tour": the posts open, until when, how to answer.
    Turn,
    /// Your turn is near: how many are ahead, an estimated time.
    Soon,
    /// A post validated, final (at the call from a favourite, or from a
    /// reply during the turn, or at its end from the wishes).
    Validated,
    /// During the turn, none of the posts named can be obtained (taken,
    /// not of the group): the turn goes on, with the posts still open.
    Refused,
    /// Before the turn: the wishes are kept as favourites.
    Favourites,
    /// `ABSENT` before the turn is recorded.
    DeclaredAbsent,
    /// `PLUS TARD` is recorded: called after the last of the group.
    Later,
    /// `PLUS TARD` refused: it was already asked once.
    LaterRefused,
    /// The turn is settled: nothing changes any more.
    Settled,
    /// The reply came after the end of the turn.
    AfterTurn,
    /// The turn ended without a choice: absent.
    Absent,
    /// `STATUT` or `POSTES`: where the intern stands (waiting, how many
    /// ahead; choosing, until when; done, with what), the favourites and
    /// the posts still open.
    Standing,
}

impl AmphiKind {
    /// Every kind, for the templates' check.
    pub const ALL: [AmphiKind; 12] = [
        Self::Turn,
        Self::Soon,
        Self::Validated,
        Self::Refused,
        Self::Favourites,
        Self::DeclaredAbsent,
        Self::Later,
        Self::LaterRefused,
        Self::Settled,
        Self::AfterTurn,
        Self::Absent,
        Self::Standing,
    ];
}

/// `amphi`: one moment of an intern's turn.
#[derive(Debug, Clone, Serialize)]
pub struct AmphiContext {
    /// Which email.
    pub kind: AmphiKind,
    /// The session.
    pub session: SessionFacts,
    /// The intern.
    pub intern: InternFacts,
    /// Whether this copy goes to the intern's proxy.
    pub proxy: bool,
    /// The post validated (`validated`, and `settled` when they have one).
    pub post: Option<PostLine>,
    /// Whether that post is taken as a supernumerary.
    pub surnombre: bool,
    /// What validated it: "favourite", "reply", "when_absent".
    pub how: Option<&'static str>,
    /// The posts the intern can obtain now, with their places left.
    pub open_posts: Vec<PostLine>,
    /// The wishes sent (favourites, or the list refused).
    pub wishes: Vec<WishLine>,
    /// Why the list was refused, one sentence each.
    pub reasons: Vec<String>,
    /// When the turn ends (or ended), in words.
    pub ends_at: Option<String>,
    /// When the turn will come at the latest, in words (`soon`).
    pub estimated_at: Option<String>,
    /// How many interns are ahead (`soon`).
    pub ahead: usize,
    /// The length of a turn, in words ("10 minutes", "30 secondes").
    pub turn_length: String,
    /// When the amphi starts, in words.
    pub start: String,
    /// Whether an unanswered turn takes the best obtainable wish
    /// (`when_absent = "wishes"`).
    pub when_absent_wishes: bool,
    /// Whether this is the call after `PLUS TARD`.
    pub again: bool,
}

impl AmphiContext {
    /// An email of `kind` to `intern` (or their proxy), the rest empty.
    pub fn new(kind: AmphiKind, session: SessionFacts, intern: &Intern, proxy: bool, turn_ms: i64) -> Self {
        Self {
            kind,
            session,
            intern: InternFacts::from(intern),
            proxy,
            post: None,
            surnombre: false,
            how: None,
            open_posts: Vec::new(),
            wishes: Vec::new(),
            reasons: Vec::new(),
            ends_at: None,
            estimated_at: None,
            ahead: 0,
            turn_length: length_in_words(turn_ms),
            start: String::new(),
            when_absent_wishes: false,
            again: false,
        }
    }
}

/// "10 minutes", "1 minute 30 s", "30 secondes".
pub fn length_in_words(ms: i64) -> String {
    let seconds = (ms + 500) / 1000;
    let (minutes, rest) = (seconds / 60, seconds % 60);
    match (minutes, rest) {
        (0, s) => format!("{s} seconde{}", if s > 1 { "s" } else { "" }),
        (m, 0) => format!("{m} minute{}", if m > 1 { "s" } else { "" }),
        (m, s) => format!("{m} min {s:02} s"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_turn_length_reads_in_french() {
        assert_eq!(super::length_in_words(600_000), "10 minutes");
        assert_eq!(super::length_in_words(30_000), "30 secondes");
        assert_eq!(super::length_in_words(90_000), "1 min 30 s");
        assert_eq!(super::length_in_words(60_000), "1 minute");
    }
}
