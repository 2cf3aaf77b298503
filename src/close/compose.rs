//! Wording every email of the close, on every core, while the caller
//! queues those already worded: the final allocation, the list to the ARS,
//! each intern's result and, for those left without a post, the vacancies.
//!
//! Why on every core: composing 12,700 emails (templates, then MIME) was
//! most of the close's time on one core, and SPEC §10 wants the close of
//! 10,000 interns queued in under 2 s on a two-core machine. The interns are
//! cut into parts; each core's thread words every n-th part, and the parts
//! are handed on in their order, so the rows are queued in the same order
//! as by one thread (the list first, then the interns in `interns` order).

use std::sync::mpsc;

use tokio::sync::mpsc::Sender;

use crate::allocation::{self, Allocation, AllocationInput, Assignment, Status};
use crate::answer::{
    subject, ArsListContext, Attachment, Outgoing, PostCatalog, Purpose, ResultContext, SessionFacts,
    Templates, VacanciesContext, CSV_CONTENT_TYPE, XLSX_CONTENT_TYPE,
};
use crate::ars_list::{self, ListInput};
use crate::domain::{ArsId, Email, Post};
use crate::settings::Settings;
use crate::store::{outbox::Queued, StoredIntern};

/// Every intern's wishes, by email.
pub type Wishes = std::collections::HashMap<Email, Vec<ArsId>>;

/// How many interns one part holds: large enough that handing a part on
/// costs nothing next to wording it, small enough that the queuing starts
/// early and both cores end together.
const PART: usize = 250;

/// What the close is made of, read with the write lock held.
pub struct Inputs<'a> {
    /// Every post.
    pub posts: &'a [Post],
    /// The call list, with the tokens.
    pub interns: &'a [StoredIntern],
    /// Every intern's current wishes.
    pub wishes: &'a Wishes,
    /// What the list must say first, when it was made without reading the
    /// mailbox up to the deadline.
    pub warning: Option<String>,
    /// In the amphi: every turn. The result is then what the turns
    /// validated, not an allocation of the wishes.
    pub amphi_turns: Option<Vec<crate::amphi::Turn>>,
}

/// Allocates, then words every email and sends them to `parts` in order,
/// a part at a time (the list to the ARS first). Blocking: run it on a
/// blocking thread. Returns the number of assignments.
pub fn compose_close(
    settings: &Settings,
    templates: &Templates,
    inputs: Inputs<'_>,
    parts: Sender<Vec<Queued>>,
) -> anyhow::Result<usize> {
    let Inputs { posts, interns, wishes, warning, amphi_turns } = inputs;
    let plain: Vec<_> = interns.iter().map(|s| s.intern.clone()).collect();
    let allocation = match &amphi_turns {
        Some(turns) => crate::amphi::final_allocation(posts, &plain, turns),
        None => allocation::allocate(AllocationInput {
            posts,
            interns: &plain,
            wishes,
            supernumerary_cap: settings.session.supernumerary_cap,
        }),
    };
    let facts = SessionFacts::from_settings(settings);
    let catalog = PostCatalog::new(posts);
    let composer = Composer { settings, templates, facts, posts, catalog, allocation: &allocation, warning };
    let pairs: Vec<_> = by_intern(interns, &allocation).collect();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::thread::scope(|scope| {
        let chunks: Vec<_> = pairs.chunks(PART).collect();
        let composer = &composer;
        let workers: Vec<_> = (0..cores)
            .map(|core| {
                // Bounded: a thread runs at most two parts ahead of the queuing.
                let (done, ready) = mpsc::sync_channel(2);
                let mine: Vec<_> = chunks.iter().skip(core).step_by(cores).copied().collect();
                scope.spawn(move || {
                    for part in mine {
                        if done.send(composer.results_of(part, wishes)).is_err() {
                            return; // the close stopped
                        }
                    }
                });
                ready
            })
            .collect();
        hand_on(parts, composer.ars_email(&plain)?, &workers, chunks.len())
    })?;
    Ok(allocation.assignments.len())
}

/// Sends the list, then the parts in their order: part `i` comes from
/// thread `i % threads`.
fn hand_on(
    parts: Sender<Vec<Queued>>,
    ars: Queued,
    workers: &[mpsc::Receiver<anyhow::Result<Vec<Queued>>>],
    count: usize,
) -> anyhow::Result<()> {
    let stopped = || anyhow::anyhow!("the close stopped while its emails were being worded");
    parts.blocking_send(vec![ars]).map_err(|_| stopped())?;
    for i in 0..count {
        let part = workers[i % workers.len()]
            .recv()
            .map_err(|_| anyhow::anyhow!("a thread wording the close's emails stopped"))??;
        parts.blocking_send(part).map_err(|_| stopped())?;
    }
    Ok(())
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
    /// The list's warning, if it was made without the mailbox.
    warning: Option<String>,
}

impl Composer<'_> {
    /// The emails of a part of the interns, in order.
    fn results_of(
        &self,
        part: &[(&StoredIntern, &Assignment)],
        wishes: &Wishes,
    ) -> anyhow::Result<Vec<Queued>> {
        let mut queued = Vec::with_capacity(part.len() * 5 / 4);
        for (stored, assignment) in part {
            let intern_wishes = wishes.get(&stored.intern.email).map(Vec::as_slice).unwrap_or_default();
            queued.extend(self.results(stored, assignment, intern_wishes)?);
        }
        Ok(queued)
    }

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
            warning: self.warning.clone(),
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
        outgoing.to = session.ars_recipients.clone();
        outgoing.cc = session.referents.clone();
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
            let mut queue = |purpose, subject, rendered| -> anyhow::Result<()> {
                queued.push(self.to_intern(purpose, intern, address, subject, rendered, &stored.token)?);
                Ok(())
            };
            let context =
                ResultContext::new(self.facts.clone(), intern, proxy, assignment, wishes, &self.catalog);
            queue(
                Purpose::Result,
                subject::result(&session.name, stored.token.as_str()),
                self.templates.result(&context)?,
            )?;
            if left_without {
                let context = VacanciesContext::new(
                    self.facts.clone(),
                    intern,
                    proxy,
                    assignment,
                    &self.allocation.vacancies,
                    &self.catalog,
                );
                queue(
                    Purpose::Vacancies,
                    subject::vacancies(&session.name, stored.token.as_str()),
                    self.templates.vacancies(&context)?,
                )?;
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
