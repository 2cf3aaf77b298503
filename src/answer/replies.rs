//! Wording a decision as the emails that answer it, ready for the outbox.
//!
//! Answers go only to registered addresses (SPEC §6): the intern's own and
//! their proxy's, each with its own wording ("vous" or "au nom de"). Never to
//! the From or Reply-To of the incoming message: a stranger gets no answer.
//!
//! Each answer's Message-ID is derived from the message it answers (its
//! Message-ID and content hash), the purpose and the recipient, so that
//! deciding the same message again after a crash queues nothing new.

mod amphi;
mod commands;

use std::sync::Arc;

use super::{
    subject, ClosedContext, ConfirmationContext, Outgoing, PostCatalog, Purpose, Reason, RejectionContext,
    Rendered, SessionFacts, Templates,
};
use crate::decide::Decision;
use crate::domain::{Email, Token};
use crate::reply::ParsedReply;
use crate::settings::Settings;
use crate::store::outbox::Queued;

use crate::session::SessionData;

/// What recording a decision produced that its answers need.
#[derive(Debug, Default)]
pub struct Applied {
    /// The token of a proxy request (`PROCURATION adresse`): the request
    /// sent to that address carries it.
    pub proxy_token: Option<Token>,
    /// The wishes `ANNULER` withdrew.
    pub withdrawn: Vec<crate::domain::ArsId>,
}

/// Turns decisions into queued emails.
#[derive(Clone)]
pub struct Answers {
    /// The loaded, checked templates.
    templates: Arc<Templates>,
    /// The configuration (addresses, session facts).
    settings: Arc<Settings>,
    /// Session name, deadline in words, contacts.
    facts: SessionFacts,
    /// The session's time zone, for the instants the answers give.
    tz: chrono_tz::Tz,
    /// The deadline, to say whether a late message came after it.
    deadline: chrono::DateTime<chrono::Utc>,
}

/// The message being answered.
#[derive(Debug, Clone, Copy)]
pub struct Incoming<'a> {
    /// Its number in the database.
    pub message_ref: i64,
    /// Its Message-ID, if it has one.
    pub message_id: Option<&'a str>,
    /// Its content hash (tells apart two messages sharing a Message-ID).
    pub content_hash: &'a str,
    /// When the IMAP server received it, if it said.
    pub received: Option<chrono::DateTime<chrono::Utc>>,
    /// Whether the deadline has passed now, as it is answered (a reply
    /// received before it, read after it).
    pub after_deadline: bool,
}

/// The message being answered, as every answer to it needs it.
#[derive(Clone, Copy)]
struct Answering<'a> {
    /// What the parser read of it (subject, Message-ID, references).
    parsed: &'a ParsedReply,
    /// Where it is stored, and what tells it apart.
    incoming: Incoming<'a>,
    /// The session: the interns' profiles, tokens and wishes.
    session: &'a SessionData,
}

impl Answers {
    pub fn new(templates: Arc<Templates>, settings: Arc<Settings>) -> anyhow::Result<Self> {
        let facts = SessionFacts::from_settings(&settings);
        let tz = settings.session.timezone;
        let deadline = settings.session.deadline;
        Ok(Self { templates, settings, facts, tz, deadline })
    }

    /// The emails that answer `decision` (none for ignored messages,
    /// bounces and strangers).
    pub fn for_decision(
        &self,
        decision: &Decision,
        parsed: &ParsedReply,
        incoming: Incoming<'_>,
        session: &SessionData,
        catalog: &PostCatalog<'_>,
        applied: &Applied,
    ) -> anyhow::Result<Vec<Queued>> {
        let answering = Answering { parsed, incoming, session };
        match decision {
            Decision::Command { intern, action } => {
                self.command(&answering, catalog, intern, action, applied)
            }
            Decision::Confirmed { intern, wishes } => {
                let Some(assignment) = session.provisional(intern) else { return Ok(Vec::new()) };
                let profile = session.intern(intern).expect("confirmed interns are known");
                self.to_each_address(Purpose::Confirmation, &answering, intern, |proxy| {
                    let context = ConfirmationContext::new(
                        self.facts.clone(),
                        profile,
                        proxy,
                        wishes,
                        &assignment,
                        catalog,
                    )
                    .after_deadline(incoming.after_deadline)
                    .with_doubts(&parsed.doubts);
                    self.templates.confirmation(&context)
                })
            }
            Decision::Rejected { intern, reasons, warn_owner } => {
                let mut queued = Vec::new();
                if let Some(intern) = intern {
                    queued.extend(self.rejection(&answering, catalog, intern, reasons)?);
                }
                if let Some(owner) = warn_owner {
                    let address = parsed.sender.as_ref().map_or("?".to_string(), |s| s.to_string());
                    let warning = [Reason::TokenUsedBy { address }];
                    queued.extend(self.rejection(&answering, catalog, owner, &warning)?);
                }
                Ok(queued)
            }
            Decision::Closed { intern } => {
                let profile = session.intern(intern).expect("attributed interns are known");
                let wishes = session.wishes.get(intern).cloned().unwrap_or_default();
                self.to_each_address(Purpose::Closed, &answering, intern, |proxy| {
                    let context =
                        ClosedContext::new(self.facts.clone(), profile, proxy, &wishes, None, catalog)
                            .received_at(incoming.received, self.deadline, self.tz);
                    self.templates.closed(&context)
                })
            }
            Decision::Bounce { .. } | Decision::Ignored { .. } => Ok(Vec::new()),
        }
    }

