//! Wording the answers to the commands (SPEC §11), and the displacement
//! notices.
//!
//! Who is told:
//! - what only reads (`STATUT`, `POSTES`, `AIDE`): the sender alone, who
//!   is the intern or their proxy;
//! - what changes something (`ANNULER`, `NOTIFS`, a proxy accepted): every
//!   registered address of the intern;
//! - a proxy request: the intern, and the designated address, with a
//!   reference of its own so that its `ACCEPTE` names the request;
//! - a proxy that ends (replaced, revoked) or a request withdrawn: that
//!   address too, once, since it is no longer registered afterwards.

use super::Applied;
use super::{Answering, Answers};
use crate::allocation::standing;
use crate::answer::{
    subject, CancelledContext, HelpContext, NoticeContext, NotificationsContext, Outgoing, PostCatalog,
    PostsContext, ProxyContext, ProxyEvent, ProxyRequestContext, Purpose, Rendered, StatusContext,
};
use crate::decide::Action;
use crate::domain::{Email, Token};
use crate::session::SessionData;
use crate::store::outbox::Queued;
use crate::store::DueNotice;

impl Answers {
    /// The emails that answer the command `action` of `intern`.
    pub(super) fn command(
        &self,
        answering: &Answering<'_>,
        catalog: &PostCatalog<'_>,
        intern: &Email,
        action: &Action,
        applied: &Applied,
    ) -> anyhow::Result<Vec<Queued>> {
        let session = answering.session;
        let Some(profile) = session.intern(intern) else { return Ok(Vec::new()) };
        let wishes = session.wishes.get(intern).cloned().unwrap_or_default();
        let sender = self.sender(answering, intern);
        match action {
            // The amphi words these, with the intern's turn (`answer::amphi`).
            Action::Absent | Action::Later => Ok(Vec::new()),
            Action::Status => {
                let Some(result) = session.provisional(intern) else { return Ok(Vec::new()) };
                self.to_addresses(Purpose::Command, answering, intern, &sender, |proxy| {
                    let mut context =
                        StatusContext::new(self.facts.clone(), profile, proxy, &wishes, &result, catalog);
                    context.final_result = answering.incoming.after_deadline;
                    context.pending_proxy =
                        session.directory.pending_of(intern).map(|pending| pending.proxy.to_string());
                    context.notices = !session.muted.contains(intern);
                    self.templates.status(&context)
                })
            }
            Action::Posts => {
                let (allocation, posts) = session.group(&profile.group);
                let standing = standing(posts, allocation, profile, session.supernumerary_cap);
                self.to_addresses(Purpose::Command, answering, intern, &sender, |proxy| {
                    let context =
                        PostsContext::new(self.facts.clone(), profile, proxy, &wishes, &standing, catalog);
                    self.templates.posts(&context)
                })
            }
            Action::Help => self.to_addresses(Purpose::Command, answering, intern, &sender, |proxy| {
                self.templates.help(&HelpContext::new(self.facts.clone(), profile, proxy, catalog))
            }),
            Action::Cancel => self.to_each_address(Purpose::Command, answering, intern, |proxy| {
                let context =
                    CancelledContext::new(self.facts.clone(), profile, proxy, &applied.withdrawn, catalog);
                self.templates.cancelled(&context)
            }),
            Action::Notices(on) => self.to_each_address(Purpose::Command, answering, intern, |proxy| {
                let context = NotificationsContext {
                    session: self.facts.clone(),
                    intern: profile.into(),
                    proxy,
                    on: *on,
                };
                self.templates.notifications(&context)
            }),
            Action::RequestProxy(_) | Action::AcceptProxy { .. } | Action::RevokeProxy { .. } => {
                self.proxy_command(answering, intern, &sender, action, applied)
            }
        }
    }

    /// The emails that answer a `PROCURATION` or an `ACCEPTE`: to the
    /// intern, to the proxy asked or accepted, and to a former proxy.
    fn proxy_command(
        &self,
        answering: &Answering<'_>,
        intern: &Email,
        sender: &[(Email, bool)],
        action: &Action,
        applied: &Applied,
    ) -> anyhow::Result<Vec<Queued>> {
        let session = answering.session;
        let Some(profile) = session.intern(intern) else { return Ok(Vec::new()) };
        match action {
            Action::RequestProxy(address) => {
                let mut queued =
                    self.proxy_event(answering, intern, sender, ProxyEvent::Requested, address)?;
                if let Some(token) = &applied.proxy_token {
                    queued.push(self.proxy_request(answering, intern, address, token)?);
                }
                Ok(queued)
            }
            Action::AcceptProxy { proxy, previous } => {
                let everyone = self.registered(session, intern);
                let mut queued =
                    self.proxy_event(answering, intern, &everyone, ProxyEvent::Accepted, proxy)?;
                if let Some(previous) = previous.as_ref().filter(|previous| *previous != proxy) {
                    queued.extend(self.to_former(answering, intern, previous, ProxyEvent::Ended)?);
                }
                Ok(queued)
            }
            Action::RevokeProxy { previous, pending } => {
                let address = previous.as_ref().map_or(String::new(), ToString::to_string);
                let own = [(intern.clone(), false)];
                let mut queued = self.to_addresses(Purpose::Command, answering, intern, &own, |proxy| {
                    let context =
                        ProxyContext::new(self.facts.clone(), profile, proxy, ProxyEvent::Revoked, &address);
                    self.templates.proxy(&context)
                })?;
                for (former, event) in [(previous, ProxyEvent::Ended), (pending, ProxyEvent::Withdrawn)] {
                    if let Some(former) = former {
                        queued.extend(self.to_former(answering, intern, former, event)?);
                    }
                }
                Ok(queued)
            }
            // The other commands are answered by `command`.
            _ => Ok(Vec::new()),
        }
    }

