//! Turning fetched messages into recorded decisions and queued answers.
//!
//! One fetch is one database transaction: every message of the batch is
//! recorded (raw bytes, decision, reasons), the wishes it confirms are
//! stored, its answers are queued in the outbox, and the mailbox position
//! advances, all or nothing. Batching matters for speed (a storm of
//! thousands of replies is a few hundred commits, not thousands) and costs
//! nothing in safety: nothing is moved on the server before the commit.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use tracing::{info, warn};

mod amphi;
mod apply;
mod unprocessable;

use crate::answer::replies::{self as answers, Answers};
use crate::answer::PostCatalog;
use crate::decide::{self, Decision};
use crate::domain::Email;
use crate::mailbox::Fetched;
use crate::reply::{self, Kind, ParsedReply};
use crate::session::SessionData;
use crate::settings::Settings;
use crate::store::{self, Incoming, MailboxPosition, Store};

pub use amphi::TURN_GRACE_MS;

/// Decides and records incoming messages. Holds the session in memory; the
/// database stays the reference (see [`SessionData::reload`]).
pub struct Processor {
    /// The session database.
    store: Store,
    /// The configuration.
    settings: Arc<Settings>,
    /// Posts, interns, wishes and the directory, kept in step with the database.
    session: SessionData,
    /// Words the decisions as emails.
    answers: Answers,
    /// Woken after each commit that queued answers.
    outbox_wake: Arc<tokio::sync::Notify>,
    /// The deadline, resolved once: a reply received by the server at or
    /// after it is late.
    deadline: chrono::DateTime<chrono::Utc>,
    /// choixbot's own addresses (From and Reply-To), resolved once: a
    /// message from them is one of ours that came back.
    ours: Vec<crate::domain::Email>,
    /// In the amphi: a reply settled a turn or said ABSENT / PLUS TARD,
    /// so the next intern may be called now ([`Processor::amphi_due`]).
    amphi_due: bool,
    /// The rows of the batch being decided (its messages, wishes and
    /// notices), written together before it commits. Reserved afresh by
    /// each batch, and emptied when one fails.
    rows: store::BatchRows,
}

/// What happened to one message, for the log and the tests.
#[derive(Debug, Clone)]
pub struct Processed {
    /// The decision.
    pub decision: Decision,
    /// How many messages were queued because of it.
    pub answers: usize,
}