    fn rejection(
        &self,
        answering: &Answering<'_>,
        catalog: &PostCatalog<'_>,
        intern: &Email,
        reasons: &[Reason],
    ) -> anyhow::Result<Vec<Queued>> {
        let profile = answering.session.intern(intern).expect("attributed interns are known");
        let in_force = answering.session.wishes.get(intern).cloned().unwrap_or_default();
        self.to_each_address(Purpose::Rejection, answering, intern, |proxy| {
            let context =
                RejectionContext::new(self.facts.clone(), Some(profile), proxy, reasons, &in_force, catalog);
            self.templates.rejection(&context)
        })
    }

    /// One answer to each registered address of `intern` (their own, then
    /// their proxy's), worded by `word` for that address (`true`: the
    /// proxy's) and threaded under the incoming message.
    fn to_each_address(
        &self,
        purpose: Purpose,
        answering: &Answering<'_>,
        intern: &Email,
        word: impl Fn(bool) -> anyhow::Result<Rendered>,
    ) -> anyhow::Result<Vec<Queued>> {
        let Some(profile) = answering.session.intern(intern) else { return Ok(Vec::new()) };
        let recipients: Vec<(Email, bool)> =
            profile.registered_addresses().map(|(address, proxy)| (address.clone(), proxy)).collect();
        self.to_addresses(purpose, answering, intern, &recipients, word)
    }

    /// One answer to each of `recipients` (address, and whether it is the
    /// proxy's), worded by `word`, threaded under the incoming message,
    /// with `intern`'s reference in the subject and the Reply-To. Callers
    /// give registered addresses only (SPEC §6).
    fn to_addresses(
        &self,
        purpose: Purpose,
        answering: &Answering<'_>,
        intern: &Email,
        recipients: &[(Email, bool)],
        word: impl Fn(bool) -> anyhow::Result<Rendered>,
    ) -> anyhow::Result<Vec<Queued>> {
        let Answering { parsed, incoming, session } = *answering;
        let token = session.interns.get(intern).map(|stored| &stored.token);
        recipients
            .iter()
            .map(|(address, proxy)| {
                let subject = Self::subject(parsed, token);
                let seed = Self::seed(incoming, address);
                let mut outgoing =
                    Outgoing::from_rendered(purpose, &seed, &self.settings.mail, subject, word(*proxy)?)?;
                outgoing.to = vec![address.clone()];
                outgoing.reply_to = token.map(|token| self.settings.mail.reply_to_for(token));
                if let Some(message_id) = &parsed.message_id {
                    outgoing = outgoing.answering(message_id, &parsed.references);
                }
                crate::outbox::queued(
                    &outgoing,
                    Some(intern),
                    Some(incoming.message_ref),
                    &self.settings.mail,
                )
            })
            .collect()
    }

    /// What an answer's Message-ID is derived from: the message answered
    /// (its Message-ID and content hash) and the recipient.
    fn seed(incoming: Incoming<'_>, address: &Email) -> String {
        format!("{}|{}|{}", incoming.message_id.unwrap_or("no-message-id"), incoming.content_hash, address)
    }

    /// `Re: <the intern's subject>`, with the personal reference added when
    /// the intern's subject lost it, so that the next reply carries it.
    fn subject(parsed: &ParsedReply, token: Option<&Token>) -> String {
        let subject = subject::answer(&parsed.subject);
        match token {
            Some(token) if !subject.to_lowercase().contains(token.as_str()) => {
                format!("{subject} – réf. {token}")
            }
            _ => subject,
        }
    }
}
