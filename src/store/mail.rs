//! Incoming messages as recorded by the daemon: the raw bytes for the audit,
//! the decision, and where the daemon is in the mailbox.
//!
//! A message is known twice over: by its place on the server (folder,
//! UIDVALIDITY, UID), which stops the daemon from deciding again what it
//! already fetched; and by its Message-ID plus a hash of its content without
//! trace headers, which catches the same message delivered twice under two
//! UIDs (or seen again after a UIDVALIDITY change).

use sqlx::{Any, Row, Transaction};

use super::Store;

/// A message to record.
#[derive(Debug, Clone)]
pub struct Incoming<'a> {
    /// The folder it was fetched from.
    pub folder: &'a str,
    /// The folder's UIDVALIDITY when it was fetched.
    pub uidvalidity: i64,
    /// Its UID in that folder.
    pub uid: i64,
    /// Its Message-ID header, if any.
    pub message_id: Option<&'a str>,
    /// `reply::content_hash` of the raw bytes.
    pub content_hash: &'a str,
    /// The raw bytes, kept for the audit.
    pub raw: &'a [u8],
    /// The sender's address, if it could be read.
    pub sender: Option<&'a str>,
    /// The kind the parser found.
    pub kind: &'a str,
    /// The intern the decision is about, if any.
    pub intern_email: Option<&'a str>,
    /// The verdict (confirmed, rejected, closed, bounce, ignored).
    pub verdict: &'a str,
    /// The reasons and notes, as JSON.
    pub reasons: &'a str,
    /// When the IMAP server received it (its INTERNALDATE, ms), if the
    /// server said.
    pub internal_date: Option<i64>,
    /// When it was recorded (ms), by the store's clock.
    pub recorded_at: i64,
}

/// Where the daemon is in one folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailboxPosition {
    /// The UIDVALIDITY the UIDs belong to.
    pub uidvalidity: i64,
    /// The highest UID already recorded.
    pub last_uid: i64,
}

/// One line of an audit.
#[derive(Debug, Clone)]
pub struct AuditMessage {
    /// The stored message's number (for `audit --raw N`).
    pub id: i64,
    /// When it was recorded (ms).
    pub received_at: i64,
    /// When the IMAP server received it (INTERNALDATE, ms): what decides
    /// whether it was on time.
    pub internal_date: Option<i64>,
    /// Its sender.
    pub sender: Option<String>,
    /// The kind the parser found.
    pub kind: String,
    /// The verdict.
    pub verdict: String,
    /// The reasons, as JSON.
    pub reasons: String,
}

/// Records a message in the caller's transaction and returns its id.
pub async fn record_message(
    tx: &mut Transaction<'static, Any>,
    message: &Incoming<'_>,
) -> anyhow::Result<i64> {
    let row = sqlx::query(
        "INSERT INTO messages (folder, uidvalidity, uid, message_id, content_hash, raw, received_at, sender, kind, \
         intern_email, verdict, reasons, internal_date) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
    )
    .bind(message.folder)
    .bind(message.uidvalidity)
    .bind(message.uid)
    .bind(message.message_id)
    .bind(message.content_hash)
    .bind(message.raw.to_vec())
    .bind(message.recorded_at)
    .bind(message.sender)
    .bind(message.kind)
    .bind(message.intern_email)
    .bind(message.verdict)
    .bind(message.reasons)
    .bind(message.internal_date)
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.try_get(0)?)
}

/// Advances the position in a folder, in the caller's transaction.
pub async fn set_position(
    tx: &mut Transaction<'static, Any>,
    folder: &str,
    position: MailboxPosition,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO mailbox_state (folder, uidvalidity, last_uid) VALUES ($1, $2, $3) \
         ON CONFLICT (folder) DO UPDATE SET uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid",
    )
    .bind(folder)
    .bind(position.uidvalidity)
    .bind(position.last_uid)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Records a bounce of one of our messages against an intern.
