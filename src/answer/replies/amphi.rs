//! Wording the amphi's emails (SPEC §11) as queued messages: the answers
//! to an intern's reply, threaded under it, and the messages of choixbot's
//! own (the call, the notice that the turn is near, a validation at the
//! call). The contexts are built by the daemon, which knows the turn.

use super::{Answering, Answers, Incoming};
use crate::answer::{AmphiContext, Purpose, SessionFacts};
use crate::domain::Email;
use crate::reply::ParsedReply;
use crate::session::SessionData;
use crate::store::outbox::Queued;

impl Answers {
    /// The session's facts as every email gives them.
    pub fn facts(&self) -> &SessionFacts {
        &self.facts
    }

    /// The answer to `intern`'s reply `parsed`, to each registered address,
    /// worded by `word` (`true`: the proxy's copy).
    pub fn amphi_answer(
        &self,
        parsed: &ParsedReply,
        incoming: Incoming<'_>,
        session: &SessionData,
        intern: &Email,
        word: impl Fn(bool) -> AmphiContext,
    ) -> anyhow::Result<Vec<Queued>> {
        let answering = Answering { parsed, incoming, session };
        self.to_each_address(Purpose::AmphiAnswer, &answering, intern, |proxy| {
            self.templates.amphi(&word(proxy))
        })
    }

    /// A message of choixbot's own to `intern`'s registered addresses,
    /// with `subject`; its Message-ID is derived from `seed` and the
    /// address, so that queuing it again after a crash queues nothing new.
    pub fn amphi_message(
        &self,
        session: &SessionData,
        intern: &Email,
        seed: &str,
        subject: &str,
        word: impl Fn(bool) -> AmphiContext,
    ) -> anyhow::Result<Vec<Queued>> {
        let Some(stored) = session.interns.get(intern) else { return Ok(Vec::new()) };
        let subject = format!("{subject} – {} – réf. {}", self.facts.name, stored.token);
        stored
            .intern
            .registered_addresses()
            .map(|(address, proxy)| {
                let rendered = self.templates.amphi(&word(proxy))?;
                let seed = format!("amphi|{seed}|{address}");
                let outgoing = self.outgoing(
                    Purpose::AmphiCall,
                    &seed,
                    subject.clone(),
                    rendered,
                    address,
                    Some(&stored.token),
                )?;
                crate::outbox::queued(&outgoing, Some(intern), None, &self.settings.mail)
            })
            .collect()
    }
}
