//! What the answers to the commands by email are given (SPEC §11): typed
//! contexts for `status` (STATUT), `posts` (POSTES), `help` (AIDE),
//! `cancelled` (ANNULER), `notifications` (NOTIFS), `proxy` (a proxy
//! requested, accepted, revoked…), `proxy_request` (to the address an
//! intern designated) and `notice` (a better-ranked intern took the post).

pub(super) mod sample;

use serde::Serialize;

use super::catalog::PostCatalog;
use super::context::{InternFacts, Outcome, SessionFacts, WishLine};
use super::french::places_in_words;
use crate::allocation::{Assignment, Standing, Status};
use crate::domain::{ArsId, Intern};

/// `status`: the answer to STATUT.
#[derive(Debug, Clone, Serialize)]
pub struct StatusContext {
    /// The session.
    pub session: SessionFacts,
    /// The intern.
    pub intern: InternFacts,
    /// Whether this copy goes to the intern's proxy.
    pub proxy: bool,
    /// The wishes in force, in order (empty: none).
    pub wishes: Vec<WishLine>,
    /// What the intern would get if the session closed now (or, after the
    /// deadline, gets).
    pub result: Outcome,
    /// Why: the wishes ahead of the result that better-ranked interns
    /// already take (every wish, when nothing is obtainable).
    pub taken: Vec<WishLine>,
    /// Whether the deadline has passed: the result is then final.
    pub final_result: bool,
    /// The proxy in force, if any.
    pub proxy_email: Option<String>,
    /// A designated proxy who has not accepted yet.
    pub pending_proxy: Option<String>,
    /// Whether displacement notices are on.
    pub notices: bool,
}

impl StatusContext {
    pub fn new(
        session: SessionFacts,
        intern: &Intern,
        proxy: bool,
        wishes: &[ArsId],
        result: &Assignment,
        posts: &PostCatalog<'_>,
    ) -> Self {
        let lines = WishLine::list(wishes, &intern.group, posts);
        let taken = match (&result.status, &result.ars_id) {
            (Status::Assigned | Status::Surnombre, Some(got)) => {
                lines.iter().take_while(|line| line.ars_id != got.as_str()).cloned().collect()
            }
            (Status::Unassigned, _) => lines.clone(),
            _ => Vec::new(),
        };
        Self {
            session,
            intern: intern.into(),
            proxy,
            wishes: lines,
            result: Outcome::from_assignment(result, posts),
            taken,
            final_result: false,
            proxy_email: intern.proxy_email.as_ref().map(ToString::to_string),
            pending_proxy: None,
            notices: true,
        }
    }
}

/// One post of the group in the answer to POSTES.
#[derive(Debug, Clone, Serialize)]
pub struct PostStanding {
    /// The ARS number.
    pub ars_id: String,
    /// "Bichat – Cardiologie (Paris)"; may be empty.
    pub label: String,
    /// Its places.
    pub places: u32,
    /// Places left now (what the provisional allocation leaves).
    pub places_left: u32,
    /// The same, in words: "1 place".
    pub places_left_text: String,
    /// Whether the intern would obtain it as their first wish now.
    pub obtainable: bool,
    /// Its position in the intern's wishes, if it is one.
    pub wish: Option<usize>,
}

/// `posts`: the answer to POSTES.
#[derive(Debug, Clone, Serialize)]
pub struct PostsContext {
    /// The session.
    pub session: SessionFacts,
    /// The intern.
    pub intern: InternFacts,
    /// Whether this copy goes to the intern's proxy.
    pub proxy: bool,
    /// Every post of the intern's group, in ARS-number order.
    pub posts: Vec<PostStanding>,
    /// How many of them are obtainable.
    pub obtainable: usize,
}

impl PostsContext {
    /// `standing` is [`crate::allocation::standing`] for the group's posts.
    pub fn new(
        session: SessionFacts,
        intern: &Intern,
        proxy: bool,
        wishes: &[ArsId],
        standing: &[Standing],
        posts: &PostCatalog<'_>,
    ) -> Self {
        let by_id: std::collections::HashMap<&ArsId, &Standing> =
            standing.iter().map(|s| (&s.ars_id, s)).collect();
        let lines: Vec<PostStanding> = posts
            .open_to(&intern.group)
            .iter()
            .filter_map(|post| by_id.get(&post.ars_id).map(|s| (post, s)))
            .map(|(post, s)| PostStanding {
                ars_id: post.ars_id.to_string(),
                label: post.label(),
                places: s.places,
                places_left: s.places_left,
                places_left_text: places_in_words(s.places_left),
                obtainable: s.obtainable,
                wish: wishes.iter().position(|w| w == &post.ars_id).map(|i| i + 1),
            })
            .collect();
        Self {
            session,
            intern: intern.into(),
            proxy,
            obtainable: lines.iter().filter(|l| l.obtainable).count(),
            posts: lines,
        }
    }
}

