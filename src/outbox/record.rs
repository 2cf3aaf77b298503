//! Recording what became of each message handed to the server: accepted
//! (in one write for all that ended together), deferred with backoff, or
//! failed for good (SPEC §7). The pipeline calls it as sends end; it knows
//! nothing of who sends.

use std::time::Duration;

use tracing::{info, warn};

use super::transport::SendOutcome;
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

/// Records outcomes in the outbox's rows.
pub struct Recorder<'a> {
    /// The database holding the outbox.
    pub store: &'a Store,
    /// When to retry.
    pub retry: RetryPolicy,
}

impl Recorder<'_> {
    /// Records the outcomes of ended sends: failures and deferrals one by
    /// one (rare), the acceptances in one write. Returns the counts and
    /// the ids recorded.
    pub async fn record(&self, done: Vec<(Pending, SendOutcome)>) -> anyhow::Result<(Sent, Vec<i64>)> {
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
