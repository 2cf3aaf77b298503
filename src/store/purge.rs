//! Deleting what the retention no longer allows to keep (RGPD: data is kept
//! no longer than needed): the raw bytes of every received message and the
//! bodies of what was sent. What the list, the audit and an access request
//! need stays: the call list, the wishes and their history, each message's
//! dates, sender, kind and decision.
//!
//! Deleted means gone from the database files, not only from the rows: on
//! SQLite the write-ahead log is checkpointed and the file rebuilt (VACUUM),
//! so no freed page or WAL frame keeps an old body; on PostgreSQL the two
//! tables are rewritten (VACUUM FULL), so no dead row version keeps one.

use anyhow::Context;
use sqlx::Row;

use super::{Backend, Store};

/// The session-state key set at the first purge (its value: the instant,
/// RFC 3339).
pub const PURGED_AT: &str = "purged_at";

/// What a purge deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    /// Received messages whose raw bytes were deleted.
    pub messages: u64,
    /// Sent (or failed) messages whose body was deleted.
    pub sent: u64,
    /// Messages still waiting to be sent: their bodies stay until they
    /// leave (a later purge deletes them).
    pub still_pending: i64,
}

impl Store {
    /// Deletes the raw bytes of every received message and the body of every
    /// message sent or failed, then compacts the database files.
    pub async fn purge_bodies(&self) -> anyhow::Result<Purged> {
        let mut tx = self.begin_write().await?;
        let messages = sqlx::query("UPDATE messages SET raw = $1 WHERE LENGTH(raw) > 0")
            .bind(Vec::<u8>::new())
            .execute(&mut *tx)
            .await
            .context("cannot delete the received messages")?
            .rows_affected();
        let sent = sqlx::query("UPDATE outbox SET raw = $1 WHERE status <> 'pending' AND LENGTH(raw) > 0")
            .bind(Vec::<u8>::new())
            .execute(&mut *tx)
            .await
            .context("cannot delete the bodies of the messages sent")?
            .rows_affected();
        let still_pending: i64 = sqlx::query("SELECT COUNT(*) FROM outbox WHERE status = 'pending'")
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        if self.state(PURGED_AT).await?.is_none() {
            super::set_state(&mut tx, PURGED_AT, &self.clock().now().to_rfc3339()).await?;
        }
        self.commit(tx).await.context("cannot record the purge")?;
        self.compact().await?;
        Ok(Purged { messages, sent, still_pending })
    }

    /// Rewrites the database files so that deleted bytes are gone from them.
    async fn compact(&self) -> anyhow::Result<()> {
        match self.backend() {
            Backend::Sqlite => {
                self.checkpoint().await?;
                sqlx::query("VACUUM").execute(self.pool()).await.context("cannot VACUUM the database")?;
                self.checkpoint().await
            }
            Backend::Postgres => {
                for table in ["messages", "outbox"] {
                    sqlx::query(&format!("VACUUM FULL {table}"))
                        .execute(self.pool())
                        .await
                        .with_context(|| format!("cannot VACUUM FULL {table}"))?;
                }
                Ok(())
            }
        }
    }

    /// Copies the SQLite WAL into the database and empties it. A reader
    /// (the daemon, `status`) can keep frames in use for a moment: tried
    /// again for up to ten seconds.
    async fn checkpoint(&self) -> anyhow::Result<()> {
        for _ in 0..100 {
            let row = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").fetch_one(self.pool()).await?;
            let busy: i64 = row.try_get(0)?;
            if busy == 0 {
                return Ok(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        anyhow::bail!("cannot empty the database's write-ahead log: another process keeps reading it")
    }
}