pub async fn record_bounce(
    tx: &mut Transaction<'static, Any>,
    intern_email: &str,
    message_ref: i64,
    detail: &str,
    now_ms: i64,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO bounces (intern_email, message_ref, detail, recorded_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(intern_email)
    .bind(message_ref)
    .bind(detail)
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// The intern one of our messages was about, by its Message-ID (with
    /// its angle brackets, as the outbox keeps it): how a bounce that
    /// returns our message is attributed when its failed address is not a
    /// registered one (a forward, an alias).
    pub async fn intern_of_our_message(&self, message_id: &str) -> anyhow::Result<Option<String>> {
        let intern: Option<Option<String>> =
            sqlx::query_scalar("SELECT intern_email FROM outbox WHERE message_id = $1")
                .bind(message_id)
                .fetch_optional(self.pool())
                .await?;
        Ok(intern.flatten())
    }

    pub async fn position(&self, folder: &str) -> anyhow::Result<Option<MailboxPosition>> {
        let row = sqlx::query("SELECT uidvalidity, last_uid FROM mailbox_state WHERE folder = $1")
            .bind(folder)
            .fetch_optional(self.pool())
            .await?;
        row.map(|row| Ok(MailboxPosition { uidvalidity: row.try_get(0)?, last_uid: row.try_get(1)? }))
            .transpose()
    }

    /// The UIDs between `first` and `last` (inclusive) already recorded for
    /// this folder and UIDVALIDITY: one query for a whole fetched batch.
    pub async fn recorded_uids(
        &self,
        folder: &str,
        uidvalidity: i64,
        first: i64,
        last: i64,
    ) -> anyhow::Result<std::collections::HashSet<i64>> {
        let rows = sqlx::query(
            "SELECT uid FROM messages WHERE folder = $1 AND uidvalidity = $2 AND uid BETWEEN $3 AND $4",
        )
        .bind(folder)
        .bind(uidvalidity)
        .bind(first)
        .bind(last)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|row| Ok(row.try_get(0)?)).collect()
    }

    /// The first recorded message with this Message-ID and content hash.
    pub async fn find_same_message(
        &self,
        message_id: &str,
        content_hash: &str,
    ) -> anyhow::Result<Option<i64>> {
        let row = sqlx::query("SELECT MIN(id) FROM messages WHERE message_id = $1 AND content_hash = $2")
            .bind(message_id)
            .bind(content_hash)
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get::<Option<i64>, _>(0)?)
    }

    /// The UIDs recorded but not yet moved out of the folder (a crash or an
    /// outage came between the commit and the move).
    pub async fn unmoved(&self, folder: &str, uidvalidity: i64) -> anyhow::Result<Vec<i64>> {
        let rows = sqlx::query(
            "SELECT uid FROM messages WHERE moved = 0 AND folder = $1 AND uidvalidity = $2 ORDER BY uid",
        )
        .bind(folder)
        .bind(uidvalidity)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|row| Ok(row.try_get(0)?)).collect()
    }

    pub async fn mark_moved(&self, folder: &str, uidvalidity: i64, uids: &[i64]) -> anyhow::Result<()> {
        let mut tx = self.begin_write().await?;
        for uid in uids {
            sqlx::query("UPDATE messages SET moved = 1 WHERE folder = $1 AND uidvalidity = $2 AND uid = $3")
                .bind(folder)
                .bind(uidvalidity)
                .bind(uid)
                .execute(&mut *tx)
                .await?;
        }
        self.commit(tx).await?;
        Ok(())
    }

    /// [`Store::find_same_message`] for a whole batch at once: the first
    /// recorded message of each (Message-ID, content hash) pair that has
    /// one, in one query.
    pub async fn same_messages(
        &self,
        pairs: &[(&str, &str)],
    ) -> anyhow::Result<std::collections::HashMap<(String, String), i64>> {
        if pairs.is_empty() {
            return Ok(Default::default());
        }
        let ids: Vec<&str> = pairs.iter().map(|(id, _)| *id).collect();
        let sql = format!(
            "SELECT message_id, content_hash, MIN(id) FROM messages WHERE message_id IN ({}) \
             GROUP BY message_id, content_hash",
            placeholders(1, ids.len())
        );
        let rows =
            ids.iter().fold(sqlx::query(&sql), |query, id| query.bind(*id)).fetch_all(self.pool()).await?;
        let wanted: std::collections::HashSet<(&str, &str)> = pairs.iter().copied().collect();
        let mut found = std::collections::HashMap::new();
        for row in &rows {
            let (id, hash): (String, String) = (row.try_get(0)?, row.try_get(1)?);
            if wanted.contains(&(id.as_str(), hash.as_str())) {
                found.insert((id, hash), row.try_get(2)?);
            }
        }
        Ok(found)
    }

    /// [`Store::answers_since`] for several interns at once, in one query;
    /// every intern asked for is in the map, with 0 if none.
    pub async fn answers_since_for(
        &self,
        interns: &[&str],
        since_ms: i64,
    ) -> anyhow::Result<std::collections::HashMap<String, i64>> {
        let mut counts: std::collections::HashMap<String, i64> =
            interns.iter().map(|intern| (intern.to_string(), 0)).collect();
        if interns.is_empty() {
            return Ok(counts);
        }
        let sql = format!(
            "SELECT intern_email, COUNT(*) FROM outbox WHERE created_at >= $1 AND answers_message IS NOT NULL \
             AND intern_email IN ({}) GROUP BY intern_email",
            placeholders(2, interns.len())
        );
        let query =
            interns.iter().fold(sqlx::query(&sql).bind(since_ms), |query, intern| query.bind(*intern));
        for row in query.fetch_all(self.pool()).await? {
            counts.insert(row.try_get(0)?, row.try_get(1)?);
        }
        Ok(counts)
    }

    /// How many answers went to this intern's addresses since `since_ms`,
    /// for the per-sender rate limit.
    pub async fn answers_since(&self, intern_email: &str, since_ms: i64) -> anyhow::Result<i64> {
        let row = sqlx::query(
            "SELECT COUNT(*) FROM outbox WHERE intern_email = $1 AND created_at >= $2 AND answers_message IS NOT NULL",
        )
        .bind(intern_email)
        .bind(since_ms)
        .fetch_one(self.pool())
        .await?;
        Ok(row.try_get(0)?)
    }

    /// Every message from or about an address, oldest first.
    pub async fn audit_messages(&self, address: &str) -> anyhow::Result<Vec<AuditMessage>> {
        Ok(self.messages_about(address, false).await?.into_iter().map(|(message, _)| message).collect())
    }

    /// [`Store::audit_messages`], each with its raw bytes when `with_raw`
    /// (empty otherwise, and once purged).
    pub(super) async fn messages_about(
        &self,
        address: &str,
        with_raw: bool,
    ) -> anyhow::Result<Vec<(AuditMessage, Vec<u8>)>> {
        let raw = if with_raw { "raw" } else { "NULL" };
        let sql = format!(
            "SELECT id, received_at, sender, kind, verdict, reasons, internal_date, {raw} FROM messages \
             WHERE intern_email = $1 OR sender = $1 ORDER BY id"
        );
        let rows = sqlx::query(&sql).bind(address).fetch_all(self.pool()).await?;
        rows.iter()
            .map(|row| {
                let message = AuditMessage {
                    id: row.try_get(0)?,
                    received_at: row.try_get(1)?,
                    sender: row.try_get(2)?,
                    kind: row.try_get(3)?,
                    verdict: row.try_get(4)?,
                    reasons: row.try_get(5)?,
                    internal_date: row.try_get(6)?,
                };
                let raw: Option<Vec<u8>> = if with_raw { row.try_get(7)? } else { None };
                Ok((message, raw.unwrap_or_default()))
            })
            .collect()
    }

    /// The raw bytes of a stored message.
    pub async fn raw_message(&self, id: i64) -> anyhow::Result<Option<Vec<u8>>> {
        let row = sqlx::query("SELECT raw FROM messages WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|row| row.try_get(0)).transpose()?)
    }
}

