//! Closing the session at the deadline (or on `choixbot close`): the final
//! allocation, the consolidated list to the ARS with the referents in copy,
//! each intern's result, and the vacant posts to those left without one
//! (SPEC §3, §8).
//!
//! The close happens only once every reply the server received before the
//! deadline is decided: the daemon reads the folder up to the deadline
//! first, and says how far in the [`Basis`], which the close records. When
//! the mailbox cannot be read, the close is held ([`held`]) and the
//! referents are told; only a referent's explicit `close --without-mailbox`
//! makes a list without it, and that list says so.
//!
//! Exactly once, even across restarts: the close is one transaction that
//! marks the session closed and queues every email. If two closes race, the
//! second finds the mark and queues nothing; if the process dies after the
//! commit, the outbox sends what was queued when it comes back. The emails'
//! Message-IDs are derived from the session and the recipient, so even a
//! close replayed on a restored database queues the same rows, not new ones.

mod compose;
pub mod held;
pub mod retention;

use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Utc};

pub use held::{hold, Held};

use crate::answer::Templates;
use crate::settings::Settings;
use crate::store::{self, MailboxPosition, Store};

/// The session-state key set when the session is closed (its value: the
/// instant, RFC 3339).
pub const CLOSED_AT: &str = "closed_at";
/// The session-state key that says on what the list was made (its value:
/// [`Basis::describe`]).
pub const CLOSE_BASIS: &str = "close_basis";

/// On what the list is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Basis {
    /// The folder was read up to this position after the deadline (or, for
    /// `choixbot close` before it, up to now): every reply the server had
    /// received is decided.
    Mailbox {
        /// The folder read.
        folder: String,
        /// Its UIDVALIDITY and the last UID read.
        position: MailboxPosition,
    },
    /// A referent's decision to close without reading the mailbox
    /// (`close --without-mailbox`): replies may be missing, and the list
    /// says so.
    WithoutMailbox {
        /// Since when the mailbox could not be read, when known.
        unreadable_since: Option<DateTime<Utc>>,
    },
}

impl Basis {
    /// One line for the session state, `status` and the log.
    pub fn describe(&self) -> String {
        match self {
            Basis::Mailbox { folder, position } => format!(
                "folder {folder:?} read up to UID {} (UIDVALIDITY {})",
                position.last_uid, position.uidvalidity
            ),
            Basis::WithoutMailbox { unreadable_since: Some(since) } => {
                format!("without reading the mailbox, out of reach since {}", since.to_rfc3339())
            }
            Basis::WithoutMailbox { unreadable_since: None } => "without reading the mailbox".to_string(),
        }
    }
}

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
pub async fn close(
    store: &Store,
    settings: &Settings,
    templates: &Arc<Templates>,
    basis: &Basis,
) -> anyhow::Result<Closed> {
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
    let amphi_turns = match settings.amphi() {
        Some(_) => Some(store::amphi::turns(&mut tx).await?),
        None => None,
    };
    // Checked again inside the write transaction: another close may have
    // committed since the first look.
    let already: Option<String> = sqlx::query_scalar("SELECT value FROM session_state WHERE key = $1")
        .bind(CLOSED_AT)
        .fetch_optional(&mut *tx)
        .await?;
    if let Some(at) = already {
        return Ok(Closed::Already { at });
    }
    store::set_state(&mut tx, CLOSED_AT, &store.clock().now().to_rfc3339()).await?;
    store::set_state(&mut tx, CLOSE_BASIS, &basis.describe()).await?;
    let (parts, mut worded) = tokio::sync::mpsc::channel(4);
    let (settings, templates) = (settings.clone(), templates.clone());
    let warning = warning(basis, &settings).map_err(anyhow::Error::msg)?;
    let composing = tokio::task::spawn_blocking(move || {
        let list =
            compose::Inputs { posts: &posts, interns: &interns, wishes: &wishes, warning, amphi_turns };
        compose::compose_close(&settings, &templates, list, parts)
    });
    let mut queued = 0;
    while let Some(part) = worded.recv().await {
        queued += store::outbox::queue_all(&mut tx, &part, store.now_ms()).await?;
    }
    let assignments = composing.await.context("a thread wording the close's emails panicked")??;
    store::outbox::put_ahead(&mut tx, crate::answer::Purpose::ArsList.as_str()).await?;
    crate::crash_point::reached("close_before_commit");
    store.commit(tx).await.context("cannot record the close")?;
    crate::crash_point::reached("close_after_commit");
    Ok(Closed::Now { queued, assignments })
}

/// The list's warning when it is made without the mailbox.
fn warning(basis: &Basis, settings: &Settings) -> Result<Option<String>, String> {
    let Basis::WithoutMailbox { unreadable_since } = basis else { return Ok(None) };
    let tz = settings.session.timezone;
    let since = unreadable_since.map(|at| crate::answer::french::instant_in_words(at, tz));
    Ok(Some(crate::answer::mailbox_warning(since.as_deref())))
}
