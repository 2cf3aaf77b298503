//! The contexts of the emails sent at and after the close: the "closed"
//! answer, each intern's result, the vacant-posts notice and the email to
//! the ARS (the other contexts are in `context.rs`).

use serde::Serialize;

use super::catalog::PostCatalog;
use super::context::{InternFacts, Outcome, PostLine, SessionFacts, WishLine};
use crate::allocation::{Assignment, Vacancy};

pub use self::list_warning::mailbox_warning;
use crate::domain::{ArsId, Intern};

/// `closed`: a reply that arrived after the close.
#[derive(Debug, Clone, Serialize)]
pub struct ClosedContext {
    /// The session.
    pub session: SessionFacts,
    /// The intern who wrote.
    pub intern: InternFacts,
    /// Whether this copy goes to the intern's proxy.
    pub proxy: bool,
    /// The wishes recorded at the close (empty: none).
    pub wishes: Vec<WishLine>,
    /// The result, once the final allocation has run.
    pub result: Option<Outcome>,
    /// When the IMAP server received the message, in words to the second
    /// ("lundi 4 mai 2020 à 23 h 59 min 58 s (heure de Paris)"), when known.
    pub received: Option<String>,
    /// Whether it was received at or after the deadline (rather than
    /// before it, but after a close that a referent made early).
    pub after_deadline: bool,
}

impl ClosedContext {
    pub fn new(
        session: SessionFacts,
        intern: &Intern,
        proxy: bool,
        wishes: &[ArsId],
        result: Option<&Assignment>,
        posts: &PostCatalog<'_>,
    ) -> Self {
        Self {
            session,
            intern: intern.into(),
            proxy,
            wishes: WishLine::list(wishes, &intern.group, posts),
            result: result.map(|a| Outcome::from_assignment(a, posts)),
            received: None,
            after_deadline: true,
        }
    }

    /// The same, saying when the message was received, and whether that
    /// was after `deadline`.
    pub fn received_at(
        mut self,
        received: Option<chrono::DateTime<chrono::Utc>>,
        deadline: chrono::DateTime<chrono::Utc>,
        tz: chrono_tz::Tz,
    ) -> Self {
        self.received = received.map(|at| super::french::instant_in_words(at, tz));
        self.after_deadline = !received.is_some_and(|at| at < deadline);
        self
    }
}

/// `result`: the final result, sent to each intern at the close.
#[derive(Debug, Clone, Serialize)]
pub struct ResultContext {
    /// The session.
    pub session: SessionFacts,
    /// The intern.
    pub intern: InternFacts,
    /// Whether this copy goes to the intern's proxy.
    pub proxy: bool,
    /// What the intern obtained.
    pub outcome: Outcome,
    /// The wishes the result was computed from (empty: absent).
    pub wishes: Vec<WishLine>,
}

impl ResultContext {
    pub fn new(
        session: SessionFacts,
        intern: &Intern,
        proxy: bool,
        assignment: &Assignment,
        wishes: &[ArsId],
        posts: &PostCatalog<'_>,
    ) -> Self {
        Self {
            session,
            intern: intern.into(),
            proxy,
            outcome: Outcome::from_assignment(assignment, posts),
            wishes: WishLine::list(wishes, &intern.group, posts),
        }
    }
}

/// `vacancies`: for absent and unassigned interns, the posts of their group
/// still vacant and whom to contact (seed 000: "Vous devrez alors nous
/// contacter afin de choisir sur les postes restés vacants").
#[derive(Debug, Clone, Serialize)]
pub struct VacanciesContext {
    /// The session (its `contacts` are whom to write to).
    pub session: SessionFacts,
    /// The intern.
    pub intern: InternFacts,
    /// Whether this copy goes to the intern's proxy.
    pub proxy: bool,
    /// Whether the intern gave no wishes (absent) rather than wishes that
    /// were all taken (unassigned).
    pub absent: bool,
    /// The vacant posts of the group, with places left.
    pub vacancies: Vec<PostLine>,
}

impl VacanciesContext {
    pub fn new(
        session: SessionFacts,
        intern: &Intern,
        proxy: bool,
        assignment: &Assignment,
        vacancies: &[Vacancy],
        posts: &PostCatalog<'_>,
    ) -> Self {
        Self {
            session,
            intern: intern.into(),
            proxy,
            absent: assignment.status == crate::allocation::Status::Absent,
            vacancies: PostLine::vacant_in(&intern.group, vacancies, posts),
        }
    }
}

/// `ars_list`: the cover text of the consolidated list.
#[derive(Debug, Clone, Serialize)]
pub struct ArsListContext {
    /// The session.
    pub session: SessionFacts,
    /// The readable summary made by `ars_list::summary`, given as is.
    pub summary: String,
    /// The attachments' file names, for the cover text.
    pub attachments: Vec<String>,
    /// How many interns are listed.
    pub interns: usize,
    /// Set when the list was made without reading the mailbox up to the
    /// deadline: replies may be missing (see [`mailbox_warning`]).
    pub warning: Option<String>,
}

impl ArsListContext {
    /// The cover of the list: `summary` from `ars_list::summary`, the
    /// attachments as they will be sent.
    pub fn new(
        session: SessionFacts,
        summary: String,
        attachments: &[super::compose::Attachment],
        interns: usize,
    ) -> Self {
        Self {
            session,
            summary,
            attachments: attachments.iter().map(|a| a.name.clone()).collect(),
            interns,
            warning: None,
        }
    }
}

/// `alert`: to the referents, about what will not heal by itself: the
/// mailbox refused choixbot, or the list is held at the deadline because
/// the mailbox cannot be read.
#[derive(Debug, Clone, Serialize)]
pub struct AlertContext {
    /// The session.
    pub session: SessionFacts,
    /// Whether the list is held (past the deadline), rather than a refusal
    /// before it.
    pub held: bool,
    /// Since when the mailbox cannot be read, in words.
    pub since: String,
    /// The exact error.
    pub error: String,
    /// What to change, when choixbot knows (a refused login, certificate
    /// or folder).
    pub remedy: Option<String>,
}

mod list_warning {
    /// The sentence the list carries when it was made without reading the
    /// mailbox up to the deadline (`choixbot close --without-mailbox`).
    pub fn mailbox_warning(unreadable_since: Option<&str>) -> String {
        match unreadable_since {
            Some(since) => format!(
                "ATTENTION : cette liste a été établie sans relire la boîte de réception, \
                 injoignable depuis le {since}. Des réponses reçues avant la date limite \
                 peuvent y manquer."
            ),
            None => "ATTENTION : cette liste a été établie sans relire la boîte de réception. \
                     Des réponses reçues avant la date limite peuvent y manquer."
                .to_string(),
        }
    }
}
