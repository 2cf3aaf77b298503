//! Sending the displacement notices (SPEC §11): an intern whose
//! provisional post a better-ranked intern's reply took is told, with the
//! state at sending time.
//!
//! The reply that displaces records a pending notice in its own
//! transaction (`collect::process`); this task sends what is due:
//! - a notice waits [`SETTLE`] after the displacement, so that a burst of
//!   replies (a storm, an intern correcting their list twice in a minute)
//!   gives one notice with the settled state, and does not compete with
//!   the answers the burst is waiting for;
//! - at most one notice per intern per `mail.notice_minutes`: a second
//!   displacement meanwhile waits, and its notice carries the state then;
//! - a notice that has nothing left to say (the post came back, the
//!   intern has no wishes, or answered meanwhile) is dropped;
//! - none after the deadline: the results follow.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tracing::{info, warn};

use crate::answer::replies::Answers;
use crate::answer::PostCatalog;
use crate::session::SessionData;
use crate::settings::Settings;
use crate::store::{self, notices, Store};

/// How long a notice waits after the displacement that caused it.
pub const SETTLE: Duration = Duration::from_secs(60);

/// How often pending notices are looked at (a cheap indexed query).
const LOOK_AGAIN: Duration = Duration::from_secs(5);

/// Sends the notices that come due, until `stopped`; at the deadline,
/// drops those still pending and returns.
pub async fn send_when_due(
    store: Store,
    settings: Arc<Settings>,
    answers: Answers,
    deadline: DateTime<Utc>,
    outbox_wake: Arc<tokio::sync::Notify>,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    let clock = store.clock().clone();
    let interval = Duration::from_secs(u64::from(settings.mail.notice_minutes) * 60);
    loop {
        let result = if clock.now() >= deadline {
            forget_at_deadline(&store).await
        } else {
            send_due(&store, &settings, &answers, interval).await.map(|sent| {
                if sent > 0 {
                    outbox_wake.notify_one();
                }
                false
            })
        };
        match result {
            Ok(true) => return,
            Ok(false) => {}
            Err(error) if store::lease::is_lease_error(&error) => return,
            Err(error) => {
                warn!("displacement notices: {error:#}; trying again in {} s", LOOK_AGAIN.as_secs())
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(LOOK_AGAIN) => {}
            _ = clock.moved() => {}
            _ = stopped.changed() => return,
        }
    }
}

/// Queues every notice due now, in one transaction; returns how many
/// interns were told.
async fn send_due(
    store: &Store,
    settings: &Settings,
    answers: &Answers,
    interval: Duration,
) -> anyhow::Result<usize> {
    let (settle_ms, interval_ms) = (SETTLE.as_millis() as i64, interval.as_millis() as i64);
    if store.due_notices(store.now_ms(), settle_ms, interval_ms).await?.is_empty() {
        return Ok(0);
    }
    // With the write lock held, no batch of replies commits meanwhile:
    // the state read is the one at sending time.
    let mut tx = store.begin_write().await?;
    let now_ms = store.now_ms();
    let due = store.due_notices(now_ms, settle_ms, interval_ms).await?;
    let session = SessionData::load_with_cap(store, settings.session.supernumerary_cap).await?;
    let catalog = PostCatalog::new(&session.posts);
    let mut told = 0;
    for notice in &due {
        match answers.notice(&session, notice, &catalog)? {
            Some(queued) => {
                store::outbox::queue_all(&mut tx, &queued, now_ms).await?;
                notices::sent(&mut tx, &notice.intern, now_ms).await?;
                told += 1;
            }
            None => notices::forget(&mut tx, &notice.intern).await?,
        }
    }
    store.commit(tx).await?;
    if told > 0 {
        info!(told, dropped = due.len() - told, "displacement notices queued");
    }
    Ok(told)
}

/// Drops the notices still pending at the deadline; true once done.
async fn forget_at_deadline(store: &Store) -> anyhow::Result<bool> {
    let mut tx = store.begin_write().await?;
    let dropped = notices::forget_all(&mut tx).await?;
    store.commit(tx).await?;
    if dropped > 0 {
        info!(dropped, "the deadline has passed: displacement notices still pending are not sent");
    }
    Ok(true)
}
