//! Displacement notices (SPEC §11): the intern whose provisional result a
//! better-ranked intern's reply changed is told, at most once per
//! `mail.notice_minutes`. A displacement is recorded as a pending notice
//! in the transaction of the reply that caused it; the notice task sends
//! it when due, worded with the state at that time (`collect::notices`).

use anyhow::Context as _;
use sqlx::{Any, Row, Transaction};

use super::Store;
use crate::domain::{ArsId, Email};

/// A notice whose time has come.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueNotice {
    /// The intern to tell.
    pub intern: Email,
    /// The post they had, and lost, when the first displacement since their
    /// last notice happened.
    pub lost: ArsId,
    /// When that displacement happened (ms since the epoch): it names this
    /// notice, for its Message-ID.
    pub since_ms: i64,
}

/// The notices of one intern, for `audit` and `status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct NoticeState {
    /// Whether they turned notices off (`NOTIFS NON`).
    pub muted: bool,
    /// How many were sent.
    pub sent: i64,
    /// When the last one was sent (ms since the epoch).
    pub last_sent_at: Option<i64>,
    /// The post of a notice waiting to leave.
    pub pending_lost: Option<String>,
}

/// Every count `status` shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct NoticeCounts {
    /// Notices sent, all interns together.
    pub sent: i64,
    /// Notices waiting for their time.
    pub pending: i64,
    /// Interns who turned them off.
    pub muted: i64,
}

impl Store {
    /// The pending notices due at `now_ms`: displaced at least `settle_ms`
    /// ago, and last told at least `interval_ms` ago.
    pub async fn due_notices(
        &self,
        now_ms: i64,
        settle_ms: i64,
        interval_ms: i64,
    ) -> anyhow::Result<Vec<DueNotice>> {
        let rows = sqlx::query(
            "SELECT email, lost_ars_id, pending_since FROM notices WHERE pending_since IS NOT NULL AND muted = 0 \
             AND pending_since <= $1 AND (last_sent_at IS NULL OR last_sent_at <= $2) ORDER BY pending_since, email",
        )
        .bind(now_ms - settle_ms)
        .bind(now_ms - interval_ms)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(DueNotice {
                    intern: Email::parse(&row.try_get::<String, _>(0)?).map_err(anyhow::Error::msg)?,
                    lost: ArsId::parse(&row.try_get::<String, _>(1)?).map_err(anyhow::Error::msg)?,
                    since_ms: row.try_get(2)?,
                })
            })
            .collect()
    }

    /// When the next pending notice will be due (ms since the epoch), if any.
    pub async fn next_notice_at(&self, settle_ms: i64, interval_ms: i64) -> anyhow::Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT MIN(CASE WHEN last_sent_at IS NOT NULL AND last_sent_at + $2 > pending_since + $1 \
             THEN last_sent_at + $2 ELSE pending_since + $1 END) FROM notices \
             WHERE pending_since IS NOT NULL AND muted = 0",
        )
        .bind(settle_ms)
        .bind(interval_ms)
        .fetch_one(self.pool())
        .await?;
        Ok(row.try_get::<Option<i64>, _>(0)?)
    }

    /// The notices of `intern`.
    pub async fn notice_state(&self, intern: &Email) -> anyhow::Result<NoticeState> {
        let row = sqlx::query("SELECT muted, sent, last_sent_at, lost_ars_id FROM notices WHERE email = $1")
            .bind(intern.as_str())
            .fetch_optional(self.pool())
            .await?;
        let Some(row) = row else { return Ok(NoticeState::default()) };
        Ok(NoticeState {
            muted: row.try_get::<i64, _>(0)? == 1,
            sent: row.try_get(1)?,
            last_sent_at: row.try_get(2)?,
            pending_lost: row.try_get(3)?,
        })
    }

    /// The interns who turned notices off.
    pub async fn muted_interns(&self) -> anyhow::Result<Vec<Email>> {
        let rows = sqlx::query("SELECT email FROM notices WHERE muted = 1").fetch_all(self.pool()).await?;
        rows.iter()
            .map(|row| Email::parse(&row.try_get::<String, _>(0)?).map_err(anyhow::Error::msg))
            .collect()
    }

    /// Notices sent, pending and turned off, all interns together.
    pub async fn notice_counts(&self) -> anyhow::Result<NoticeCounts> {
        let row = sqlx::query(
            // PostgreSQL sums integers into NUMERIC, which the Any driver
            // cannot read: cast back, which SQLite accepts as well.
            "SELECT CAST(COALESCE(SUM(sent), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN pending_since IS NOT NULL AND muted = 0 THEN 1 ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(muted), 0) AS BIGINT) FROM notices",
        )
        .fetch_one(self.pool())
        .await?;
        Ok(NoticeCounts { sent: row.try_get(0)?, pending: row.try_get(1)?, muted: row.try_get(2)? })
    }
}

/// Drops the notice pending for `intern`: they wrote themselves and were
/// answered with their provisional result, or they regained the post.
pub async fn forget(tx: &mut Transaction<'static, Any>, intern: &Email) -> anyhow::Result<()> {
    sqlx::query("UPDATE notices SET lost_ars_id = NULL, pending_since = NULL WHERE email = $1")
        .bind(intern.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Drops every pending notice (the deadline has passed: results follow).
pub async fn forget_all(tx: &mut Transaction<'static, Any>) -> anyhow::Result<u64> {
    let done = sqlx::query(
        "UPDATE notices SET lost_ars_id = NULL, pending_since = NULL WHERE pending_since IS NOT NULL",
    )
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}

/// Records that `intern`'s notice was queued at `now_ms`.
pub async fn sent(tx: &mut Transaction<'static, Any>, intern: &Email, now_ms: i64) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE notices SET lost_ars_id = NULL, pending_since = NULL, last_sent_at = $2, sent = sent + 1 \
         WHERE email = $1",
    )
    .bind(intern.as_str())
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// `NOTIFS NON` (`muted`) or `NOTIFS OUI`. Turning them off drops the one
/// pending.
pub async fn set_muted(
    tx: &mut Transaction<'static, Any>,
    intern: &Email,
    muted: bool,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO notices (email, muted) VALUES ($1, $2) ON CONFLICT (email) DO UPDATE SET muted = excluded.muted, \
         lost_ars_id = CASE WHEN excluded.muted = 1 THEN NULL ELSE notices.lost_ars_id END, \
         pending_since = CASE WHEN excluded.muted = 1 THEN NULL ELSE notices.pending_since END",
    )
    .bind(intern.as_str())
    .bind(i64::from(muted))
    .execute(&mut **tx)
    .await
    .with_context(|| format!("cannot record the notices setting of {intern}"))?;
    Ok(())
}
