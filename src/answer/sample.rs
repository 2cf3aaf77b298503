//! Sample data for every template: what [`Templates::check`] renders at
//! start-up, and what the tests and a referent previewing an edited
//! template use. Realistic on purpose (accents, a proxy, a supernumerary, a
//! post with no label), so a template that breaks on real data breaks here.
//!
//! [`Templates::check`]: super::templates::Templates::check

use chrono::TimeZone;

use super::catalog::PostCatalog;
use super::closing::{AlertContext, ArsListContext, ClosedContext, ResultContext, VacanciesContext};
use super::context::{ConfirmationContext, InvitationContext, RejectionContext, SessionFacts};
use super::reason::Reason;
use crate::allocation::{Assignment, Status, Vacancy};
use crate::domain::{ArsId, ChoiceType, Email, Group, Intern, Post, Rank};

/// One context of each kind, and a few variants.
#[derive(Debug, Clone)]
pub struct Samples {
    /// Sent to the intern.
    pub invitation: InvitationContext,
    /// Sent to the intern's proxy.
    pub proxy_invitation: InvitationContext,
    /// A classic intern with a provisional post.
    pub confirmation: ConfirmationContext,
    /// A supernumerary.
    pub surnombre_confirmation: ConfirmationContext,
    /// Several reasons, a list in force.
    pub rejection: RejectionContext,
    /// No intern known.
    pub stranger_rejection: RejectionContext,
    /// After the close, with a result.
    pub closed: ClosedContext,
    /// A post obtained.
    pub result: ResultContext,
    /// No wishes.
    pub absent_result: ResultContext,
    /// The vacant posts.
    pub vacancies: VacanciesContext,
    /// The cover of the list.
    pub ars_list: ArsListContext,
    /// A confirmation worded after the deadline, of a reply received before.
    pub late_read_confirmation: ConfirmationContext,
    /// A confirmation to check: the reply's words raised a doubt.
    pub to_check_confirmation: ConfirmationContext,
    /// The alert of a close held at the deadline.
    pub held_alert: AlertContext,
    /// The alert of a refused login, before the deadline.
    pub refusal_alert: AlertContext,
}

fn id(text: &str) -> ArsId {
    ArsId::parse(text).expect("sample ARS number")
}

/// The posts of the samples: two groups, one post with no label.
pub fn sample_posts() -> Vec<Post> {
    let group = Group::parse("Pédiatrie").expect("sample group");
    let other = Group::parse("Médecine générale").expect("sample group");
    let post = |ars_id: &str, group: &Group, places, hospital: &str, service: &str, city: &str| Post {
        ars_id: id(ars_id),
        group: group.clone(),
        places,
        hospital: hospital.into(),
        service: service.into(),
        city: city.into(),
    };
    vec![
        post("1234", &group, 2, "Hôpital Necker", "Néonatologie", "Paris"),
        post("4521", &group, 1, "Hôpital Robert-Debré", "Urgences pédiatriques", "Paris"),
        post("87", &group, 3, "CHI Créteil", "Pédiatrie générale", "Créteil"),
        post("9012", &group, 1, "", "", ""),
        post("5678", &other, 1, "Cabinet Dr Lefèvre", "Médecine générale", "Évry"),
    ]
}

/// An intern of the samples' main group.
pub fn sample_intern(choice_type: ChoiceType) -> Intern {
    Intern {
        rank: Rank::new(12).expect("sample rank"),
        last_name: "Lefèvre".into(),
        first_name: "Zoé".into(),
        group: Group::parse("Pédiatrie").expect("sample group"),
        email: Email::parse("zoe.lefevre@exemple.fr").expect("sample email"),
        choice_type,
        proxy_email: Some(Email::parse("camille.roux@exemple.fr").expect("sample email")),
    }
}

/// The samples' session: a summer deadline in Paris.
pub fn sample_session() -> SessionFacts {
    let deadline = chrono::Utc.with_ymd_and_hms(2020, 5, 4, 21, 59, 0).single().expect("sample deadline");
    let referent = Email::parse("referent@asso.example").expect("sample email");
    SessionFacts::new("Semestre d'été 2020", deadline, chrono_tz::Europe::Paris, &[referent])
}

fn assignment(intern: &Intern, status: Status, ars_id: Option<&str>) -> Assignment {
    Assignment {
        email: intern.email.clone(),
        group: intern.group.clone(),
        rank: intern.rank,
        status,
        ars_id: ars_id.map(id),
    }
}

