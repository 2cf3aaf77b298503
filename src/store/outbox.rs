//! The persistent outbox: every message choixbot sends is first a row here,
//! written in the same transaction as the decision that caused it, then sent
//! by the outbox worker. A crash between the two loses nothing; the unique
//! Message-ID of each row makes queueing idempotent (an invitation queued
//! twice, or an answer to a message decided again after a crash, is one row).

use anyhow::Context;
use sqlx::{Any, Row, Transaction};

use super::Store;

/// A message ready to be queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    /// The Message-ID header of `raw`, unique: the idempotence key.
    pub message_id: String,
    /// What it is: invitation, confirmation, rejection, closed, result,
    /// vacancies, ars_list, warning.
    pub purpose: String,
    /// The intern it concerns, if any (for `audit` and `status`).
    pub intern_email: Option<String>,
    /// The stored incoming message it answers, if any.
    pub answers_message: Option<i64>,
    /// Envelope recipients.
    pub recipients: Vec<String>,
    /// The whole RFC 5322 message.
    pub raw: Vec<u8>,
}

/// A row of the outbox waiting to be sent.
#[derive(Debug, Clone)]
pub struct Pending {
    /// The row's id.
    pub id: i64,
    /// Envelope recipients.
    pub recipients: Vec<String>,
    /// The message.
    pub raw: Vec<u8>,
    /// Attempts so far.
    pub attempts: i64,
    /// When it was queued (ms), to give up on transient failures at last.
    pub created_at: i64,
}

pub const PENDING: &str = "pending";
pub const SENT: &str = "sent";
pub const FAILED: &str = "failed";

/// Queues a message in the caller's transaction. Returns false when a message
/// with the same Message-ID is already queued (nothing is written then).
pub async fn queue(
    tx: &mut Transaction<'static, Any>,
    message: &Queued,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let queued = queue_all(tx, std::slice::from_ref(message), now_ms)
        .await
        .with_context(|| format!("cannot queue message {}", message.message_id))?;
    Ok(queued > 0)
}

/// How many rows one INSERT of [`queue_all`] carries. Few enough that
/// sqlx's binding stays cheap: for each parameter it asks SQLite for the
/// parameter's name, which SQLite finds by a linear search of the
/// statement's names, so a statement's binding costs the square of its
/// parameters. At 100 rows (900 parameters) that search was a third of the
/// close's inserting; at 20 rows it is negligible, and the per-statement
/// cost still small.
const ROWS_PER_INSERT: usize = 20;

/// Queues many messages in the caller's transaction, [`ROWS_PER_INSERT`]
/// rows per statement; returns how many were new. The close queues 10,000
/// results: one statement each spent most of its time in trips to the
/// database.
/// `now_ms` is the instant of queuing, by the store's clock: the row is due
/// at once.
pub async fn queue_all(
    tx: &mut Transaction<'static, Any>,
    messages: &[Queued],
    now_ms: i64,
) -> anyhow::Result<usize> {
    let now = now_ms;
    let mut queued = 0;
    for chunk in messages.chunks(ROWS_PER_INSERT) {
        // $1 (the status) and $2 (the instant) are shared by every row.
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| {
                let p = |k: usize| format!("${}", 2 + i * 6 + k);
                format!("({}, {}, {}, {}, {}, {}, $1, 0, $2, $2)", p(1), p(2), p(3), p(4), p(5), p(6))
            })
            .collect();
        let sql = format!(
            "INSERT INTO outbox (message_id, purpose, intern_email, answers_message, recipients, raw, status, \
             attempts, next_attempt_at, created_at) VALUES {} ON CONFLICT (message_id) DO NOTHING",
            rows.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(PENDING).bind(now);
        for message in chunk {
            query = query
                .bind(&message.message_id)
                .bind(&message.purpose)
                .bind(message.intern_email.as_deref())
                .bind(message.answers_message)
                .bind(message.recipients.join(" "))
                .bind(message.raw.as_slice());
        }
        let result = query.execute(&mut **tx).await.context("cannot queue the messages")?;
        queued += result.rows_affected() as usize;
    }
    Ok(queued)
}

/// Makes the not-yet-tried rows of `purpose` due before everything else
/// waiting, in the caller's transaction. The worker takes the earliest due
/// first (`next_attempt_at`, then id): a row due since the epoch goes ahead
/// of every answer still waiting. The close uses it for the list to the ARS,
/// which must not wait behind thousands of answers at the deadline. A row
/// that fails is retried on the usual backoff, like any other.
pub async fn put_ahead(tx: &mut Transaction<'static, Any>, purpose: &str) -> anyhow::Result<()> {
    sqlx::query("UPDATE outbox SET next_attempt_at = 0 WHERE purpose = $1 AND status = $2 AND attempts = 0")
        .bind(purpose)
        .bind(PENDING)
        .execute(&mut **tx)
        .await
        .context("cannot put the list ahead of the other messages")?;
    Ok(())
}

