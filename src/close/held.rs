//! A close held at the deadline: the mailbox cannot be read, so the replies
//! received before the deadline are not all decided, and the list must not
//! leave without them (SPEC §11). The hold is recorded in the session state,
//! for `status` and for the hourly alerts to count from; the close clears
//! nothing (the record says, afterwards, that the list was late and why).

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::store::{self, Store};

/// The session-state key of the hold (its value: [`Held`] as JSON).
pub const HELD: &str = "close_held";

/// Why and since when the close is held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Held {
    /// When the close was first held (ms): the hourly alerts count from it.
    pub held_at: i64,
    /// Since when the mailbox cannot be read (ms).
    pub unreadable_since: i64,
    /// The last error, in full.
    pub error: String,
}

impl Held {
    /// `unreadable_since` as an instant.
    pub fn unreadable_since(&self) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp_millis(self.unreadable_since)
    }
}

/// Records that the close is held, keeping the first `held_at`, and
/// returns the record. Does nothing (and returns `None`) once the session
/// is closed.
pub async fn hold(
    store: &Store,
    unreadable_since: DateTime<Utc>,
    error: &str,
) -> anyhow::Result<Option<Held>> {
    let mut tx = store.begin_write().await?;
    let closed: Option<String> = sqlx::query_scalar("SELECT value FROM session_state WHERE key = $1")
        .bind(super::CLOSED_AT)
        .fetch_optional(&mut *tx)
        .await?;
    if closed.is_some() {
        return Ok(None);
    }
    let before: Option<String> = sqlx::query_scalar("SELECT value FROM session_state WHERE key = $1")
        .bind(HELD)
        .fetch_optional(&mut *tx)
        .await?;
    let before: Option<Held> = before.and_then(|text| serde_json::from_str(&text).ok());
    let held = Held {
        held_at: before.as_ref().map_or_else(|| store.now_ms(), |b| b.held_at),
        unreadable_since: before.as_ref().map_or(unreadable_since.timestamp_millis(), |b| {
            b.unreadable_since.min(unreadable_since.timestamp_millis())
        }),
        error: error.to_string(),
    };
    let value = serde_json::to_string(&held).context("cannot encode the hold")?;
    store::set_state(&mut tx, HELD, &value).await?;
    store.commit(tx).await.context("cannot record that the close is held")?;
    Ok(Some(held))
}

/// The hold, if the close is or was ever held.
pub async fn held(store: &Store) -> anyhow::Result<Option<Held>> {
    Ok(store.state(HELD).await?.and_then(|text| serde_json::from_str(&text).ok()))
}
