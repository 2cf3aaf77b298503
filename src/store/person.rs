//! Everything the session holds about one person, for an access request
//! (RGPD art. 15 and 20: a copy, in a structured, machine-readable form):
//! every message from or for the address, sent or received, with its
//! bytes while the retention keeps them, and the wishes recorded.

use sqlx::Row;

use super::Store;

/// A message received from, or about, the person.
#[derive(Debug, Clone)]
pub struct ReceivedRow {
    /// Its number in the audit.
    pub id: i64,
    /// When choixbot recorded it (ms).
    pub recorded_at: i64,
    /// When the IMAP server received it (ms), if known.
    pub internal_date: Option<i64>,
    /// Its sender.
    pub sender: Option<String>,
    /// The kind the parser found.
    pub kind: String,
    /// The decision.
    pub verdict: String,
    /// The reasons and notes (JSON).
    pub reasons: String,
    /// Its raw bytes; empty once purged.
    pub raw: Vec<u8>,
}

/// A message choixbot sent (or will send) to or about the person.
#[derive(Debug, Clone)]
pub struct SentRow {
    /// Its row in the outbox.
    pub id: i64,
    /// What it is (confirmation, result…).
    pub purpose: String,
    /// pending, sent or failed.
    pub status: String,
    /// Its recipients.
    pub recipients: String,
    /// When it was queued (ms).
    pub created_at: i64,
    /// When the server accepted it (ms).
    pub sent_at: Option<i64>,
    /// Its bytes; empty once purged.
    pub raw: Vec<u8>,
}

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
    /// at `address`, oldest first.
    pub async fn received_about(&self, address: &str) -> anyhow::Result<Vec<ReceivedRow>> {
        let rows = sqlx::query(
            "SELECT id, received_at, internal_date, sender, kind, verdict, reasons, raw FROM messages \
             WHERE intern_email = $1 OR sender = $1 ORDER BY id",
        )
        .bind(address)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ReceivedRow {
                    id: row.try_get(0)?,
                    recorded_at: row.try_get(1)?,
                    internal_date: row.try_get(2)?,
                    sender: row.try_get(3)?,
                    kind: row.try_get(4)?,
                    verdict: row.try_get(5)?,
                    reasons: row.try_get(6)?,
                    raw: row.try_get(7)?,
                })
            })
            .collect()
    }

    /// The messages sent to `address`, or about the intern at `address`,
    /// oldest first.
    pub async fn sent_about(&self, address: &str) -> anyhow::Result<Vec<SentRow>> {
        let rows = sqlx::query(
            "SELECT id, purpose, status, recipients, created_at, sent_at, raw FROM outbox \
             WHERE intern_email = $1 OR recipients = $1 ORDER BY id",
        )
        .bind(address)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(SentRow {
                    id: row.try_get(0)?,
                    purpose: row.try_get(1)?,
                    status: row.try_get(2)?,
                    recipients: row.try_get(3)?,
                    created_at: row.try_get(4)?,
                    sent_at: row.try_get(5)?,
                    raw: row.try_get(6)?,
                })
            })
            .collect()
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
