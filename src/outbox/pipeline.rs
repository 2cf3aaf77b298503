//! How the outbox worker keeps its connections busy while it records what
//! became of the messages: sending and recording run side by side, so that
//! a write waiting for the database never holds up the next sends.
//!
//! Why: on SQLite the daemon's fetched batch is one write transaction that
//! holds the database's write lock while its replies are decided (most of a
//! storm's first seconds). A worker that waited for its own `sent` marks
//! before it started the next sends stood still for as long: in the storm
//! benchmark only 502 of 5,045 answers had left when the last of 5,000
//! replies was decided (8.8 s), and sending was done only after that.
//!
//! The one invariant that makes this safe: a row stays in `in_flight` from
//! the moment it is taken for sending until its outcome is committed, and a
//! row in flight is never taken again. A row whose acceptance is not yet
//! recorded is still `pending` in the database; reading the due rows again
//! in that window must not send it a second time.

use std::collections::{HashSet, VecDeque};

use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};

use super::record::{Recorder, RetryPolicy, Sent};
use super::transport::{SendOutcome, SmtpTransport};
use crate::store::outbox::Pending;
use crate::store::Store;

/// How many due rows are read at a time.
const BATCH: i64 = 200;

/// What the pipeline sends with and records to (the worker's parts).
pub struct Lane<'a> {
    /// The database holding the outbox.
    pub store: &'a Store,
    /// The SMTP server, with its open connections.
    pub transport: &'a SmtpTransport,
    /// The envelope sender.
    pub envelope_from: &'a str,
    /// When to retry.
    pub retry: RetryPolicy,
    /// How many sends run at once.
    pub concurrency: usize,
    /// The least time between two sends, if any.
    pub min_interval: Option<std::time::Duration>,
}

/// A message handed to the server, and what became of it.
type Done = (Pending, SendOutcome);

/// A recording under way: it yields the counts and the ids it recorded.
type Recording<'a> = BoxFuture<'a, anyhow::Result<(Sent, Vec<i64>)>>;

/// The state of one run of the pipeline.
struct Pipeline<'a> {
    /// What is sent with, and recorded to.
    lane: &'a Lane<'a>,
    /// Due rows read and not handed to a send yet.
    queue: VecDeque<Pending>,
    /// Ids taken for sending whose outcome is not committed yet.
    in_flight: HashSet<i64>,
    /// The sends under way (at most `lane.concurrency`).
    sending: FuturesUnordered<BoxFuture<'a, Done>>,
    /// Sends ended, waiting for the next recording.
    finished: Vec<Done>,
    /// The recording under way, with the ids it records.
    recording: Option<Recording<'a>>,
    /// What was recorded so far.
    total: Sent,
}

/// Sends `first` (rows already read as due), recording outcomes as the
/// sends end; with `refill`, reads the due rows again whenever the queue
/// runs dry, until nothing is due and nothing is in flight. Once `paused`
/// is set it reads no more and starts no new send: what is under way ends
/// and is recorded.
pub async fn run<'a>(
    lane: &'a Lane<'a>,
    first: Vec<Pending>,
    refill: bool,
    paused: Option<&std::sync::atomic::AtomicBool>,
) -> anyhow::Result<Sent> {
    // A process that may not speak (its lease lost or stale, see
    // `crate::lease`) is paused too.
    let is_paused =
        || paused.is_some_and(|p| p.load(std::sync::atomic::Ordering::SeqCst)) || !lane.store.may_speak();
    let mut pipeline = Pipeline {
        lane,
        in_flight: first.iter().map(|p| p.id).collect(),
        queue: first.into(),
        sending: FuturesUnordered::new(),
        finished: Vec::new(),
        recording: None,
        total: Sent::default(),
    };
    // Whether the last read found nothing new: read again only after a
    // recording, which is what can change the answer (new rows queued by
    // the daemon are found then, or by the next drain).
    let mut dry = !refill;
    loop {
        if refill && !dry && pipeline.queue.is_empty() && pipeline.sending.len() < lane.concurrency.max(1) {
            dry = is_paused() || pipeline.read_due().await? == 0;
        }
        if is_paused() {
            // Rows read but not handed to a send go back: they are still
            // pending in the database, and read again after the pause.
            for pending in pipeline.queue.drain(..) {
                pipeline.in_flight.remove(&pending.id);
            }
        }
        pipeline.start_sends();
        pipeline.start_recording();
        let Some(recorded) = pipeline.next_event().await? else {
            return Ok(pipeline.total);
        };
        if recorded {
            dry = !refill;
        }
    }
}

impl<'a> Pipeline<'a> {
    /// Reads the due rows that are not in flight into the queue; returns
    /// how many were new.
    async fn read_due(&mut self) -> anyhow::Result<usize> {
        let limit = (BATCH as usize + self.in_flight.len()) as i64;
        let due = self.lane.store.due(limit).await?;
        let before = self.queue.len();
        for pending in due {
            if self.in_flight.insert(pending.id) {
                self.queue.push_back(pending);
            }
        }
        Ok(self.queue.len() - before)
    }

    /// Hands queued rows to sends, up to the concurrency.
    fn start_sends(&mut self) {
        while self.sending.len() < self.lane.concurrency.max(1) && self.lane.store.may_speak() {
            let Some(pending) = self.queue.pop_front() else { break };
            let lane = self.lane;
            self.sending.push(Box::pin(async move {
                let outcome =
                    lane.transport.send_raw(lane.envelope_from, &pending.recipients, &pending.raw).await;
                if let Some(interval) = lane.min_interval {
                    // Concurrency is 1 with a rate: this spaces the sends.
                    tokio::time::sleep(interval).await;
                }
                (pending, outcome)
            }));
        }
    }

    /// Starts recording the ended sends, unless a recording is under way
    /// (the next one takes all that ended meanwhile, in one write).
    fn start_recording(&mut self) {
        if self.recording.is_none() && !self.finished.is_empty() {
            let done = std::mem::take(&mut self.finished);
            let recorder = Recorder { store: self.lane.store, retry: self.lane.retry };
            self.recording = Some(Box::pin(async move { recorder.record(done).await }));
        }
    }

    /// Waits for a send or the recording to end. Returns `None` when
    /// nothing is under way any more, `Some(true)` after a recording.
    async fn next_event(&mut self) -> anyhow::Result<Option<bool>> {
        let sending = !self.sending.is_empty();
        let recording = async {
            match self.recording.as_mut() {
                Some(recording) => Some(recording.await),
                None => None,
            }
        };
        let ended = async {
            match sending {
                true => self.sending.next().await,
                false => None,
            }
        };
        tokio::select! {
            Some(done) = ended => {
                self.finished.push(done);
                Ok(Some(false))
            }
            Some(result) = recording => {
                self.recording = None;
                let (sent, ids) = result?;
                for id in ids {
                    self.in_flight.remove(&id);
                }
                self.total.add(sent);
                Ok(Some(true))
            }
            else => Ok(None),
        }
    }
}
