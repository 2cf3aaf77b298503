//! What the referent must follow up by hand, as the database knows it:
//! invitations that bounced, interns who have not replied, and messages
//! that got no answer because nobody registered sent them or because they
//! could not be processed. `status` turns these rows into names.

use sqlx::Row;

use super::Store;

/// The last bounce recorded against an intern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BounceRow {
    /// The intern's address (the key of the call list).
    pub intern_email: String,
    /// Who sent the bounce, and its subject.
    pub detail: String,
    /// When it was recorded, in milliseconds since the epoch.
    pub recorded_at: i64,
}

/// A recorded message that got no answer and needs a human.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnansweredRow {
    /// The message's number, for `audit EMAIL --raw N`.
    pub id: i64,
    /// Its sender, if one could be read.
    pub sender: Option<String>,
    /// When it was recorded, in milliseconds since the epoch.
    pub received_at: i64,
}

/// The wishes in force of an intern, read from a reply with doubts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToCheckRow {
    /// The intern's address.
    pub intern_email: String,
    /// The message the wishes come from, for `audit EMAIL --raw N`.
    pub id: i64,
    /// The doubts its reading raised.
    pub doubts: Vec<String>,
}

impl Store {
    /// The interns whose wishes in force (their last confirmed reply) were
    /// read with doubts, in the order they came: the referent may call them.
    pub async fn wishes_to_check(&self) -> anyhow::Result<Vec<ToCheckRow>> {
        let rows = sqlx::query(
            "SELECT m.intern_email, m.id, m.reasons FROM messages m WHERE m.verdict = 'confirmed' \
             AND m.id = (SELECT MAX(id) FROM messages l WHERE l.intern_email = m.intern_email \
             AND l.verdict = 'confirmed') ORDER BY m.id",
        )
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::new();
        for row in rows {
            let reasons: String = row.try_get(2)?;
            let reasons: serde_json::Value = serde_json::from_str(&reasons).unwrap_or_default();
            let doubts: Vec<String> = reasons["decision"]["doubts"]
                .as_array()
                .map(|doubts| doubts.iter().filter_map(|d| d.as_str().map(str::to_string)).collect())
                .unwrap_or_default();
            if !doubts.is_empty() {
                out.push(ToCheckRow { intern_email: row.try_get(0)?, id: row.try_get(1)?, doubts });
            }
        }
        Ok(out)
    }

    /// The last bounce of each intern who has one, in the order they came.
    pub async fn bounces(&self) -> anyhow::Result<Vec<BounceRow>> {
        let rows = sqlx::query(
            "SELECT b.intern_email, b.detail, b.recorded_at FROM bounces b \
             WHERE b.id = (SELECT MAX(id) FROM bounces l WHERE l.intern_email = b.intern_email) \
             ORDER BY b.id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(BounceRow {
                    intern_email: row.try_get(0)?,
                    detail: row.try_get(1)?,
                    recorded_at: row.try_get(2)?,
                })
            })
            .collect()
    }

    /// The interns of the call list who sent no reply (choices or not), by
    /// the same rule as `MailCounts::no_reply`.
    pub async fn interns_without_reply(&self) -> anyhow::Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT email FROM interns i WHERE NOT EXISTS (SELECT 1 FROM messages m \
             WHERE m.intern_email = i.email AND m.kind IN ('choices', 'empty'))",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|row| Ok(row.try_get(0)?)).collect()
    }

    /// Replies rejected and attributed to nobody: the sender is not
    /// registered, so no answer went back. Often an intern writing from
    /// another address, whom only the referent can reach.
    pub async fn replies_from_strangers(&self) -> anyhow::Result<Vec<UnansweredRow>> {
        self.unanswered(
            "SELECT id, sender, received_at FROM messages WHERE intern_email IS NULL \
             AND verdict = 'rejected' AND kind IN ('choices', 'empty') ORDER BY id",
        )
        .await
    }

    /// Messages kept as unprocessable (see `collect::process`).
    pub async fn unprocessable_messages(&self) -> anyhow::Result<Vec<UnansweredRow>> {
        self.unanswered(
            "SELECT id, sender, received_at FROM messages WHERE verdict = 'unprocessable' ORDER BY id",
        )
        .await
    }

    async fn unanswered(&self, sql: &'static str) -> anyhow::Result<Vec<UnansweredRow>> {
        let rows = sqlx::query(sql).fetch_all(self.pool()).await?;
        rows.iter()
            .map(|row| {
                Ok(UnansweredRow {
                    id: row.try_get(0)?,
                    sender: row.try_get(1)?,
                    received_at: row.try_get(2)?,
                })
            })
            .collect()
    }
}