impl Processor {
    pub async fn new(
        store: Store,
        settings: Arc<Settings>,
        answers: Answers,
        outbox_wake: Arc<tokio::sync::Notify>,
    ) -> anyhow::Result<Self> {
        let session = SessionData::load_with_cap(&store, settings.session.supernumerary_cap).await?;
        let deadline = settings.session.deadline;
        let ours = vec![settings.mail.from_address.clone(), settings.mail.reply_to.clone()];
        let rows = store::BatchRows::default();
        Ok(Self { store, settings, session, answers, outbox_wake, deadline, ours, amphi_due: true, rows })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Whether the amphi should take a step now: a reply moved a turn on
    /// since the last step (or no step was taken yet).
    pub fn amphi_due(&self) -> bool {
        self.amphi_due
    }

    /// The session's deadline.
    pub fn deadline(&self) -> chrono::DateTime<chrono::Utc> {
        self.deadline
    }

    /// Records and decides a batch of messages fetched from `folder`, in one
    /// transaction, and advances the recorded position to the batch's
    /// highest UID.
    ///
    /// A batch that fails is taken again one message at a time, so that
    /// one message tripping an unforeseen error cannot hold up the others
    /// (the daemon would otherwise fetch the same batch and fail again
    /// forever). See [`Processor::one_at_a_time`].
    pub async fn process_batch(
        &mut self,
        folder: &str,
        uidvalidity: i64,
        fetched: &[Fetched],
    ) -> anyhow::Result<Vec<Processed>> {
        match self.attempt(folder, uidvalidity, fetched).await {
            Ok(results) => Ok(results),
            // This process may no longer write (`crate::lease`): not the
            // messages' fault, and whoever holds the lease reads them.
            Err(error) if store::lease::is_lease_error(&error) => Err(error),
            Err(error) => {
                warn!(messages = fetched.len(), error = %format!("{error:#}"), "a batch failed: taking its messages one at a time");
                self.one_at_a_time(folder, uidvalidity, fetched).await
            }
        }
    }

    /// One transaction for `fetched`; on failure the session in memory is
    /// read again, and the batch's rows dropped, since the transaction
    /// rolled back what it changed.
    async fn attempt(
        &mut self,
        folder: &str,
        uidvalidity: i64,
        fetched: &[Fetched],
    ) -> anyhow::Result<Vec<Processed>> {
        let result = self.try_process_batch(folder, uidvalidity, fetched).await;
        if result.is_err() {
            // Rolled back: the rows gathered for it are not to be written.
            self.rows = store::BatchRows::default();
            self.session.reload(&self.store).await?;
        }
        result
    }

    /// Records `last_uid` as the position in `folder`, unless the recorded
    /// one (same UIDVALIDITY) is already beyond it.
    async fn advance(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        folder: &str,
        uidvalidity: i64,
        last_uid: i64,
    ) -> anyhow::Result<()> {
        let last_uid = match self.store.position(folder).await? {
            Some(known) if known.uidvalidity == uidvalidity => known.last_uid.max(last_uid),
            _ => last_uid,
        };
        store::set_position(tx, folder, MailboxPosition { uidvalidity, last_uid }).await
    }

    async fn try_process_batch(
        &mut self,
        folder: &str,
        uidvalidity: i64,
        fetched: &[Fetched],
    ) -> anyhow::Result<Vec<Processed>> {
        let mut tx = self.store.begin_write().await?;
        // Read with the write lock held: a close cannot commit between this
        // look and the batch's commit (see `Store::begin_write`).
        let closed = self.session_closed().await?;
        self.follow_imports(&mut tx).await?;
        let mut batch = BatchState::default();
        let posts = self.session.posts.clone();
        let catalog = PostCatalog::new(&posts);
        let mut results = Vec::new();
        let uids = || fetched.iter().map(|f| i64::from(f.uid));
        let recorded = match (uids().min(), uids().max()) {
            (Some(first), Some(last)) => self.store.recorded_uids(folder, uidvalidity, first, last).await?,
            _ => Default::default(),
        };
        let fresh: Vec<&Fetched> = fetched.iter().filter(|m| !recorded.contains(&i64::from(m.uid))).collect();
        let parsed: Vec<ParsedReply> =
            fresh.iter().map(|m| reply::parse(&m.raw, &self.session.known)).collect();
        self.look_up_batch(&parsed, &mut batch).await?;
        self.rows = store::BatchRows::reserve(&mut tx, self.store.backend(), fresh.len()).await?;
        for (message, parsed) in fresh.into_iter().zip(parsed) {
            let place = Place { folder, uidvalidity, closed, catalog: &catalog };
            let processed = self.process_one(&mut tx, &mut batch, place, message, parsed).await?;
            results.push(processed);
        }
        // The batch's rows and answers, a few statements for all: they are
        // committed together either way.
        self.rows.flush(&mut tx).await?;
        store::outbox::queue_all(&mut tx, &batch.queued, self.store.clock().now().timestamp_millis()).await?;
        if let Some(last_uid) = uids().max() {
            self.advance(&mut tx, folder, uidvalidity, last_uid).await?;
        }
        self.store.commit(tx).await?;
        crate::crash_point::reached("after_commit");
        if results.iter().any(|p| p.answers > 0) {
            self.outbox_wake.notify_one();
        }
        Ok(results)
    }

    /// Reads the session again if an import (posts, interns, pre-choices)
    /// committed since it was read: a referent who fixes the call list
    /// while the daemon runs must not have replies decided against the old
    /// one. Checked inside the batch's write transaction, which on SQLite
    /// holds the write lock, so no import can slip in during the batch.
    pub(super) async fn follow_imports(
        &mut self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    ) -> anyhow::Result<()> {
        if store::revision(&mut **tx).await? != self.session.revision {
            info!("the session was imported again: reading it afresh");
            self.session.reload(&self.store).await?;
        }
        Ok(())
    }

    async fn process_one(
        &mut self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        batch: &mut BatchState,
        place: Place<'_>,
        message: &Fetched,
        parsed: ParsedReply,
    ) -> anyhow::Result<Processed> {
        let Place { folder, uidvalidity, closed, catalog } = place;
        if crate::crash_point::fails_on(&message.raw) {
            anyhow::bail!("{} asked this message to fail", crate::crash_point::FAIL_VARIABLE);
        }
        let content_hash = parsed.content_hash.as_str();
        let now = self.store.clock().now();
        let received = message.received.unwrap_or(now);
        let decision = self.decision(&parsed, batch, (closed, received)).await?;
        let intern = decision.intern().map(|e| e.as_str().to_string());
        let reasons = reasons_json(&decision, &parsed);
        let incoming = Incoming {
            folder,
            uidvalidity,
            uid: i64::from(message.uid),
            message_id: parsed.message_id.as_deref(),
            content_hash,
            raw: &message.raw,
            sender: parsed.sender.as_ref().map(|s| s.as_str()),
            kind: kind_name(parsed.kind),
            intern_email: intern.as_deref(),
            verdict: decision.verdict(),
            reasons: &reasons,
            internal_date: message.received.map(|at| at.timestamp_millis()),
            recorded_at: now.timestamp_millis(),
        };
        let message_ref = self.rows.record_message(&incoming)?;
        let now_ms = now.timestamp_millis();
        // In the amphi, a reply acts on the intern's turn, and is answered
        // with it; anything else is recorded as in the deadline mode.
        let amphi = match closed {
            false => self.amphi_reply(tx, &decision, received, message_ref, now_ms).await?,
            true => None,
        };
        let applied = match amphi {
            Some(_) => answers::Applied::default(),
            None => self.apply(tx, &decision, message_ref, &parsed, now_ms).await?,
        };
        let answers = if !self.may_answer(&decision, batch, now).await? {
            0
        } else {
            let incoming = answers::Incoming {
                message_ref,
                message_id: parsed.message_id.as_deref(),
                content_hash,
                received: message.received,
                after_deadline: now >= self.deadline,
            };
            let queued = match (&amphi, decision.intern()) {
                (Some(context), Some(intern)) => {
                    self.answers.amphi_answer(&parsed, incoming, &self.session, intern, |proxy| {
                        crate::answer::AmphiContext { proxy, ..context.clone() }
                    })?
                }
                _ => self.answers.for_decision(
                    &decision,
                    &parsed,
                    incoming,
                    &self.session,
                    catalog,
                    &applied,
                )?,
            };
            let count = queued.len();
            batch.queued.extend(queued);
            count
        };
        info!(
            uid = message.uid,
            sender = parsed.sender.as_ref().map(|s| s.as_str()).unwrap_or("?"),
            intern = intern.as_deref().unwrap_or("-"),
            verdict = decision.verdict(),
            reasons = %reasons,
            answers,
            "decided"
        );
        Ok(Processed { decision, answers })
    }

    /// The decision: what the session and the store know of this message
    /// is looked up here, and `decide` judges on those facts alone. `when`
    /// is whether the session is closed, and when the server received the
    /// message.
    async fn decision(
        &self,
        parsed: &ParsedReply,
        batch: &mut BatchState,
        when: (bool, chrono::DateTime<chrono::Utc>),
    ) -> anyhow::Result<Decision> {
        let (closed, received) = when;
        let ours = self.is_our_own(parsed);
        let duplicate = if ours { None } else { self.duplicate(parsed, batch) };
        let bounced = match parsed.kind {
            Kind::Bounce if !ours && duplicate.is_none() => self.bounced(parsed).await?,
            _ => None,
        };
        let context = decide::Context {
            directory: &self.session.directory,
            closed,
            received,
            deadline: self.deadline,
            authentication_failed: parsed
                .headers
                .authentication_failed(&self.settings.security.trusted_authserv_ids, parsed.kind),
            ours,
            duplicate,
            bounced_intern: bounced.as_ref(),
            amphi: self.settings.amphi().is_some(),
        };
        Ok(decide::decide(parsed, context))
    }

    /// What the store knows of the whole batch, in two queries instead of
    /// two per message: which of its messages were recorded before, and
    /// how many answers each intern it may concern was queued in the last
    /// hour (the sender's interns and the reference's owner: the intern a
    /// decision names is one of them, or is looked up on its own).
    async fn look_up_batch(&self, parsed: &[ParsedReply], batch: &mut BatchState) -> anyhow::Result<()> {
        let pairs: Vec<(&str, &str)> = parsed
            .iter()
            .filter_map(|p| p.message_id.as_deref().map(|id| (id, p.content_hash.as_str())))
            .collect();
        batch.recorded_copies = self.store.same_messages(&pairs).await?;
        let directory = &self.session.directory;
        let mut interns: Vec<&str> = Vec::new();
        for parsed in parsed {
            if let Some(sender) = &parsed.sender {
                interns.extend(directory.represented_by(sender).into_iter().map(Email::as_str));
            }
            if let Some(owner) = parsed.token.as_ref().and_then(|token| directory.owner_of_token(token)) {
                interns.push(owner.as_str());
            }
        }
        interns.sort_unstable();
        interns.dedup();
        let since = decide::answer_window_start(self.store.clock().now()).timestamp_millis();
        batch.answered_before = self.store.answers_since_for(&interns, since).await?;
        Ok(())
    }

    /// Whether this message was seen before: in this fetch, or recorded
    /// (as [`Processor::look_up_batch`] found).
    fn duplicate(&self, parsed: &ParsedReply, batch: &mut BatchState) -> Option<decide::Duplicate> {
        let message_id = parsed.message_id.as_ref()?;
        let key = (message_id.clone(), parsed.content_hash.clone());
        let first = batch.recorded_copies.get(&key).copied();
        if !batch.seen.insert(key) {
            return Some(decide::Duplicate::InBatch);
        }
        first.map(decide::Duplicate::Processed)
    }

    /// The intern whose message a bounce returns, found by the returned
    /// Message-ID in the outbox (see [`decide::Context::bounced_intern`]).
    async fn bounced(&self, parsed: &ParsedReply) -> anyhow::Result<Option<crate::domain::Email>> {
        let Some(id) = &parsed.bounced_message_id else { return Ok(None) };
        let Some(intern) = self.store.intern_of_our_message(&format!("<{id}>")).await? else {
            return Ok(None);
        };
        // Only an intern still on the call list.
        Ok(crate::domain::Email::parse(&intern).ok().filter(|email| self.session.interns.contains_key(email)))
    }

    fn is_our_own(&self, parsed: &ParsedReply) -> bool {
        let from_us = parsed.sender.as_ref().is_some_and(|sender| self.ours.contains(sender));
        from_us || parsed.headers.ours
    }

    /// Whether this decision's intern may be answered: how many answers
    /// they were queued in the last hour is looked up (the store, and this
    /// batch, whose writes the store does not see yet), and
    /// [`decide::may_answer`] judges.
    async fn may_answer(
        &self,
        decision: &Decision,
        batch: &mut BatchState,
        now: chrono::DateTime<chrono::Utc>,
    ) -> anyhow::Result<bool> {
        let Some(intern) = decision.intern() else { return Ok(true) };
        let recorded = match batch.answered_before.get(intern.as_str()) {
            Some(&count) => count,
            None => {
                let since = decide::answer_window_start(now).timestamp_millis();
                self.store.answers_since(intern.as_str(), since).await?
            }
        };
        let in_batch = batch.answered.entry(intern.as_str().to_string()).or_insert(0);
        let allowed =
            decide::may_answer(recorded + *in_batch, self.settings.mail.max_answers_per_sender_per_hour);
        if allowed {
            *in_batch += 1;
        }
        Ok(allowed)
    }

    /// Whether the session is closed (the list made, by the deadline's
    /// close or `choixbot close`). Past the deadline but not closed yet,
    /// the close is waiting for this very mailbox: a reply is then late or
    /// not by when the server received it (see `decide::Context`).
    async fn session_closed(&self) -> anyhow::Result<bool> {
        Ok(self.store.state(crate::close::CLOSED_AT).await?.is_some())
    }
}

/// Where a message comes from, and what holds for its whole batch.
#[derive(Clone, Copy)]
struct Place<'a> {
    /// The folder it was fetched from.
    folder: &'a str,
    /// The folder's UIDVALIDITY.
    uidvalidity: i64,
    /// Whether the session is closed (the list made).
    closed: bool,
    /// The posts, indexed.
    catalog: &'a PostCatalog<'a>,
}

