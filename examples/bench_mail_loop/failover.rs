//! The failover phase (`crate::lease`): two `choixbot run` on one session,
//! the holder killed with SIGKILL while replies keep coming, and the time
//! from its death to the first answer the standby has the SMTP server
//! accept. Each round kills the holder of the round before and starts a new
//! standby, so that every round is a real takeover.
//!
//! A fresh session database on the same mail stack. The replies of a round
//! are delivered right after the kill: the standby has work the moment it
//! takes over, as it would in a storm.

use std::process::Child;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use choixbot::domain::Email;
use choixbot::synthetic::SyntheticSession;
use mailstack::MailStack;
use sqlx::Row;

use crate::daemon;
use crate::setup::{self, Bench};

/// Takeovers measured.
const ROUNDS: usize = 5;
/// Replies delivered after each kill.
const PER_ROUND: usize = 20;

/// What the phase measured, per round.
pub struct FailoverFigures {
    /// From the holder's death to the standby's taking of the lease.
    pub takeover: Vec<Duration>,
    /// From the holder's death to the first answer the standby sent.
    pub first_answer: Vec<Duration>,
}

/// Runs the phase with the interns of `session` (the first
/// `ROUNDS × PER_ROUND` of them reply).
pub async fn run(stack: &MailStack, session: &SyntheticSession) -> Result<FailoverFigures> {
    let dir = tempfile::tempdir()?;
    let bench = Bench { dir: dir.path().to_path_buf(), choixbot: setup::choixbot_binary()? };
    bench.write_config(stack)?;
    bench.import(session)?;
    let senders = bench.senders(session).await?;
    let mut rng = setup::rng(31);
    let watch = Watcher::open(&bench.database_url()).await?;
    let spawn = |n: usize| -> Result<daemon::Running> {
        let log = std::fs::File::create(bench.dir.join(format!("failover-daemon-{n}.log")))?;
        let mut command = bench.command(&["run"]);
        command.stdout(std::process::Stdio::null()).stderr(log);
        Ok(daemon::Running(command.spawn().context("cannot start choixbot run")?))
    };
    let mut holder = spawn(0)?;
    watch.wait_for_holder(holder.0.id()).await?;
    let mut figures = FailoverFigures { takeover: Vec::new(), first_answer: Vec::new() };
    for round in 0..ROUNDS {
        let standby = spawn(round + 1)?;
        watch.wait_for_standby(standby.0.id()).await?;
        let epoch = watch.epoch().await?;
        kill(&mut holder.0)?;
        let died = (Instant::now(), chrono::Utc::now().timestamp_millis());
        let batch = &senders[round * PER_ROUND..(round + 1) * PER_ROUND];
        let raw: Vec<_> = batch.iter().enumerate().map(|(i, s)| setup::reply(s, i, &mut rng)).collect();
        let from: Vec<Email> = batch.iter().map(|s| s.email.clone()).collect();
        tokio::task::block_in_place(|| setup::deliver_all(stack, &raw, &from))?;
        let taken_ms = watch.wait_for_epoch(epoch + 1, standby.0.id()).await?;
        let sent_ms = watch.first_sent_after(died.1).await?;
        figures.takeover.push(Duration::from_millis((taken_ms - died.1).max(0) as u64));
        figures.first_answer.push(Duration::from_millis((sent_ms - died.1).max(0) as u64));
        if died.0.elapsed() > Duration::from_secs(120) {
            bail!("round {round} took over two minutes");
        }
        holder = standby;
    }
    daemon::stop(&mut holder.0)?;
    Ok(figures)
}

/// SIGKILL, and the zombie reaped.
fn kill(child: &mut Child) -> Result<()> {
    child.kill().context("cannot kill the holder")?;
    child.wait()?;
    Ok(())
}

/// The phase's view of the session database.
struct Watcher {
    /// The session database.
    pool: sqlx::AnyPool,
}

impl Watcher {
    async fn open(url: &str) -> Result<Self> {
        Ok(Self { pool: daemon::watching_pool(url).await? })
    }

    /// Polls `query` (one i64 or NULL) every 10 ms until it gives a value.
    async fn poll(&self, what: &str, query: &str, bind: i64) -> Result<i64> {
        let give_up = Instant::now() + Duration::from_secs(60);
        loop {
            // The tables exist once the first daemon has migrated the database.
            let row = sqlx::query(query).bind(bind).fetch_optional(&self.pool).await.ok().flatten();
            if let Some(value) = row.and_then(|row| row.try_get::<Option<i64>, _>(0).ok().flatten()) {
                return Ok(value);
            }
            if Instant::now() > give_up {
                bail!("never seen within 60 s: {what}");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    async fn wait_for_holder(&self, pid: u32) -> Result<()> {
        self.poll("the first daemon holding the lease", "SELECT epoch FROM lease WHERE pid = $1", pid.into())
            .await?;
        Ok(())
    }

    async fn wait_for_standby(&self, pid: u32) -> Result<()> {
        self.poll("the standby", "SELECT seen_ms FROM daemons WHERE pid = $1", pid.into()).await?;
        Ok(())
    }

    async fn epoch(&self) -> Result<i64> {
        self.poll("the lease", "SELECT epoch FROM lease WHERE id = $1", 1).await
    }

    /// When the standby took the lease under `epoch` (ms, database clock).
    async fn wait_for_epoch(&self, epoch: i64, pid: u32) -> Result<i64> {
        let query = format!("SELECT since_ms FROM lease WHERE epoch = $1 AND pid = {pid}");
        self.poll("the standby taking over", &query, epoch).await
    }

    /// When the first answer sent after `ms` was accepted.
    async fn first_sent_after(&self, ms: i64) -> Result<i64> {
        self.poll("an answer from the standby", "SELECT MIN(sent_at) FROM outbox WHERE sent_at > $1", ms)
            .await
    }
}
