//! Waiting for the deadline.
//!
//! The deadline is an instant (the local time was resolved once, with its
//! daylight-saving rules, in `settings`). The wait is cut into steps of at
//! most a minute and the wall clock is read again after each: a tokio timer
//! measures elapsed time on a monotonic clock, which does not follow a wall
//! clock corrected by NTP or a machine suspended overnight.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// The longest single sleep before the wall clock is read again.
const STEP: Duration = Duration::from_secs(60);

/// Waits until `deadline` (returns true) or until `shutdown` turns true
/// (returns false).
pub async fn wait_for_deadline(
    deadline: DateTime<Utc>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> bool {
    loop {
        if *shutdown.borrow() {
            return false;
        }
        let left = (deadline - Utc::now()).to_std().unwrap_or(Duration::ZERO);
        if left.is_zero() {
            return true;
        }
        tokio::select! {
            _ = tokio::time::sleep(left.min(STEP)) => {}
            _ = shutdown.changed() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_past_deadline_is_reached_at_once() {
        let (_tx, rx) = tokio::sync::watch::channel(false);
        assert!(wait_for_deadline(Utc::now() - chrono::Duration::seconds(1), rx).await);
    }

    #[tokio::test]
    async fn shutdown_ends_the_wait() {
        let (tx, rx) = tokio::sync::watch::channel(false);
        let wait = tokio::spawn(wait_for_deadline(Utc::now() + chrono::Duration::days(1), rx));
        tx.send(true).unwrap();
        assert!(!wait.await.unwrap());
    }
}
