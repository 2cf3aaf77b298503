//! The outbox worker: sends what the outbox holds, one batch at a time, and
//! records each outcome, so that a crash or an SMTP outage loses nothing.
//!
//! Retries follow the SMTP answer (SPEC §7): a temporary failure (4xx, or no
//! connection at all) is retried with exponential backoff; a permanent one
//! (5xx) is marked failed and shown by `status`. The one ambiguous case is a
//! connection lost after the DATA command began: the server may or may not
//! have accepted the message. It is retried, because losing a confirmation
//! is worse than sending it twice, and the retry carries the same
//! Message-ID, which mail clients use to show one message. This is the only
//! window in which an answer can be sent twice; the same window exists for a
//! crash between the server's acceptance and the `sent` mark in the database.

use std::time::Duration;

use tracing::warn;

use super::pipeline::{self, Lane};
pub use super::record::{RetryPolicy, Sent};
use super::transport::SmtpTransport;
use crate::store::Store;

/// The outbox worker's parts.
#[derive(Clone)]
pub struct Worker {
    /// The database holding the outbox.
    pub store: Store,
    /// The SMTP server, with its open connections.
    pub transport: SmtpTransport,
    /// The envelope sender (bounces come back to it).
    pub envelope_from: String,
    /// When to retry.
    pub retry: RetryPolicy,
    /// How many sends run at once.
    pub concurrency: usize,
    /// The least time between two sends (`mail.max_per_minute`), if any.
    pub min_interval: Option<Duration>,
}

/// How often a paused worker, or one whose lease is not fresh, looks again.
const HELD_BACK_LOOK: Duration = Duration::from_secs(1);

/// The longest the worker waits before it looks at the outbox again.
const IDLE_LOOK: Duration = Duration::from_secs(5);

impl Worker {
    /// What the pipeline sends with and records to.
    fn lane(&self) -> Lane<'_> {
        Lane {
            store: &self.store,
            transport: &self.transport,
            envelope_from: &self.envelope_from,
            retry: self.retry,
            concurrency: self.concurrency,
            min_interval: self.min_interval,
        }
    }

    /// Sends one batch of due messages and records each outcome. Tests and
    /// `invite`/`close` drive the outbox through this.
    pub async fn try_execute_task(&self, batch: i64) -> anyhow::Result<Sent> {
        let due = self.store.due(batch).await?;
        pipeline::run(&self.lane(), due, false, None).await
    }

    /// Sends until nothing is due now; returns the totals. Rows queued
    /// while it runs are sent too.
    pub async fn drain(&self) -> anyhow::Result<Sent> {
        pipeline::run(&self.lane(), Vec::new(), true, None).await
    }

    /// The worker loop of the daemon: sends what is due, then sleeps until
    /// the next message is due or `wake` is notified, until `shutdown`.
    ///
    /// While `paused` is set it starts no new send (those under way end and
    /// are recorded), and looks again when woken. The daemon pauses it
    /// between the deadline and the close: the two cores go to reading the
    /// replies received before the deadline, and the list then leaves
    /// first; the answers follow seconds later.
    pub async fn run(
        &self,
        wake: &tokio::sync::Notify,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
        paused: &std::sync::atomic::AtomicBool,
    ) {
        loop {
            let sent = if paused.load(std::sync::atomic::Ordering::SeqCst) {
                Ok(Sent::default())
            } else {
                pipeline::run(&self.lane(), Vec::new(), true, Some(paused)).await
            };
            if let Err(error) = sent {
                warn!("outbox: {error:#}");
            }
            let held_back = paused.load(std::sync::atomic::Ordering::SeqCst) || !self.store.may_speak();
            let wait = match self.store.next_due_at().await {
                // Due rows wait for the pause to end (the daemon wakes the
                // worker then) or the lease to be fresh again: looking every
                // 10 ms meanwhile was a query a hundred times a second.
                Ok(Some(_)) if held_back => HELD_BACK_LOOK,
                Ok(Some(at)) => {
                    Duration::from_millis((at - self.store.now_ms()).clamp(10, 60_000) as u64).min(IDLE_LOOK)
                }
                // Rows another process queued (`invite` or `close` next
                // to the daemon, which leave the sending to it) are found
                // within this.
                Ok(None) => IDLE_LOOK,
                Err(error) => {
                    warn!("outbox: {error:#}");
                    Duration::from_secs(5)
                }
            };
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => return,
            }
            if *shutdown.borrow() {
                return;
            }
        }
    }
}