    /// The sender, as the one recipient of an answer that only reads: the
    /// attribution made it one of the intern's registered addresses.
    fn sender(&self, answering: &Answering<'_>, intern: &Email) -> Vec<(Email, bool)> {
        match &answering.parsed.sender {
            Some(sender) => vec![(sender.clone(), sender != intern)],
            None => Vec::new(),
        }
    }

    /// Every registered address of `intern`, as the session holds them now.
    fn registered(&self, session: &SessionData, intern: &Email) -> Vec<(Email, bool)> {
        session.intern(intern).map_or_else(Vec::new, |profile| {
            profile.registered_addresses().map(|(address, proxy)| (address.clone(), proxy)).collect()
        })
    }

    /// The `proxy` email about `address` to `recipients`.
    fn proxy_event(
        &self,
        answering: &Answering<'_>,
        intern: &Email,
        recipients: &[(Email, bool)],
        event: ProxyEvent,
        address: &Email,
    ) -> anyhow::Result<Vec<Queued>> {
        let Some(profile) = answering.session.intern(intern) else { return Ok(Vec::new()) };
        let recipients: Vec<(Email, bool)> =
            recipients.iter().map(|(to, _)| (to.clone(), to != intern)).collect();
        self.to_addresses(Purpose::Command, answering, intern, &recipients, |proxy| {
            let context = ProxyContext::new(self.facts.clone(), profile, proxy, event, address.as_str());
            self.templates.proxy(&context)
        })
    }

    /// To a proxy whose role ended, or whose request was withdrawn: not
    /// threaded under the intern's message, which they never saw.
    fn to_former(
        &self,
        answering: &Answering<'_>,
        intern: &Email,
        former: &Email,
        event: ProxyEvent,
    ) -> anyhow::Result<Vec<Queued>> {
        let Some(profile) = answering.session.intern(intern) else { return Ok(Vec::new()) };
        let context = ProxyContext::new(self.facts.clone(), profile, true, event, former.as_str());
        let rendered = self.templates.proxy(&context)?;
        let subject = subject::proxy(&self.facts.name);
        let seed = super::Answers::seed(answering.incoming, former);
        let outgoing = self.outgoing(Purpose::Command, &seed, subject, rendered, former, None)?;
        Ok(vec![crate::outbox::queued(
            &outgoing,
            Some(intern),
            Some(answering.incoming.message_ref),
            &self.settings.mail,
        )?])
    }

    /// The request to the address `intern` designated, carrying `token`.
    fn proxy_request(
        &self,
        answering: &Answering<'_>,
        intern: &Email,
        address: &Email,
        token: &Token,
    ) -> anyhow::Result<Queued> {
        let profile = answering.session.intern(intern).expect("the intern of a command is known");
        let context = ProxyRequestContext {
            session: self.facts.clone(),
            intern: profile.into(),
            intern_email: intern.to_string(),
            address: address.to_string(),
        };
        let rendered = self.templates.proxy_request(&context)?;
        let subject = subject::proxy_request(&self.facts.name, token.as_str());
        let seed = super::Answers::seed(answering.incoming, address);
        let outgoing =
            self.outgoing(Purpose::ProxyRequest, &seed, subject, rendered, address, Some(token))?;
        crate::outbox::queued(
            &outgoing,
            Some(intern),
            Some(answering.incoming.message_ref),
            &self.settings.mail,
        )
    }

    /// The displacement notice `due`, to every registered address of its
    /// intern, worded with the session as it is now. `None` when there is
    /// nothing to tell any more: the intern regained the post, or has no
    /// wishes.
    pub fn notice(
        &self,
        session: &SessionData,
        due: &DueNotice,
        catalog: &PostCatalog<'_>,
    ) -> anyhow::Result<Option<Vec<Queued>>> {
        let intern = &due.intern;
        let (Some(stored), Some(now)) = (session.interns.get(intern), session.provisional(intern)) else {
            return Ok(None);
        };
        let wishes = session.wishes.get(intern).cloned().unwrap_or_default();
        if wishes.is_empty() || now.ars_id.as_ref() == Some(&due.lost) {
            return Ok(None);
        }
        let profile = &stored.intern;
        let queued = profile
            .registered_addresses()
            .map(|(address, proxy)| {
                let context = NoticeContext::new(
                    self.facts.clone(),
                    profile,
                    proxy,
                    &due.lost,
                    (&wishes, &now),
                    catalog,
                );
                let rendered = self.templates.notice(&context)?;
                let subject = subject::notice(&self.facts.name, stored.token.as_str());
                let seed = format!("notice|{intern}|{}|{address}", due.since_ms);
                let outgoing =
                    self.outgoing(Purpose::Notice, &seed, subject, rendered, address, Some(&stored.token))?;
                crate::outbox::queued(&outgoing, Some(intern), None, &self.settings.mail)
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Some(queued))
    }

    /// A message of choixbot's own to `to`, answered at `choix+TOKEN@…`.
    pub(super) fn outgoing(
        &self,
        purpose: Purpose,
        seed: &str,
        subject: String,
        rendered: Rendered,
        to: &Email,
        token: Option<&Token>,
    ) -> anyhow::Result<Outgoing> {
        let mut outgoing = Outgoing::from_rendered(purpose, seed, &self.settings.mail, subject, rendered)?;
        outgoing.to = vec![to.clone()];
        outgoing.reply_to = token.map(|token| self.settings.mail.reply_to_for(token));
        Ok(outgoing)
    }
}