/// What one batch has seen so far (its writes are not visible to queries
/// outside the transaction).
#[derive(Default)]
struct BatchState {
    /// (Message-ID, content hash) of the messages already in the batch.
    seen: HashSet<(String, String)>,
    /// Answers queued per intern in the batch.
    answered: HashMap<String, i64>,
    /// (Message-ID, content hash) of the batch's messages recorded before
    /// it, with the first recorded copy.
    recorded_copies: HashMap<(String, String), i64>,
    /// Answers queued in the hour before the batch, per intern it may
    /// concern.
    answered_before: HashMap<String, i64>,
    /// The answers worded so far, queued together before the commit.
    queued: Vec<crate::store::outbox::Queued>,
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Choices => "choices",
        Kind::Empty => "empty",
        Kind::AutoReply => "auto_reply",
        Kind::Bounce => "bounce",
        Kind::Receipt => "receipt",
    }
}

/// The reasons of a decision and the parser's notes, for the audit.
fn reasons_json(decision: &Decision, parsed: &ParsedReply) -> String {
    let detail = match decision {
        Decision::Rejected { reasons, warn_owner, .. } => {
            serde_json::json!({ "reasons": reasons, "warned_owner": warn_owner })
        }
        Decision::Confirmed { wishes, .. } => {
            serde_json::json!({ "wishes": wishes, "doubts": parsed.doubts })
        }
        Decision::Command { action, .. } => serde_json::json!({ "command": action.name() }),
        Decision::Ignored { why } => serde_json::json!({ "why": why }),
        Decision::Closed { .. } | Decision::Bounce { .. } => serde_json::json!({}),
    };
    serde_json::json!({ "decision": detail, "notes": parsed.notes }).to_string()
}