/// `help`: the answer to AIDE.
#[derive(Debug, Clone, Serialize)]
pub struct HelpContext {
    /// The session.
    pub session: SessionFacts,
    /// The intern.
    pub intern: InternFacts,
    /// Whether this copy goes to the intern's proxy.
    pub proxy: bool,
    /// A real post of the group for the examples (empty: the group has none).
    pub example: String,
}

impl HelpContext {
    pub fn new(session: SessionFacts, intern: &Intern, proxy: bool, posts: &PostCatalog<'_>) -> Self {
        let example = posts.open_to(&intern.group).first().map(|p| p.ars_id.to_string()).unwrap_or_default();
        Self { session, intern: intern.into(), proxy, example }
    }
}

/// `cancelled`: the answer to ANNULER.
#[derive(Debug, Clone, Serialize)]
pub struct CancelledContext {
    /// The session.
    pub session: SessionFacts,
    /// The intern.
    pub intern: InternFacts,
    /// Whether this copy goes to the intern's proxy.
    pub proxy: bool,
    /// The wishes withdrawn (empty: there were none).
    pub withdrawn: Vec<WishLine>,
}

impl CancelledContext {
    pub fn new(
        session: SessionFacts,
        intern: &Intern,
        proxy: bool,
        withdrawn: &[ArsId],
        posts: &PostCatalog<'_>,
    ) -> Self {
        Self {
            session,
            intern: intern.into(),
            proxy,
            withdrawn: WishLine::list(withdrawn, &intern.group, posts),
        }
    }
}

/// `notifications`: the answer to NOTIFS OUI / NOTIFS NON.
#[derive(Debug, Clone, Serialize)]
pub struct NotificationsContext {
    /// The session.
    pub session: SessionFacts,
    /// The intern.
    pub intern: InternFacts,
    /// Whether this copy goes to the intern's proxy.
    pub proxy: bool,
    /// Whether notices are on now.
    pub on: bool,
}

/// What happened to a proxy, for the `proxy` template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProxyEvent {
    /// The intern designated `address`; a request went to it.
    Requested,
    /// `address` accepted: they are the proxy now.
    Accepted,
    /// The intern revoked their proxy (`address`, if one was in force).
    Revoked,
    /// To a former proxy: they no longer choose for the intern.
    Ended,
    /// To an address whose request the intern withdrew.
    Withdrawn,
}

/// `proxy`: a proxy changed, told to the intern and to the people
/// concerned.
#[derive(Debug, Clone, Serialize)]
pub struct ProxyContext {
    /// The session.
    pub session: SessionFacts,
    /// The intern whose proxy it is.
    pub intern: InternFacts,
    /// Whether this copy goes to a proxy (or a designated one) rather than
    /// to the intern.
    pub proxy: bool,
    /// What happened.
    pub event: ProxyEvent,
    /// The proxy concerned (empty for a revocation with none in force).
    pub address: String,
}

impl ProxyContext {
    pub fn new(
        session: SessionFacts,
        intern: &Intern,
        proxy: bool,
        event: ProxyEvent,
        address: &str,
    ) -> Self {
        Self { session, intern: intern.into(), proxy, event, address: address.to_string() }
    }
}

/// `proxy_request`: to the address an intern designated as proxy.
#[derive(Debug, Clone, Serialize)]
pub struct ProxyRequestContext {
    /// The session.
    pub session: SessionFacts,
    /// The intern who asks.
    pub intern: InternFacts,
    /// The intern's address.
    pub intern_email: String,
    /// The address asked.
    pub address: String,
}

/// `notice`: a better-ranked intern's reply took the intern's post.
#[derive(Debug, Clone, Serialize)]
pub struct NoticeContext {
    /// The session.
    pub session: SessionFacts,
    /// The intern.
    pub intern: InternFacts,
    /// Whether this copy goes to the intern's proxy.
    pub proxy: bool,
    /// The post lost: its number and label.
    pub lost: WishLine,
    /// What the intern would get now.
    pub now: Outcome,
    /// The wishes in force, in order.
    pub wishes: Vec<WishLine>,
}

impl NoticeContext {
    pub fn new(
        session: SessionFacts,
        intern: &Intern,
        proxy: bool,
        lost: &ArsId,
        (wishes, now): (&[ArsId], &Assignment),
        posts: &PostCatalog<'_>,
    ) -> Self {
        let lines = WishLine::list(wishes, &intern.group, posts);
        let position = lines.iter().find(|l| l.ars_id == lost.as_str()).map_or(0, |l| l.position);
        Self {
            session,
            intern: intern.into(),
            proxy,
            lost: WishLine { position, ars_id: lost.to_string(), label: posts.label(lost, &intern.group) },
            now: Outcome::from_assignment(now, posts),
            wishes: lines,
        }
    }
}
