//! The session database: SQLite by default, PostgreSQL on request, through
//! sqlx's `Any` driver so that every query is written once.
//!
//! Queries use `$1`-style parameters, which both SQLite and PostgreSQL
//! accept, and only the types `Any` carries: `i64`, `String`, `Vec<u8>` and
//! their `Option`s. Timestamps are `i64` milliseconds since the Unix epoch.
//!
//! SQLite is tuned for one daemon and a few short commands at once: WAL (so
//! `status` can read while the daemon writes), a busy timeout, and write
//! transactions that begin `IMMEDIATE`, which takes the write lock up front.
//! Without it, two transactions that both read and then write deadlock on
//! the lock upgrade, and one fails at once with "database is locked" whatever
//! the busy timeout.

pub mod amphi;
mod batch;
mod follow_up;
pub mod lease;
mod mail;
pub mod notices;
pub mod outbox;
pub mod person;
pub mod proxies;
mod purge;
mod session;
mod web;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor, Transaction};

use crate::clock::Clock;
use lease::Fence;

pub use batch::BatchRows;
pub use follow_up::{BounceRow, ToCheckRow, UnansweredRow};
pub use mail::{
    record_bounce, record_message, set_position, AuditMessage, Incoming, MailCounts, MailboxPosition,
};
pub use notices::{DueNotice, NoticeCounts, NoticeState};
pub use proxies::{PendingProxy, ProxyChange};
pub use purge::{Purged, PURGED_AT};
pub use session::{revision, set_state, set_wishes, Replaced, StoredIntern, SOURCE_EMAIL, SOURCE_IMPORT};
pub use web::LastMessage;

/// Which database is behind the `Any` pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A handle on the session database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    /// The connection pool.
    pool: AnyPool,
    /// Which database the pool talks to.
    backend: Backend,
    /// The clock every timestamp written is read from (see `crate::clock`).
    clock: Clock,
    /// The lease this store's writes are fenced by, when it acts on mail
    /// for a holder (see `crate::lease`); `None` for the commands that
    /// do not.
    fence: Option<Arc<Fence>>,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The PostgreSQL advisory lock key that stands for SQLite's write lock
/// (any constant will do: one database holds one session).
const WRITE_LOCK: i64 = 0x6368_6f69_7862;

