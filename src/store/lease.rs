//! The lease rows: who may act on mail (`lease`), and who else is waiting
//! (`daemons`). The policy (how long a lease lasts, when to renew, what a
//! standby does) is `crate::lease`'s; this file holds the queries and the
//! fence that [`Store::begin_write`] checks.
//!
//! Every time compared here is the database's own clock ([`Store::db_now`]):
//! daemons on two machines share one PostgreSQL but not one clock, and a
//! lease judged expired by a clock running ahead would let two of them act.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use sqlx::Row;

use super::{Backend, Store};

/// Who a process is, as the lease and `status` name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Unique to this process's run: host, pid and a random part (a pid is
    /// reused after a restart).
    pub id: String,
    /// The machine's name.
    pub host: String,
    /// The process id.
    pub pid: i64,
}

/// The lease as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseRow {
    /// The fencing number: one more at each taking.
    pub epoch: i64,
    /// The holder's [`Identity::id`].
    pub holder: String,
    /// The holder's machine.
    pub host: String,
    /// The holder's process id.
    pub pid: i64,
    /// When the holder took it (ms, database clock).
    pub since_ms: i64,
    /// When it runs out unless renewed (ms, database clock).
    pub expires_ms: i64,
    /// Whether it had not run out when read.
    pub live: bool,
}

/// A `choixbot run` seen lately.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonRow {
    /// Its [`Identity::id`].
    pub id: String,
    /// Its machine.
    pub host: String,
    /// Its process id.
    pub pid: i64,
    /// When it started (ms, database clock).
    pub started_ms: i64,
    /// When it was last seen (ms, database clock).
    pub seen_ms: i64,
}

/// The lease a store's writes are fenced by: held by this process under
/// `epoch`, until `valid_until` by this process's monotonic clock unless
/// renewed, or until it is found lost.
#[derive(Debug)]
pub struct Fence {
    /// The epoch this process took the lease under.
    pub epoch: i64,
    /// This process.
    pub me: Identity,
    /// Until when sends may start (see [`Fence::may_speak`]).
    valid_until: Mutex<Instant>,
    /// Turns true, once, when the lease is lost.
    lost: tokio::sync::watch::Sender<bool>,
}

impl Fence {
    /// A fence for a lease just taken, valid for `valid`.
    pub fn new(epoch: i64, me: Identity, valid: Duration) -> Arc<Self> {
        Arc::new(Self {
            epoch,
            me,
            valid_until: Mutex::new(Instant::now() + valid),
            lost: tokio::sync::watch::channel(false).0,
        })
    }

    /// The lease was renewed by a statement that began at `began`.
    pub fn renewed(&self, began: Instant, valid: Duration) {
        *self.valid_until.lock().expect("the fence's lock is never poisoned") = began + valid;
    }

    /// Marks the lease lost (by a renewal, or by a write that found
    /// another epoch).
    pub fn lose(&self) {
        self.lost.send_replace(true);
    }

    /// Whether the lease is known lost.
    pub fn is_lost(&self) -> bool {
        *self.lost.borrow()
    }

    /// Completes once the lease is lost.
    pub async fn lost(&self) {
        let mut lost = self.lost.subscribe();
        let _ = lost.wait_for(|lost| *lost).await;
    }

    /// Whether a send may start now: the lease is not known lost, and its
    /// last renewal is recent enough by the monotonic clock, which keeps
    /// running while the process is paused. A process woken from SIGSTOP
    /// after its lease ran out sends nothing before a renewal tells it
    /// whether it still holds the lease.
    pub fn may_speak(&self) -> bool {
        !self.is_lost() && Instant::now() < *self.valid_until.lock().expect("never poisoned")
    }

    /// Whether the renewal is overdue: `valid_until` has passed.
    pub fn expired(&self) -> bool {
        Instant::now() >= *self.valid_until.lock().expect("never poisoned")
    }
}

/// The lease was taken by another process: what a fenced write returns.
#[derive(Debug, thiserror::Error)]
#[error("this process no longer holds the session's lease (it held epoch {mine}, the lease is now at {now}): nothing was written")]
pub struct LeaseLost {
    /// The epoch this process held.
    pub mine: i64,
    /// The lease's epoch now.
    pub now: i64,
}

