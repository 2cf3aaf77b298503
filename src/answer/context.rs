//! What each template is given: typed, serialisable contexts built from the
//! domain types, so a template can only use what is really there and the
//! daemon cannot forget a field.
//!
//! Every context carries a [`SessionFacts`] (`session.*` in the templates)
//! and, where an intern is concerned, an [`InternFacts`] (`intern.*`) with
//! `proxy` telling whether the message goes to the intern's proxy (who then
//! chooses "au nom de" the intern). Numbers that people read are given ready
//! to print ("3 places"), so a referent editing a template needs no filter.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::catalog::{ars_order, PostCatalog};
use super::french::{deadline_in_words, places_in_words};
use super::reason::Reason;
use crate::allocation::{Assignment, Status, Vacancy};
use crate::domain::{ArsId, Email, Group, Intern, Post};

/// What every email says about the session.
#[derive(Debug, Clone, Serialize)]
pub struct SessionFacts {
    /// "Semestre d'été 2020".
    pub name: String,
    /// The deadline in words, in the session's time zone.
    pub deadline: String,
    /// Whom to write to for help: the referents' addresses.
    pub contacts: Vec<String>,
    /// In the virtual amphi: when it starts, in words (the invitation
    /// explains the turns instead of a deadline).
    pub amphi_start: Option<String>,
    /// In the virtual amphi: one turn's length, in words.
    pub amphi_turn: Option<String>,
}

impl SessionFacts {
    /// `contacts` are the referents; when there are none, give the From
    /// address of the session, so an email never says "contact nobody".
    pub fn new(name: &str, deadline: DateTime<Utc>, tz: Tz, contacts: &[Email]) -> Self {
        Self {
            name: name.to_string(),
            deadline: deadline_in_words(deadline, tz),
            contacts: contacts.iter().map(ToString::to_string).collect(),
            amphi_start: None,
            amphi_turn: None,
        }
    }

    /// From `choixbot.toml`: the referents, else the From address.
    pub fn from_settings(settings: &crate::settings::Settings) -> Self {
        let session = &settings.session;
        let mut contacts = session.referents.clone();
        if contacts.is_empty() {
            contacts.push(settings.mail.from_address.clone());
        }
        let mut facts = Self::new(&session.name, session.deadline, session.timezone, &contacts);
        if let Some(amphi) = settings.amphi() {
            // Favourites count until the amphi starts: that is the date an
            // intern must know, where the deadline mode gives its deadline.
            facts.deadline = deadline_in_words(amphi.start, session.timezone);
            facts.amphi_start = Some(facts.deadline.clone());
            facts.amphi_turn = Some(super::amphi::length_in_words(amphi.turn_ms));
        }
        facts
    }
}

/// The intern an email is about.
#[derive(Debug, Clone, Serialize)]
pub struct InternFacts {
    /// "prénom".
    pub first_name: String,
    /// "nom".
    pub last_name: String,
    /// "Jeanne Martin".
    pub full_name: String,
    /// The group (DES).
    pub group: String,
    /// The rank on the call list.
    pub rank: u32,
    /// "classique", "surnombre validant", "surnombre non validant".
    pub choice_type: String,
    /// Whether the intern chooses as a supernumerary.
    pub supernumerary: bool,
}

impl From<&Intern> for InternFacts {
    fn from(intern: &Intern) -> Self {
        Self {
            first_name: intern.first_name.clone(),
            last_name: intern.last_name.clone(),
            full_name: intern.full_name(),
            group: intern.group.to_string(),
            rank: intern.rank.get(),
            choice_type: intern.choice_type.label().to_string(),
            supernumerary: intern.choice_type.is_supernumerary(),
        }
    }
}

/// One post in a list: the group's open posts, or its vacant posts.
#[derive(Debug, Clone, Serialize)]
pub struct PostLine {
    /// The ARS number.
    pub ars_id: String,
    /// "Bichat – Cardiologie (Paris)"; may be empty when the ARS gave none.
    pub label: String,
    /// Places (open posts) or places left (vacant posts).
    pub places: u32,
    /// The same, in words: "2 places".
    pub places_text: String,
}

