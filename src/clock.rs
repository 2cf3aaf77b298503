//! The one clock: everything that compares with "now" (the deadline, the
//! lateness of a reply, the outbox's retries, the hourly alerts) reads it
//! here, so that a test can let the deadline pass while the daemon runs,
//! with no restart and no rewritten configuration.
//!
//! A [`Clock`] is the wall clock plus an offset. In production the offset
//! is zero and never changes. A test moves it forward with
//! [`Clock::advance`]; every wait on the clock ([`Clock::sleep_until`])
//! wakes up and looks again. The offset is shared by every clone, so the
//! daemon's tasks and the store see one time.
//!
//! A daemon run as a child process (the crash tests) cannot be handed a
//! clock: it reads the test hook [`OFFSET_VARIABLE`] once at start, like the
//! hooks of `crash_point`. Unset, as always outside the tests, it is zero.
//!
//! Time still flows under an offset: tokio's timers (command timeouts,
//! backoff) measure elapsed time and are not affected.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

/// The test hook: seconds (may be negative or fractional) added to the wall
/// clock of a daemon started as a child process.
pub const OFFSET_VARIABLE: &str = "CHOIXBOT_CLOCK_OFFSET_SECONDS";

/// The longest single sleep before the wall clock is read again: a tokio
/// timer measures elapsed time on a monotonic clock, which does not follow
/// a wall clock corrected by NTP or a machine suspended overnight.
const STEP: Duration = Duration::from_secs(60);

/// The wall clock, plus an offset that tests can move. Cheap to clone; the
/// clones share the offset.
#[derive(Clone, Debug)]
pub struct Clock {
    /// The offset in milliseconds, and a way to wake the waiters when it
    /// moves.
    offset_ms: Arc<tokio::sync::watch::Sender<i64>>,
}

impl Default for Clock {
    fn default() -> Self {
        Self::from_env()
    }
}

impl Clock {
    /// The wall clock, with no offset.
    pub fn system() -> Self {
        Self::with_offset(chrono::Duration::zero())
    }

    /// The wall clock shifted by `offset` (tests).
    pub fn with_offset(offset: chrono::Duration) -> Self {
        Self { offset_ms: Arc::new(tokio::sync::watch::channel(offset.num_milliseconds()).0) }
    }

    /// The wall clock, shifted by [`OFFSET_VARIABLE`] when the test hook
    /// sets it. A value that is not a number is ignored.
    pub fn from_env() -> Self {
        let seconds = std::env::var(OFFSET_VARIABLE).ok().and_then(|v| v.trim().parse::<f64>().ok());
        match seconds {
            Some(seconds) => Self::with_offset(chrono::Duration::milliseconds((seconds * 1000.0) as i64)),
            None => Self::system(),
        }
    }

    /// Now.
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::milliseconds(*self.offset_ms.borrow())
    }

    /// Now, in milliseconds since the Unix epoch: the unit of every
    /// timestamp the store keeps.
    pub fn now_ms(&self) -> i64 {
        self.now().timestamp_millis()
    }

    /// Moves time forward (or back, with a negative `by`) for every clone,
    /// and wakes whoever waits on the clock.
    pub fn advance(&self, by: chrono::Duration) {
        self.offset_ms.send_modify(|offset| *offset += by.num_milliseconds());
    }

    /// Waits until the clock reads `instant` or later (returns true), or
    /// until `shutdown` turns true (returns false). The wait is cut into
    /// steps of at most a minute, and any move of the clock wakes it.
    pub async fn sleep_until(
        &self,
        instant: DateTime<Utc>,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) -> bool {
        let mut moved = self.offset_ms.subscribe();
        loop {
            if *shutdown.borrow() {
                return false;
            }
            let left = (instant - self.now()).to_std().unwrap_or(Duration::ZERO);
            if left.is_zero() {
                return true;
            }
            tokio::select! {
                _ = tokio::time::sleep(left.min(STEP)) => {}
                _ = moved.changed() => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Completes at the next move of the clock (never, in production).
    pub async fn moved(&self) {
        let mut moved = self.offset_ms.subscribe();
        let _ = moved.changed().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_past_instant_is_reached_at_once() {
        let (_tx, rx) = tokio::sync::watch::channel(false);
        let clock = Clock::system();
        assert!(clock.sleep_until(Utc::now() - chrono::Duration::seconds(1), rx).await);
    }

    #[tokio::test]
    async fn shutdown_ends_the_wait() {
        let (tx, rx) = tokio::sync::watch::channel(false);
        let clock = Clock::system();
        let wait =
            tokio::spawn(async move { clock.sleep_until(Utc::now() + chrono::Duration::days(1), rx).await });
        tx.send(true).unwrap();
        assert!(!wait.await.unwrap());
    }

    #[tokio::test]
    async fn advancing_the_clock_ends_a_wait_for_an_instant_a_day_away() {
        let (_tx, rx) = tokio::sync::watch::channel(false);
        let clock = Clock::system();
        let target = Utc::now() + chrono::Duration::days(1);
        let waiter = clock.clone();
        let wait = tokio::spawn(async move { waiter.sleep_until(target, rx).await });
        tokio::task::yield_now().await;
        clock.advance(chrono::Duration::days(1) + chrono::Duration::seconds(1));
        let reached = tokio::time::timeout(Duration::from_secs(10), wait)
            .await
            .expect("the wait did not notice the clock move within 10 s")
            .unwrap();
        assert!(reached);
        assert!(clock.now() >= target);
    }

    #[test]
    fn clones_share_the_offset() {
        let clock = Clock::system();
        let clone = clock.clone();
        clock.advance(chrono::Duration::hours(2));
        assert!(clone.now() - Utc::now() > chrono::Duration::minutes(119));
    }
}