/// A fenced commit refused because the lease was not renewed in time
/// (see [`Store::commit`]): the process may no longer hold it.
#[derive(Debug, thiserror::Error)]
#[error("this process's lease (epoch {epoch}) was not renewed in time, so nothing was committed: it may have been taken by another choixbot run")]
pub struct LeaseStale {
    /// The epoch this process held.
    pub epoch: i64,
}

/// Whether `error` says this process may not write any more (its lease
/// lost or stale), rather than anything about what it was writing: such
/// a failure is never blamed on a message.
pub fn is_lease_error(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| cause.is::<LeaseLost>() || cause.is::<LeaseStale>())
}

impl Store {
    /// The database's clock, in ms since the epoch.
    pub async fn db_now(
        &self,
        executor: impl sqlx::Executor<'_, Database = sqlx::Any>,
    ) -> anyhow::Result<i64> {
        let sql = match self.backend {
            Backend::Sqlite => "SELECT CAST(ROUND((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER)",
            Backend::Postgres => "SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
        };
        let row = sqlx::query(sql).fetch_one(executor).await.context("cannot read the database's clock")?;
        Ok(row.try_get(0)?)
    }

    /// Fails with [`LeaseLost`] (and marks the fence lost) when the lease
    /// is no longer at the fence's epoch. Called inside a write
    /// transaction, which holds the session's write lock: a taking, itself
    /// a write, cannot come between the check and the commit.
    pub(super) async fn check_fence(
        fence: &Fence,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    ) -> anyhow::Result<()> {
        let row = sqlx::query("SELECT epoch FROM lease WHERE id = 1")
            .fetch_optional(&mut **tx)
            .await
            .context("cannot read the session's lease")?;
        let now: i64 = match row {
            Some(row) => row.try_get(0)?,
            None => 0,
        };
        if now != fence.epoch {
            fence.lose();
            return Err(LeaseLost { mine: fence.epoch, now }.into());
        }
        Ok(())
    }

    /// The lease, if it was ever taken.
    pub async fn lease(&self) -> anyhow::Result<Option<LeaseRow>> {
        let now = self.db_now(self.pool()).await?;
        read_lease(self.pool(), now).await
    }

    /// Takes the lease for `me` for `ttl` if nobody holds it, or if it ran
    /// out: returns the new epoch, or the live lease of another process.
    pub async fn take_lease(&self, me: &Identity, ttl: Duration) -> anyhow::Result<Result<i64, LeaseRow>> {
        let mut tx = self.begin_locked().await?;
        let now = self.db_now(&mut *tx).await?;
        let current = read_lease(&mut *tx, now).await?;
        let epoch = match &current {
            Some(lease) if lease.live && lease.holder != me.id => return Ok(Err(lease.clone())),
            Some(lease) => lease.epoch + 1,
            None => 1,
        };
        let sql = if current.is_some() {
            "UPDATE lease SET epoch = $1, holder = $2, host = $3, pid = $4, since_ms = $5, expires_ms = $6 \
             WHERE id = 1"
        } else {
            "INSERT INTO lease (id, epoch, holder, host, pid, since_ms, expires_ms) \
             VALUES (1, $1, $2, $3, $4, $5, $6)"
        };
        sqlx::query(sql)
            .bind(epoch)
            .bind(&me.id)
            .bind(&me.host)
            .bind(me.pid)
            .bind(now)
            .bind(now + ttl.as_millis() as i64)
            .execute(&mut *tx)
            .await
            .context("cannot take the session's lease")?;
        tx.commit().await.context("cannot take the session's lease")?;
        Ok(Ok(epoch))
    }

    /// Renews the lease held under `epoch` for `ttl`; false when it is held
    /// under another epoch now (taken over), or ran out: a holder that let
    /// it run out (paused, stalled) gives way, rather than race a standby
    /// that may be taking it.
    pub async fn renew_lease(&self, me: &Identity, epoch: i64, ttl: Duration) -> anyhow::Result<bool> {
        let mut tx = self.begin_locked().await?;
        let now = self.db_now(&mut *tx).await?;
        let renewed = sqlx::query(
            "UPDATE lease SET expires_ms = $1 WHERE id = 1 AND epoch = $2 AND holder = $3 AND expires_ms > $4",
        )
        .bind(now + ttl.as_millis() as i64)
        .bind(epoch)
        .bind(&me.id)
        .bind(now)
        .execute(&mut *tx)
        .await
        .context("cannot renew the session's lease")?
        .rows_affected()
            == 1;
        tx.commit().await.context("cannot renew the session's lease")?;
        Ok(renewed)
    }