/// The mail side of `status`.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct MailCounts {
    /// Interns with at least one invitation accepted by the SMTP server.
    pub invited: i64,
    /// Interns with a bounce recorded.
    pub bounced: i64,
    /// Interns who replied at least once (choices or not).
    pub replied: i64,
    /// Interns whose current wishes came by email.
    pub valid: i64,
    /// Replies rejected.
    pub rejected: i64,
    /// Interns on the call list who never replied.
    pub no_reply: i64,
    /// Messages recorded, all kinds.
    pub messages: i64,
    /// Messages that failed to be processed (kept, never answered): the
    /// referent should read them with `audit` or in the processed folder.
    pub unprocessable: i64,
}

impl Store {
    pub async fn mail_counts(&self) -> anyhow::Result<MailCounts> {
        let count = |sql: &'static str| async move {
            let row = sqlx::query(sql).fetch_one(self.pool()).await?;
            anyhow::Ok(row.try_get::<i64, _>(0)?)
        };
        let interns = count("SELECT COUNT(*) FROM interns").await?;
        let replied = count(
            "SELECT COUNT(DISTINCT m.intern_email) FROM messages m JOIN interns i ON i.email = m.intern_email \
             WHERE m.kind IN ('choices', 'empty')",
        )
        .await?;
        Ok(MailCounts {
            invited: count(
                "SELECT COUNT(DISTINCT intern_email) FROM outbox WHERE purpose = 'invitation' AND status = 'sent'",
            )
            .await?,
            bounced: count("SELECT COUNT(DISTINCT intern_email) FROM bounces").await?,
            replied,
            valid: count("SELECT COUNT(*) FROM wishes w JOIN interns i ON i.email = w.email WHERE w.source = 'email'")
                .await?,
            rejected: count("SELECT COUNT(*) FROM messages WHERE verdict = 'rejected'").await?,
            unprocessable: count("SELECT COUNT(*) FROM messages WHERE verdict = 'unprocessable'").await?,
            no_reply: interns - replied,
            messages: count("SELECT COUNT(*) FROM messages").await?,
        })
    }
}

/// `$first, $first+1, …`: `count` numbered placeholders, which both
/// SQLite and PostgreSQL read.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ")
}