impl Store {
    /// Up to `limit` messages due now, oldest first, displacement notices
    /// last.
    ///
    /// A notice is news an intern did not ask for; an answer is awaited by
    /// someone who just wrote. Hundreds of notices come due together a
    /// minute after a storm of replies: queued in plain order, they would
    /// hold every answer behind them for as long as they take to send.
    pub async fn due(&self, limit: i64) -> anyhow::Result<Vec<Pending>> {
        let rows = sqlx::query(
            "SELECT id, recipients, raw, attempts, created_at FROM outbox \
             WHERE status = $1 AND next_attempt_at <= $2 \
             ORDER BY CASE WHEN purpose = $4 THEN 1 ELSE 0 END, next_attempt_at, id LIMIT $3",
        )
        .bind(PENDING)
        .bind(self.now_ms())
        .bind(limit)
        .bind(crate::answer::Purpose::Notice.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Pending {
                    id: row.try_get(0)?,
                    recipients: row.try_get::<String, _>(1)?.split_whitespace().map(str::to_string).collect(),
                    raw: row.try_get(2)?,
                    attempts: row.try_get(3)?,
                    created_at: row.try_get(4)?,
                })
            })
            .collect()
    }

    /// When the next pending message is due (ms), if any.
    pub async fn next_due_at(&self) -> anyhow::Result<Option<i64>> {
        let row = sqlx::query("SELECT MIN(next_attempt_at) FROM outbox WHERE status = $1")
            .bind(PENDING)
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get::<Option<i64>, _>(0)?)
    }

    /// Marks several messages sent in one statement (the outbox worker
    /// writes together the acceptances that arrived during the last write).
    pub async fn mark_all_sent(&self, ids: &[i64]) -> anyhow::Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let placeholders: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 3)).collect();
        let sql = format!(
            "UPDATE outbox SET status = $1, sent_at = $2, attempts = attempts + 1, last_error = NULL \
             WHERE id IN ({})",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(SENT).bind(self.now_ms());
        for id in ids {
            query = query.bind(*id);
        }
        query.execute(self.pool()).await?;
        Ok(())
    }

    pub async fn mark_retry(&self, id: i64, error: &str, next_attempt_at: i64) -> anyhow::Result<()> {
        sqlx::query(
            "UPDATE outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2 WHERE id = $3",
        )
        .bind(error)
        .bind(next_attempt_at)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn mark_failed(&self, id: i64, error: &str) -> anyhow::Result<()> {
        sqlx::query("UPDATE outbox SET status = $1, attempts = attempts + 1, last_error = $2 WHERE id = $3")
            .bind(FAILED)
            .bind(error)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// How many messages are in each state, for `status`.
    pub async fn outbox_counts(&self) -> anyhow::Result<Vec<(String, String, i64)>> {
        let rows = sqlx::query(
            "SELECT purpose, status, COUNT(*) FROM outbox GROUP BY purpose, status ORDER BY purpose, status",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))).collect()
    }

    /// Failed messages with their error, for `status`.
    pub async fn outbox_failures(&self) -> anyhow::Result<Vec<(String, String, String)>> {
        let rows = sqlx::query(
            "SELECT purpose, recipients, COALESCE(last_error, '') FROM outbox WHERE status = $1 ORDER BY id",
        )
        .bind(FAILED)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))).collect()
    }
}

/// One sent or queued message, for `audit`.
#[derive(Debug, Clone)]
pub struct AuditOutbox {
    /// The row's id.
    pub id: i64,
    /// What it is.
    pub purpose: String,
    /// pending, sent or failed.
    pub status: String,
    /// Envelope recipients.
    pub recipients: String,
    /// The stored message it answers.
    pub answers_message: Option<i64>,
    /// When it was queued (ms).
    pub created_at: i64,
    /// When the server accepted it (ms).
    pub sent_at: Option<i64>,
    /// The last error, if any.
    pub last_error: Option<String>,
}

impl Store {
    /// Every message queued for an intern (or one of their addresses), oldest first.
    pub async fn audit_outbox(&self, address: &str) -> anyhow::Result<Vec<AuditOutbox>> {
        Ok(self.outbox_about(address, false).await?.into_iter().map(|(row, _)| row).collect())
    }

    /// [`Store::audit_outbox`], each with its bytes when `with_raw` (empty
    /// otherwise, and once purged).
    pub(super) async fn outbox_about(
        &self,
        address: &str,
        with_raw: bool,
    ) -> anyhow::Result<Vec<(AuditOutbox, Vec<u8>)>> {
        let raw = if with_raw { "raw" } else { "NULL" };
        let sql = format!(
            "SELECT id, purpose, status, recipients, answers_message, created_at, sent_at, last_error, {raw} \
             FROM outbox WHERE intern_email = $1 OR recipients = $1 ORDER BY id"
        );
        let rows = sqlx::query(&sql).bind(address).fetch_all(self.pool()).await?;
        rows.iter()
            .map(|row| {
                let sent = AuditOutbox {
                    id: row.try_get(0)?,
                    purpose: row.try_get(1)?,
                    status: row.try_get(2)?,
                    recipients: row.try_get(3)?,
                    answers_message: row.try_get(4)?,
                    created_at: row.try_get(5)?,
                    sent_at: row.try_get(6)?,
                    last_error: row.try_get(7)?,
                };
                let raw: Option<Vec<u8>> = if with_raw { row.try_get(8)? } else { None };
                Ok((sent, raw.unwrap_or_default()))
            })
            .collect()
    }
}
