//! Wording a decision as the emails that answer it, ready for the outbox.
//!
//! Answers go only to registered addresses (SPEC §6): the intern's own and
//! their proxy's, each with its own wording ("vous" or "au nom de"). Never to
//! the From or Reply-To of the incoming message: a stranger gets no answer.
//!
//! Each answer's Message-ID is derived from the message it answers (its
//! Message-ID and content hash), the purpose and the recipient, so that
//! deciding the same message again after a crash queues nothing new.

use std::sync::Arc;

use crate::answer::{
    subject, ClosedContext, ConfirmationContext, Outgoing, PostCatalog, Purpose, Reason, RejectionContext,
    SessionFacts, Templates,
};
use crate::decide::Decision;
use crate::domain::{Email, Token};
use crate::reply::ParsedReply;
use crate::settings::Settings;
use crate::store::outbox::Queued;

use super::session::SessionData;

/// Turns decisions into queued emails.
#[derive(Clone)]
pub struct Answers {
    /// The loaded, checked templates.
    templates: Arc<Templates>,
    /// The configuration (addresses, session facts).
    settings: Arc<Settings>,
    /// Session name, deadline in words, contacts.
    facts: SessionFacts,
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
}

/// One registered address of an intern.
struct Recipient<'a> {
    /// The address.
    address: &'a Email,
    /// Whether it is the proxy's (the wording changes).
    proxy: bool,
}

impl Answers {
    pub fn new(templates: Arc<Templates>, settings: Arc<Settings>) -> anyhow::Result<Self> {
        let facts = SessionFacts::from_settings(&settings).map_err(anyhow::Error::msg)?;
        Ok(Self { templates, settings, facts })
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
    ) -> anyhow::Result<Vec<Queued>> {
        let mut queued = Vec::new();
        match decision {
            Decision::Confirmed { intern, wishes } => {
                let Some(assignment) = session.provisional(intern) else { return Ok(queued) };
                for recipient in recipients(session, intern) {
                    let profile = session.intern(intern).expect("confirmed interns are known");
                    let context = ConfirmationContext::new(
                        self.facts.clone(),
                        profile,
                        recipient.proxy,
                        wishes,
                        &assignment,
                        catalog,
                    );
                    let rendered = self.templates.confirmation(&context)?;
                    queued.push(self.answer(
                        Purpose::Confirmation,
                        parsed,
                        incoming,
                        session,
                        intern,
                        &recipient,
                        rendered,
                    )?);
                }
            }
            Decision::Rejected { intern, reasons, warn_owner } => {
                if let Some(intern) = intern {
                    queued.extend(self.rejection(parsed, incoming, session, catalog, intern, reasons)?);
                }
                if let Some(owner) = warn_owner {
                    let address = parsed.sender.as_ref().map_or("?".to_string(), |s| s.to_string());
                    let warning = [Reason::TokenUsedBy { address }];
                    queued.extend(self.rejection(parsed, incoming, session, catalog, owner, &warning)?);
                }
            }
            Decision::Closed { intern } => {
                let profile = session.intern(intern).expect("attributed interns are known");
                let wishes = session.wishes.get(intern).cloned().unwrap_or_default();
                for recipient in recipients(session, intern) {
                    let context = ClosedContext::new(
                        self.facts.clone(),
                        profile,
                        recipient.proxy,
                        &wishes,
                        None,
                        catalog,
                    );
                    let rendered = self.templates.closed(&context)?;
                    queued.push(self.answer(
                        Purpose::Closed,
                        parsed,
                        incoming,
                        session,
                        intern,
                        &recipient,
                        rendered,
                    )?);
                }
            }
            Decision::Bounce { .. } | Decision::Ignored { .. } => {}
        }
        Ok(queued)
    }

    fn rejection(
        &self,
        parsed: &ParsedReply,
        incoming: Incoming<'_>,
        session: &SessionData,
        catalog: &PostCatalog<'_>,
        intern: &Email,
        reasons: &[Reason],
    ) -> anyhow::Result<Vec<Queued>> {
        let profile = session.intern(intern).expect("attributed interns are known");
        let in_force = session.wishes.get(intern).cloned().unwrap_or_default();
        recipients(session, intern)
            .into_iter()
            .map(|recipient| {
                let context = RejectionContext::new(
                    self.facts.clone(),
                    Some(profile),
                    recipient.proxy,
                    reasons,
                    &in_force,
                    catalog,
                );
                let rendered = self.templates.rejection(&context)?;
                self.answer(Purpose::Rejection, parsed, incoming, session, intern, &recipient, rendered)
            })
            .collect()
    }

    /// One answer to one registered address, threaded under the incoming
    /// message.
    #[allow(clippy::too_many_arguments)]
    fn answer(
        &self,
        purpose: Purpose,
        parsed: &ParsedReply,
        incoming: Incoming<'_>,
        session: &SessionData,
        intern: &Email,
        recipient: &Recipient<'_>,
        rendered: crate::answer::Rendered,
    ) -> anyhow::Result<Queued> {
        let token = session.interns.get(intern).map(|stored| &stored.token);
        let seed = format!(
            "{}|{}|{}",
            incoming.message_id.unwrap_or("no-message-id"),
            incoming.content_hash,
            recipient.address
        );
        let subject = Self::subject(parsed, token);
        let mut outgoing = Outgoing::new(purpose, &seed, &self.settings.mail, subject, rendered.text)?;
        outgoing.html = rendered.html;
        outgoing.to = vec![recipient.address.clone()];
        outgoing.reply_to = token.map(|token| self.settings.mail.reply_to_for(token));
        if let Some(message_id) = &parsed.message_id {
            outgoing = outgoing.answering(message_id, &parsed.references);
        }
        crate::outbox::queued(&outgoing, Some(intern), Some(incoming.message_ref), &self.settings.mail)
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

/// The intern's registered addresses: their own, then their proxy's.
fn recipients<'a>(session: &'a SessionData, intern: &Email) -> Vec<Recipient<'a>> {
    session
        .intern(intern)
        .map(|i| i.registered_addresses().map(|(address, proxy)| Recipient { address, proxy }).collect())
        .unwrap_or_default()
}