impl Samples {
    pub fn new() -> Self {
        let all_posts = sample_posts();
        let posts = PostCatalog::new(&all_posts);
        let session = sample_session();
        let intern = sample_intern(ChoiceType::Classique);
        let surnombre = sample_intern(ChoiceType::SurnombreValidant);
        let wishes = [id("4521"), id("1234"), id("9012")];
        let assigned = assignment(&intern, Status::Assigned, Some("1234"));
        let absent = assignment(&intern, Status::Absent, None);
        let token = "abcdefghijk23456";
        let reply_to = "choix+abcdefghijk23456@asso.example";
        let reasons = [
            Reason::UnknownNumber("9999".into()),
            Reason::NotOpenToGroup { ars_id: "5678".into(), group: "Pédiatrie".into() },
        ];
        let vacancy = |ars_id: &str, places_left| Vacancy {
            ars_id: id(ars_id),
            group: intern.group.clone(),
            places_left,
        };
        let vacancies = [vacancy("87", 2), vacancy("9012", 1)];
        let confirmation =
            ConfirmationContext::new(session.clone(), &intern, false, &wishes, &assigned, &posts);
        Self {
            invitation: InvitationContext::new(session.clone(), &intern, false, &posts, token, reply_to),
            proxy_invitation: InvitationContext::new(session.clone(), &intern, true, &posts, token, reply_to),
            late_read_confirmation: confirmation.clone().after_deadline(true),
            to_check_confirmation: confirmation
                .clone()
                .with_doubts(&["« Finalement je retire le 1234. » : un vœu retiré ou écarté ?".to_string()]),
            confirmation,
            surnombre_confirmation: ConfirmationContext::new(
                session.clone(),
                &surnombre,
                true,
                &wishes,
                &assignment(&surnombre, Status::Surnombre, Some("4521")),
                &posts,
            ),
            rejection: RejectionContext::new(
                session.clone(),
                Some(&intern),
                false,
                &reasons,
                &wishes,
                &posts,
            ),
            stranger_rejection: RejectionContext::new(
                session.clone(),
                None,
                false,
                &[Reason::UnknownSender { address: "inconnu@exemple.fr".into() }],
                &[],
                &posts,
            ),
            closed: ClosedContext::new(session.clone(), &intern, false, &wishes, Some(&assigned), &posts)
                .received_at(Some(chrono::Utc::now()), chrono::Utc::now(), chrono_tz::Europe::Paris),
            result: ResultContext::new(session.clone(), &intern, false, &assigned, &wishes, &posts),
            absent_result: ResultContext::new(session.clone(), &intern, true, &absent, &[], &posts),
            vacancies: VacanciesContext::new(session.clone(), &intern, false, &absent, &vacancies, &posts),
            ars_list: ars_list_sample(session.clone()),
            held_alert: alert_sample(session.clone(), true),
            refusal_alert: alert_sample(session, false),
        }
    }
}

/// The list to the ARS, as the sample session sends it.
fn ars_list_sample(session: SessionFacts) -> ArsListContext {
    ArsListContext {
        session,
        summary: "Pédiatrie\n  12  LEFÈVRE Zoé  classique  n° 1234  Hôpital Necker – Néonatologie".into(),
        attachments: vec!["choix-ete-2020.csv".into(), "choix-ete-2020.xlsx".into()],
        interns: 1,
        warning: Some(super::mailbox_warning(Some("lundi 4 mai 2020 à 23 h 50 (heure de Paris)"))),
    }
}

/// An alert to the referents: the list held, or the mailbox refusing.
fn alert_sample(session: SessionFacts, held: bool) -> AlertContext {
    if held {
        AlertContext {
            session,
            held,
            since: "lundi 4 mai 2020 à 23 h 50 min 12 s (heure de Paris)".into(),
            error: "cannot connect to IMAP server imap.asso.example:993: TCP connect timed out after 60s"
                .into(),
            remedy: None,
        }
    } else {
        AlertContext {
            session,
            held,
            since: "lundi 4 mai 2020 à 09 h 02 min 40 s (heure de Paris)".into(),
            error: "the IMAP server imap.asso.example:993 refused the login of choix@asso.example".into(),
            remedy: Some("check imap.username and the password".into()),
        }
    }
}

impl Default for Samples {
    fn default() -> Self {
        Self::new()
    }
}