impl PostLine {
    /// `post`, with `places` (its places, or its places left).
    pub fn new(post: &Post, places: u32) -> Self {
        Self {
            ars_id: post.ars_id.to_string(),
            label: post.label(),
            places,
            places_text: places_in_words(places),
        }
    }

    /// Every post opened to `group`, in the order of the ARS numbers.
    pub fn open_to(group: &Group, posts: &PostCatalog<'_>) -> Vec<Self> {
        posts.open_to(group).iter().map(|p| Self::new(p, p.places)).collect()
    }

    /// The vacant posts of `group`, with their places left, in the order
    /// of the ARS numbers.
    pub fn vacant_in(group: &Group, vacancies: &[Vacancy], posts: &PostCatalog<'_>) -> Vec<Self> {
        let mut lines: Vec<Self> = vacancies
            .iter()
            .filter(|v| &v.group == group && v.places_left > 0)
            .filter_map(|v| posts.get(&v.ars_id, group).map(|p| Self::new(p, v.places_left)))
            .collect();
        lines.sort_by(|a, b| ars_order(&a.ars_id, &b.ars_id));
        lines
    }
}

/// One wish in a list, in preference order.
#[derive(Debug, Clone, Serialize)]
pub struct WishLine {
    /// 1 for the first wish.
    pub position: usize,
    /// The ARS number.
    pub ars_id: String,
    /// The post's label in the intern's group (empty if unknown).
    pub label: String,
}

impl WishLine {
    /// The wishes as lines, with the labels of the group's posts.
    pub fn list(wishes: &[ArsId], group: &Group, posts: &PostCatalog<'_>) -> Vec<Self> {
        wishes
            .iter()
            .enumerate()
            .map(|(index, ars_id)| Self {
                position: index + 1,
                ars_id: ars_id.to_string(),
                label: posts.label(ars_id, group),
            })
            .collect()
    }
}

/// What an intern gets (provisionally, or at the close).
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// "assigned", "surnombre", "absent" or "unassigned" (as in
    /// `allocate --json`).
    pub status: String,
    /// The post obtained, for "assigned" and "surnombre".
    pub ars_id: Option<String>,
    /// Its label.
    pub label: Option<String>,
}

impl Outcome {
    pub fn from_assignment(assignment: &Assignment, posts: &PostCatalog<'_>) -> Self {
        let post = assignment.ars_id.as_ref().and_then(|id| posts.get(id, &assignment.group));
        Self {
            status: status_name(assignment.status).to_string(),
            ars_id: assignment.ars_id.as_ref().map(ToString::to_string),
            label: post.map(Post::label),
        }
    }
}

fn status_name(status: Status) -> &'static str {
    match status {
        Status::Assigned => "assigned",
        Status::Surnombre => "surnombre",
        Status::Absent => "absent",
        Status::Unassigned => "unassigned",
    }
}

/// `invitation`: the template mail of seed 002.
#[derive(Debug, Clone, Serialize)]
pub struct InvitationContext {
    /// The session.
    pub session: SessionFacts,
    /// The intern invited.
    pub intern: InternFacts,
    /// Whether this copy goes to the intern's proxy.
    pub proxy: bool,
    /// The posts open to the intern's group.
    pub posts: Vec<PostLine>,
    /// The personal reference (token).
    pub token: String,
    /// The address to answer to (`choix+TOKEN@domain`).
    pub reply_to: String,
    /// Three ARS numbers for the examples of how to answer: the group's
    /// first posts, so that an example an intern copies is a real choice.
    /// A group with fewer than three posts has [`NO_EXAMPLE`] in the other
    /// places: a made-up number could be copied as a wish.
    pub examples: [String; 3],
}

impl InvitationContext {
    /// `reply_to` is `MailSettings::reply_to_for(token)`.
    pub fn new(
        session: SessionFacts,
        intern: &Intern,
        proxy: bool,
        posts: &PostCatalog<'_>,
        token: &str,
        reply_to: &str,
    ) -> Self {
        let lines = PostLine::open_to(&intern.group, posts);
        Self {
            session,
            intern: intern.into(),
            proxy,
            examples: examples(&lines),
            posts: lines,
            token: token.to_string(),
            reply_to: reply_to.to_string(),
        }
    }
}

