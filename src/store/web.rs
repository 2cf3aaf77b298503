//! What the web page reads beyond `status`: a mark that changes whenever
//! the page would, and each intern's last message.

use std::collections::HashMap;

use sqlx::Row;

use super::Store;

/// An intern's last message, for the referents' table.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LastMessage {
    /// Its number (`audit EMAIL --raw N`).
    pub id: i64,
    /// When it was recorded (milliseconds since the epoch).
    pub received_at: i64,
    /// `reply`, `bounce`, …
    pub kind: String,
    /// What choixbot decided: `valid`, `rejected`, `command`, …
    pub verdict: String,
    /// Why, in words.
    pub reasons: String,
}

impl Store {
    /// A mark of everything the page shows: the last message recorded, the
    /// outbox's rows and sends, the imports and the close. Equal marks, same
    /// page; one query, cheap enough to be read every second.
    pub async fn page_mark(&self) -> anyhow::Result<String> {
        let row = sqlx::query(
            "SELECT (SELECT COALESCE(MAX(id), 0) FROM messages), (SELECT COUNT(*) FROM outbox), \
             (SELECT COUNT(*) FROM outbox WHERE sent_at IS NOT NULL), \
             (SELECT COALESCE(MAX(value), '') FROM session_state WHERE key = 'revision'), \
             (SELECT COUNT(*) FROM session_state)",
        )
        .fetch_one(self.pool())
        .await?;
        let (message, queued, sent): (i64, i64, i64) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        let (revision, states): (String, i64) = (row.try_get(3)?, row.try_get(4)?);
        Ok(format!("{message}.{queued}.{sent}.{revision}.{states}"))
    }

    /// The last message recorded for each intern, by address.
    pub async fn last_messages(&self) -> anyhow::Result<HashMap<String, LastMessage>> {
        let rows = sqlx::query(
            "SELECT intern_email, id, received_at, kind, verdict, reasons FROM messages WHERE id IN \
             (SELECT MAX(id) FROM messages WHERE intern_email IS NOT NULL GROUP BY intern_email)",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let message = LastMessage {
                    id: row.try_get(1)?,
                    received_at: row.try_get(2)?,
                    kind: row.try_get(3)?,
                    verdict: row.try_get(4)?,
                    reasons: row.try_get(5)?,
                };
                Ok((row.try_get(0)?, message))
            })
            .collect()
    }
}