impl Store {
    /// Opens the database at `url` (creating a SQLite file when missing) and
    /// brings its schema up to date.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            anyhow::bail!("unsupported database URL {url:?}: use sqlite://FILE or postgres://…");
        };
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
            }
            _ => url.to_string(),
        };
        if backend == Backend::Sqlite {
            create_sqlite_file(&url)?;
        }
        let options =
            AnyConnectOptions::from_str(&url).with_context(|| format!("invalid database URL {url:?}"))?;
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 4 } else { 8 })
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |connection, _| {
                Box::pin(async move {
                    if backend == Backend::Postgres {
                        // A process stopped inside a transaction (SIGSTOP,
                        // a frozen machine) would hold the session's write
                        // lock for ever, and no standby could take over:
                        // the server ends such a session (`crate::lease`).
                        connection.execute("SET idle_in_transaction_session_timeout = '10s'").await?;
                    }
                    if backend == Backend::Sqlite {
                        connection.execute("PRAGMA journal_mode = WAL").await?;
                        connection.execute("PRAGMA busy_timeout = 30000").await?;
                        connection.execute("PRAGMA synchronous = NORMAL").await?;
                        connection.execute("PRAGMA foreign_keys = ON").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .with_context(|| format!("cannot open database {}", redact(&url)))?;
        if backend == Backend::Sqlite {
            restrict_sqlite_files(&url)?;
        }
        let migrator = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&pool).await.context("cannot bring the database schema up to date")?;
        Ok(Self { pool, backend, clock: Clock::from_env(), fence: None })
    }

    /// The same store, reading time from `clock` (tests move it).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The same store, its writes fenced by `fence`: each write
    /// transaction fails, committing nothing, once the lease has been
    /// taken by another process.
    pub fn fenced(mut self, fence: Arc<Fence>) -> Self {
        self.fence = Some(fence);
        self
    }

    /// The same store, unfenced: what the lease's own queries use.
    pub fn unfenced(mut self) -> Self {
        self.fence = None;
        self
    }

    /// The fence of this store, if any.
    pub fn fence(&self) -> Option<&Arc<Fence>> {
        self.fence.as_ref()
    }

    /// Whether a message may be handed to the SMTP server now: always
    /// without a fence, else while the lease is held and fresh
    /// ([`Fence::may_speak`]).
    pub fn may_speak(&self) -> bool {
        self.fence.as_ref().map_or(true, |fence| fence.may_speak())
    }

    /// The clock the store and everything that works with it reads.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Now, in milliseconds since the Unix epoch, by [`Store::clock`].
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Begins a transaction that will write, holding the session's write
    /// lock until it ends: `BEGIN IMMEDIATE` on SQLite (see the module
    /// comment), and on PostgreSQL `BEGIN` plus a transaction-level
    /// advisory lock ([`WRITE_LOCK`]).
    ///
    /// Write transactions are therefore one at a time on both backends, and
    /// the session's data (posts, interns, wishes, its state) that one
    /// reads once it holds the lock, through it or through the pool, cannot
    /// change under it before it commits: only write transactions change
    /// them (the outbox's delivery marks, written outside, do not). The close relies on
    /// that: a batch of replies that saw the session open commits before
    /// the close reads the wishes, or sees the session closed, never
    /// between the two.
    ///
    /// A fenced store checks, under that lock, that its lease still has
    /// its epoch: a process that lost the lease commits nothing
    /// ([`lease::LeaseLost`]).
    pub async fn begin_write(&self) -> anyhow::Result<Transaction<'static, sqlx::Any>> {
        let mut transaction = self.begin_locked().await?;
        if let Some(fence) = &self.fence {
            Self::check_fence(fence, &mut transaction).await?;
        }
        Ok(transaction)
    }

    /// Commits a write transaction. A fenced store whose lease was last
    /// renewed too long ago by the monotonic clock rolls it back instead:
    /// the process was paused or stalled inside it (SIGSTOP, a frozen
    /// machine) for longer than its lease, which another process may have
    /// taken meanwhile, or be about to. What it was writing is written
    /// again by whoever holds the lease next.
    pub async fn commit(&self, transaction: Transaction<'static, sqlx::Any>) -> anyhow::Result<()> {
        if let Some(fence) = self.fence.as_ref().filter(|fence| fence.expired()) {
            transaction.rollback().await.context("cannot roll a transaction back")?;
            return Err(lease::LeaseStale { epoch: fence.epoch }.into());
        }
        transaction.commit().await.context("cannot commit a database transaction")
    }

    /// [`Store::begin_write`] without the fence's check.
    async fn begin_locked(&self) -> anyhow::Result<Transaction<'static, sqlx::Any>> {
        let transaction = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        };
        let mut transaction = transaction.context("cannot begin a database transaction")?;
        if self.backend == Backend::Postgres {
            sqlx::query(&format!("SELECT pg_advisory_xact_lock({WRITE_LOCK})"))
                .execute(&mut *transaction)
                .await
                .context("cannot take the session's write lock")?;
        }
        Ok(transaction)
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The file of a SQLite URL, unless it is in memory.
fn sqlite_path(url: &str) -> Option<&str> {
    let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or(path);
    (!path.is_empty() && path != ":memory:").then_some(path)
}

/// Creates a missing SQLite database as an empty owner-only file (an empty
/// file is an empty database): SQLite gives its `-wal` and `-shm` files the
/// mode of the database, so they are owner-only from their first byte.
fn create_sqlite_file(url: &str) -> anyhow::Result<()> {
    match sqlite_path(url).map(std::path::Path::new) {
        Some(path) if !path.exists() => crate::private::write(path, b""),
        _ => Ok(()),
    }
}

/// Narrows the SQLite database and its journals to their owner: a
/// database made before choixbot restricted its files, or copied, may be
/// readable by every local user.
fn restrict_sqlite_files(url: &str) -> anyhow::Result<()> {
    let Some(path) = sqlite_path(url) else { return Ok(()) };
    for suffix in ["", "-wal", "-shm"] {
        crate::private::restrict(std::path::Path::new(&format!("{path}{suffix}")))?;
    }
    Ok(())
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_the_password_of_a_url() {
        assert_eq!(super::redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(super::redact("sqlite://x.db"), "sqlite://x.db");
    }
}