/// What stands for a post in an example when the group has too few: no
/// digit, so that a reply copying it chooses nothing more.
pub const NO_EXAMPLE: &str = "…";

fn examples(lines: &[PostLine]) -> [String; 3] {
    std::array::from_fn(|i| lines.get(i).map_or_else(|| NO_EXAMPLE.to_string(), |line| line.ars_id.clone()))
}

/// `confirmation`: a valid list, recorded.
#[derive(Debug, Clone, Serialize)]
pub struct ConfirmationContext {
    /// The session.
    pub session: SessionFacts,
    /// The intern whose list this is.
    pub intern: InternFacts,
    /// Whether this copy goes to the intern's proxy.
    pub proxy: bool,
    /// The wishes now in force, in order.
    pub wishes: Vec<WishLine>,
    /// What the intern would get if the session closed now.
    pub provisional: Outcome,
    /// Whether the deadline had passed when this was worded: the reply was
    /// received before it and counts, but can no longer be changed, and
    /// the final result follows with the list.
    pub after_deadline: bool,
    /// Why the reading may not be what the intern meant (the parser's
    /// doubts, quoting their words): the confirmation is then one to
    /// check, which asks for the list alone if it is not right.
    pub doubts: Vec<String>,
}

impl ConfirmationContext {
    pub fn new(
        session: SessionFacts,
        intern: &Intern,
        proxy: bool,
        wishes: &[ArsId],
        provisional: &Assignment,
        posts: &PostCatalog<'_>,
    ) -> Self {
        Self {
            session,
            intern: intern.into(),
            proxy,
            wishes: WishLine::list(wishes, &intern.group, posts),
            provisional: Outcome::from_assignment(provisional, posts),
            after_deadline: false,
            doubts: Vec::new(),
        }
    }

    /// The same, to check (see `doubts`).
    pub fn with_doubts(mut self, doubts: &[String]) -> Self {
        self.doubts = doubts.to_vec();
        self
    }

    /// The same, worded after the deadline (see `after_deadline`).
    pub fn after_deadline(mut self, after_deadline: bool) -> Self {
        self.after_deadline = after_deadline;
        self
    }
}

/// `rejection`: a reply not taken into account, and why.
#[derive(Debug, Clone, Serialize)]
pub struct RejectionContext {
    /// The session.
    pub session: SessionFacts,
    /// The intern the answer goes to, when the sender is known (a token used
    /// by a stranger is reported to its owner).
    pub intern: Option<InternFacts>,
    /// Whether this copy goes to the intern's proxy.
    pub proxy: bool,
    /// Every reason, one French sentence each.
    pub reasons: Vec<String>,
    /// The previous valid list, still in force (empty: no wish recorded).
    pub wishes_in_force: Vec<WishLine>,
    /// Whether the session is still open (the intern may try again).
    pub open: bool,
}

impl RejectionContext {
    pub fn new(
        session: SessionFacts,
        intern: Option<&Intern>,
        proxy: bool,
        reasons: &[Reason],
        wishes_in_force: &[ArsId],
        posts: &PostCatalog<'_>,
    ) -> Self {
        let open = !reasons.contains(&Reason::AfterDeadline);
        Self {
            session,
            intern: intern.map(InternFacts::from),
            proxy,
            reasons: reasons.iter().map(Reason::sentence).collect(),
            wishes_in_force: intern
                .map(|i| WishLine::list(wishes_in_force, &i.group, posts))
                .unwrap_or_default(),
            open,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SessionFacts;
    use crate::settings::{Settings, TEMPLATE};

    #[test]
    fn session_facts_come_from_the_configuration() {
        let mut settings = Settings::parse(TEMPLATE).unwrap();
        let facts = SessionFacts::from_settings(&settings);
        assert_eq!(facts.name, settings.session.name);
        assert_eq!(facts.deadline, "lundi 4 mai 2020 à 23 h 59 (heure de Paris)");
        let referents: Vec<String> = settings.session.referents.iter().map(ToString::to_string).collect();
        assert_eq!(facts.contacts, referents);
        settings.session.referents.clear();
        let facts = SessionFacts::from_settings(&settings);
        assert_eq!(facts.contacts, [settings.mail.from_address.to_string()]);
    }
}
