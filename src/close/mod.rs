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

mod compose;
mod deadline;

use std::sync::Arc;

use anyhow::Context;

pub use deadline::wait_for_deadline;

use crate::answer::Templates;
use crate::settings::Settings;
use crate::store::{self, Store};

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
///
/// The write transaction is opened first, and the emails are queued as
/// they are worded (on blocking threads, see [`compose`]): inserting the
/// rows then overlaps the wording instead of following it. The daemon's
/// writes wait for the close meanwhile (about a second for 10,000 interns),
/// as they waited for its inserts before.
pub async fn close(store: &Store, settings: &Settings, templates: &Arc<Templates>) -> anyhow::Result<Closed> {
    if let Some(at) = store.state(CLOSED_AT).await? {
        return Ok(Closed::Already { at });
    }
    let mut tx = store.begin_write().await?;
    // Read with the write lock held, so that no batch of replies commits
    // wishes between this read and the close's commit: a reply confirmed
    // before the close is in the list (see `Store::begin_write`).
    let posts = store.posts().await?;
    let interns = store.interns().await?;
    let wishes = store.wishes().await?;
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
    let (parts, mut worded) = tokio::sync::mpsc::channel(4);
    let (settings, templates) = (settings.clone(), templates.clone());
    let composing = tokio::task::spawn_blocking(move || {
        compose::compose_close(&settings, &templates, &posts, &interns, &wishes, parts)
    });
    let mut queued = 0;
    while let Some(part) = worded.recv().await {
        queued += store::outbox::queue_all(&mut tx, &part).await?;
    }
    let assignments = composing.await.context("a thread wording the close's emails panicked")??;
    tx.commit().await.context("cannot record the close")?;
    Ok(Closed::Now { queued, assignments })
}