    /// Gives the lease up at once (a clean stop), so that a standby need
    /// not wait for it to run out.
    pub async fn release_lease(&self, me: &Identity, epoch: i64) -> anyhow::Result<()> {
        sqlx::query("UPDATE lease SET expires_ms = 0 WHERE id = 1 AND epoch = $1 AND holder = $2")
            .bind(epoch)
            .bind(&me.id)
            .execute(self.pool())
            .await
            .context("cannot give the session's lease up")?;
        Ok(())
    }

    /// Says that `me` is waiting as a standby, for `status` (the holder is
    /// named by the lease itself, and does not write this every second).
    pub async fn heartbeat(&self, me: &Identity) -> anyhow::Result<()> {
        let now = self.db_now(self.pool()).await?;
        let updated = sqlx::query("UPDATE daemons SET seen_ms = $1 WHERE id = $2")
            .bind(now)
            .bind(&me.id)
            .execute(self.pool())
            .await
            .context("cannot record this daemon")?
            .rows_affected();
        if updated == 0 {
            sqlx::query(
                "INSERT INTO daemons (id, host, pid, started_ms, seen_ms) VALUES ($1, $2, $3, $4, $4)",
            )
            .bind(&me.id)
            .bind(&me.host)
            .bind(me.pid)
            .bind(now)
            .execute(self.pool())
            .await
            .context("cannot record this daemon")?;
        }
        Ok(())
    }

    /// Forgets `me` (a clean stop), and the daemons not seen for a day.
    pub async fn forget_daemon(&self, me: &Identity) -> anyhow::Result<()> {
        let now = self.db_now(self.pool()).await?;
        sqlx::query("DELETE FROM daemons WHERE id = $1 OR seen_ms < $2")
            .bind(&me.id)
            .bind(now - 86_400_000)
            .execute(self.pool())
            .await
            .context("cannot forget this daemon")?;
        Ok(())
    }

    /// The daemons seen within `within`, oldest first.
    pub async fn daemons_seen(&self, within: Duration) -> anyhow::Result<Vec<DaemonRow>> {
        let now = self.db_now(self.pool()).await?;
        let rows = sqlx::query(
            "SELECT id, host, pid, started_ms, seen_ms FROM daemons WHERE seen_ms >= $1 ORDER BY started_ms, id",
        )
        .bind(now - within.as_millis() as i64)
        .fetch_all(self.pool())
        .await
        .context("cannot read the daemons")?;
        rows.iter()
            .map(|row| {
                Ok(DaemonRow {
                    id: row.try_get(0)?,
                    host: row.try_get(1)?,
                    pid: row.try_get(2)?,
                    started_ms: row.try_get(3)?,
                    seen_ms: row.try_get(4)?,
                })
            })
            .collect()
    }
}

/// The lease row, judged live or not at `now` (database clock).
async fn read_lease(
    executor: impl sqlx::Executor<'_, Database = sqlx::Any>,
    now: i64,
) -> anyhow::Result<Option<LeaseRow>> {
    let row = sqlx::query("SELECT epoch, holder, host, pid, since_ms, expires_ms FROM lease WHERE id = 1")
        .fetch_optional(executor)
        .await
        .context("cannot read the session's lease")?;
    row.map(|row| lease_row(&row, now)).transpose()
}

fn lease_row(row: &sqlx::any::AnyRow, now: i64) -> anyhow::Result<LeaseRow> {
    let expires_ms: i64 = row.try_get(5)?;
    Ok(LeaseRow {
        epoch: row.try_get(0)?,
        holder: row.try_get(1)?,
        host: row.try_get(2)?,
        pid: row.try_get(3)?,
        since_ms: row.try_get(4)?,
        expires_ms,
        live: expires_ms > now,
    })
}
