//! Closing the session at the deadline (or on `choixbot close`): the final
//! allocation, the consolidated list to the ARS with the referents in copy,
//! each intern's result, and the vacant posts to those left without one
//! (SPEC §3, §8).
//!
//! Exactly once, even across restarts: the close is one transaction that
//! marks the session closed and queues every email. If two closes race, the
//! second finds the mark and queues nothing; if the process dies after the
//! commit, the outbox sends what was queued when it comes back. The emails'
//! Message-IDs are derived from the session and the recipient, so even a
//! close replayed on a restored database queues the same rows, not new ones.

mod deadline;

use std::sync::Arc;

use anyhow::Context;

pub use deadline::wait_for_deadline;

use crate::allocation::{self, Allocation, AllocationInput, Assignment, Status};
use crate::answer::{
    subject, ArsListContext, Attachment, Outgoing, PostCatalog, Purpose, ResultContext, SessionFacts,
    Templates, VacanciesContext, CSV_CONTENT_TYPE, XLSX_CONTENT_TYPE,
};
use crate::ars_list::{self, ListInput};
use crate::domain::{Email, Post};
use crate::settings::Settings;
use crate::store::{self, outbox::Queued, Store, StoredIntern};

/// The session-state key set when the session is closed (its value: the
/// instant, RFC 3339).
pub const CLOSED_AT: &str = "closed_at";

/// What a call to [`close`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Closed {
    /// This call closed the session and queued this many emails.
    Now { queued: usize, assignments: usize },
    /// The session was already closed (at that instant).
    Already { at: String },
}

/// Closes the session, unless it is closed already.
pub async fn close(store: &Store, settings: &Settings, templates: &Arc<Templates>) -> anyhow::Result<Closed> {
    if let Some(at) = store.state(CLOSED_AT).await? {
        return Ok(Closed::Already { at });
    }
    let posts = store.posts().await?;
    let interns = store.interns().await?;
    let wishes = store.wishes().await?;
    let plain: Vec<_> = interns.iter().map(|s| s.intern.clone()).collect();
    let allocation = allocation::allocate(AllocationInput {
        posts: &posts,
        interns: &plain,
        wishes: &wishes,
        supernumerary_cap: settings.session.supernumerary_cap,
    });
    let facts = SessionFacts::from_settings(settings).map_err(anyhow::Error::msg)?;
    let catalog = PostCatalog::new(&posts);
    let composer = Composer { settings, templates, facts, posts: &posts, catalog, allocation: &allocation };
    let mut messages = vec![composer.ars_email(&plain)?];
    for (stored, assignment) in by_intern(&interns, &allocation) {
        let intern_wishes = wishes.get(&stored.intern.email).map(Vec::as_slice).unwrap_or_default();
        messages.extend(composer.results(stored, assignment, intern_wishes)?);
    }

    let mut tx = store.begin_write().await?;
    // Checked again inside the write transaction: another close may have
    // committed since the first look.
    let already: Option<String> = sqlx::query_scalar("SELECT value FROM session_state WHERE key = $1")
        .bind(CLOSED_AT)
        .fetch_optional(&mut *tx)
        .await?;
    if let Some(at) = already {
        return Ok(Closed::Already { at });
    }
    store::set_state(&mut tx, CLOSED_AT, &chrono::Utc::now().to_rfc3339()).await?;
    let queued = store::outbox::queue_all(&mut tx, &messages).await?;
    tx.commit().await.context("cannot record the close")?;
    Ok(Closed::Now { queued, assignments: allocation.assignments.len() })
}

/// Each intern with their assignment.
fn by_intern<'a>(
    interns: &'a [StoredIntern],
    allocation: &'a Allocation,
) -> impl Iterator<Item = (&'a StoredIntern, &'a Assignment)> {
    let by_email: std::collections::HashMap<&Email, &Assignment> =
        allocation.assignments.iter().map(|a| (&a.email, a)).collect();
    interns.iter().filter_map(move |s| by_email.get(&s.intern.email).map(|a| (s, *a)))
}

