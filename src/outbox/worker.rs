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

use tracing::{info, warn};

use super::transport::{SendOutcome, SmtpTransport};
use crate::store::{outbox::Pending, Store};

/// When to try again after temporary failures.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// The wait after the first failure; doubled after each next one.
    pub first_delay: Duration,
    /// The longest wait between two attempts.
    pub max_delay: Duration,
    /// After this long since it was queued, a message that still fails
    /// temporarily is marked failed.
    pub give_up_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            first_delay: Duration::from_secs(30),
            max_delay: Duration::from_secs(30 * 60),
            give_up_after: Duration::from_secs(48 * 3600),
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt number `attempts + 1`.
    pub fn delay(&self, attempts: i64) -> Duration {
        let factor = 2u32.saturating_pow(attempts.clamp(0, 20) as u32);
        self.first_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// What one call of [`try_execute_task`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sent {
    /// Messages the server accepted.
    pub accepted: usize,
    /// Messages that will be tried again.
    pub deferred: usize,
    /// Messages marked failed.
    pub failed: usize,
}

impl Sent {
    pub fn attempted(&self) -> usize {
        self.accepted + self.deferred + self.failed
    }

    /// Adds `other`'s counts to these.
    pub fn add(&mut self, other: Sent) {
        self.accepted += other.accepted;
        self.deferred += other.deferred;
        self.failed += other.failed;
    }
}

/// The outbox worker's parts.
#[derive(Clone)]
pub struct Worker {
    /// The database holding the outbox.
    pub store: Store,
    /// The SMTP connection pool.
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

/// How many due rows the worker reads at a time.
pub(super) const BATCH: i64 = 200;

impl Worker {
    /// Sends one batch of due messages and records each outcome. Tests and
    /// `invite`/`close` drive the outbox through this.
    pub async fn try_execute_task(&self, batch: i64) -> anyhow::Result<Sent> {
        let due = self.store.due(batch).await?;
        super::pipeline::run(self, due, false, None).await
    }

    /// Records the outcomes of ended sends: failures and deferrals one by
    /// one (rare), the acceptances in one write. Returns the counts and
    /// the ids recorded.
    pub(super) async fn record(&self, done: Vec<(Pending, SendOutcome)>) -> anyhow::Result<(Sent, Vec<i64>)> {
        let mut sent = Sent::default();
        let ids = done.iter().map(|(pending, _)| pending.id).collect();
        let mut accepted = Vec::new();
        for (pending, outcome) in done {
            match outcome {
                SendOutcome::Accepted => accepted.push(pending.id),
                SendOutcome::Permanent(error) => self.fail(&pending, &error, &mut sent).await?,
                SendOutcome::Transient(error) | SendOutcome::Ambiguous(error) => {
                    self.defer(&pending, &error, &mut sent).await?
                }
            }
        }
        if !accepted.is_empty() {
            crate::crash_point::reached("after_send");
        }
        // One write for all the acceptances that ended during the previous
        // write: one per message capped the storm at about 120 sends/s.
        self.store.mark_all_sent(&accepted).await?;
        sent.accepted += accepted.len();
        Ok((sent, ids))
    }

    async fn fail(&self, pending: &Pending, error: &str, sent: &mut Sent) -> anyhow::Result<()> {
        warn!(outbox = pending.id, recipients = ?pending.recipients, %error, "send failed for good");
        self.store.mark_failed(pending.id, error).await?;
        sent.failed += 1;
        Ok(())
    }

    /// A temporary failure: retried after the backoff, or failed for good
    /// once the message is older than `give_up_after`.
    async fn defer(&self, pending: &Pending, error: &str, sent: &mut Sent) -> anyhow::Result<()> {
        let age = Duration::from_millis((self.store.now_ms() - pending.created_at).max(0) as u64);
        if age >= self.retry.give_up_after {
            let error = format!("gave up after {} h of temporary failures: {error}", age.as_secs() / 3600);
            return self.fail(pending, &error, sent).await;
        }
        let delay = self.retry.delay(pending.attempts);
        info!(outbox = pending.id, %error, retry_in = ?delay, "send deferred");
        self.store.mark_retry(pending.id, error, self.store.now_ms() + delay.as_millis() as i64).await?;
        sent.deferred += 1;
        Ok(())
    }

    /// Sends until nothing is due now; returns the totals. Rows queued
    /// while it runs are sent too.
    pub async fn drain(&self) -> anyhow::Result<Sent> {
        super::pipeline::run(self, Vec::new(), true, None).await
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
                super::pipeline::run(self, Vec::new(), true, Some(paused)).await
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

#[cfg(test)]
mod tests {
    use super::RetryPolicy;
    use std::time::Duration;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.delay(0), Duration::from_secs(30));
        assert_eq!(policy.delay(1), Duration::from_secs(60));
        assert_eq!(policy.delay(3), Duration::from_secs(240));
        assert_eq!(policy.delay(10), Duration::from_secs(1800));
        assert_eq!(policy.delay(1000), Duration::from_secs(1800));
    }
}
