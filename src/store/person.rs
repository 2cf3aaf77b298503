//! Everything the session holds about one person, for an access request
//! (RGPD art. 15 and 20: a copy, in a structured, machine-readable form):
//! every message from or for the address, sent or received, with its
//! bytes while the retention keeps them, and the wishes recorded.

use sqlx::Row;

use super::outbox::AuditOutbox;
use super::{AuditMessage, Store};

/// One recorded list of wishes.
#[derive(Debug, Clone)]
pub struct WishRow {
    /// The ARS numbers, in order, separated by spaces.
    pub ars_ids: String,
    /// Where it came from (email, import).
    pub source: String,
    /// When it was recorded (ms).
    pub recorded_at: i64,
}

impl Store {
    /// The messages received from `address`, or attributed to the intern
    /// at `address`, oldest first, with their raw bytes (empty once purged).
    pub async fn received_about(&self, address: &str) -> anyhow::Result<Vec<(AuditMessage, Vec<u8>)>> {
        self.messages_about(address, true).await
    }

    /// The messages sent to `address`, or about the intern at `address`,
    /// oldest first, with their bytes (empty once purged).
    pub async fn sent_about(&self, address: &str) -> anyhow::Result<Vec<(AuditOutbox, Vec<u8>)>> {
        self.outbox_about(address, true).await
    }

    /// Every list of wishes recorded for the intern at `address`, oldest
    /// first.
    pub async fn wish_history_of(&self, address: &str) -> anyhow::Result<Vec<WishRow>> {
        let rows =
            sqlx::query("SELECT ars_ids, source, recorded_at FROM wish_history WHERE email = $1 ORDER BY id")
                .bind(address)
                .fetch_all(self.pool())
                .await?;
        rows.iter()
            .map(|row| {
                Ok(WishRow {
                    ars_ids: row.try_get(0)?,
                    source: row.try_get(1)?,
                    recorded_at: row.try_get(2)?,
                })
            })
            .collect()
    }
}