/// Words the close's emails.
struct Composer<'a> {
    /// The configuration.
    settings: &'a Settings,
    /// The loaded templates.
    templates: &'a Templates,
    /// Session name, deadline in words, contacts.
    facts: SessionFacts,
    /// Every post.
    posts: &'a [Post],
    /// The posts, indexed.
    catalog: PostCatalog<'a>,
    /// The final allocation.
    allocation: &'a Allocation,
}

impl Composer<'_> {
    /// The email to the ARS, referents in copy, with the list attached.
    fn ars_email(&self, interns: &[crate::domain::Intern]) -> anyhow::Result<Queued> {
        let session = &self.settings.session;
        let input = ListInput {
            session_name: &session.name,
            posts: self.posts,
            interns,
            allocation: self.allocation,
        };
        let stem = format!("choix-{}", slug(&session.name));
        let attachments = vec![
            Attachment {
                name: format!("{stem}.csv"),
                content_type: CSV_CONTENT_TYPE.into(),
                bytes: ars_list::to_csv(input),
            },
            Attachment {
                name: format!("{stem}.xlsx"),
                content_type: XLSX_CONTENT_TYPE.into(),
                bytes: ars_list::to_xlsx(input)?,
            },
        ];
        let context = ArsListContext {
            session: self.facts.clone(),
            summary: ars_list::summary(input),
            attachments: attachments.iter().map(|a| a.name.clone()).collect(),
            interns: interns.len(),
        };
        let rendered = self.templates.ars_list(&context)?;
        let seed = format!("ars-list|{}|{}", session.name, session.deadline);
        let mut outgoing = Outgoing::new(
            Purpose::ArsList,
            &seed,
            &self.settings.mail,
            subject::ars_list(&session.name),
            rendered.text,
        )?;
        outgoing.html = rendered.html;
        outgoing.to = session.ars_recipients();
        outgoing.cc = session.referents();
        outgoing.attachments = attachments;
        crate::outbox::queued(&outgoing, None, None, &self.settings.mail)
    }

    /// The result, and for those left without a post the vacancies, to the
    /// intern and to their proxy.
    fn results(
        &self,
        stored: &StoredIntern,
        assignment: &Assignment,
        wishes: &[crate::domain::ArsId],
    ) -> anyhow::Result<Vec<Queued>> {
        let intern = &stored.intern;
        let session = &self.settings.session;
        let left_without = matches!(assignment.status, Status::Absent | Status::Unassigned);
        let mut queued = Vec::new();
        for (address, proxy) in intern.registered_addresses() {
            let context =
                ResultContext::new(self.facts.clone(), intern, proxy, assignment, wishes, &self.catalog);
            let rendered = self.templates.result(&context)?;
            let subject = subject::result(&session.name, stored.token.as_str());
            queued.push(self.to_intern(
                Purpose::Result,
                intern,
                address,
                subject,
                rendered,
                &stored.token,
            )?);
            if left_without {
                let context = VacanciesContext::new(
                    self.facts.clone(),
                    intern,
                    proxy,
                    assignment,
                    &self.allocation.vacancies,
                    &self.catalog,
                );
                let rendered = self.templates.vacancies(&context)?;
                let subject = subject::vacancies(&session.name, stored.token.as_str());
                queued.push(self.to_intern(
                    Purpose::Vacancies,
                    intern,
                    address,
                    subject,
                    rendered,
                    &stored.token,
                )?);
            }
        }
        Ok(queued)
    }

    fn to_intern(
        &self,
        purpose: Purpose,
        intern: &crate::domain::Intern,
        address: &Email,
        subject: String,
        rendered: crate::answer::Rendered,
        token: &crate::domain::Token,
    ) -> anyhow::Result<Queued> {
        let seed = format!("{}|{}|{}", self.settings.session.name, intern.email, address);
        let mut outgoing = Outgoing::new(purpose, &seed, &self.settings.mail, subject, rendered.text)?;
        outgoing.html = rendered.html;
        outgoing.to = vec![address.clone()];
        outgoing.reply_to = Some(self.settings.mail.reply_to_for(token));
        crate::outbox::queued(&outgoing, Some(&intern.email), None, &self.settings.mail)
    }
}

/// A file-name-safe form of the session name.
fn slug(name: &str) -> String {
    let key = crate::domain::normalize_key(name).replace('_', "-");
    if key.is_empty() {
        "session".into()
    } else {
        key
    }
}
