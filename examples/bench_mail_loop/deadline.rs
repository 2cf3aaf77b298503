//! The deadline phase: `--replies` replies received before the deadline and
//! still waiting when it passes (as when they all arrive in the final
//! minute and the daemon was down, or busy), read by `choixbot run` started
//! with its clock at the deadline plus `collect::DRAIN_GRACE`, until the
//! list to the ARS is accepted by the SMTP server. The list leaves only
//! once every one of them is decided; the close puts it ahead of the
//! answers still waiting (`store::outbox::put_ahead`).
//!
//! A fresh session database on the same mail stack: the storm's replies
//! were moved out of the INBOX, so it holds only this phase's.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use choixbot::domain::Email;
use choixbot::synthetic::SyntheticSession;
use mailstack::MailStack;
use sqlx::Row;

use crate::daemon::{self, vm_hwm_kib};
use crate::setup::{self, Bench};

/// What the phase measured.
pub struct DeadlineFigures {
    /// From the daemon's start (at the deadline + grace) to the list
    /// accepted by the SMTP server.
    pub list: Duration,
    /// Replies decided before the list left.
    pub decided: i64,
}

/// Runs the phase with `replies` replies of `session`'s first interns.
pub async fn run(stack: &MailStack, session: &SyntheticSession, replies: usize) -> Result<DeadlineFigures> {
    let dir = tempfile::tempdir()?;
    let bench = Bench { dir: dir.path().to_path_buf(), choixbot: setup::choixbot_binary()? };
    bench.write_config(stack)?;
    bench.import(session)?;
    let senders = bench.senders(session).await?;
    let senders = &senders[..replies];
    let mut rng = setup::rng(29);
    let raw: Vec<_> = senders.iter().enumerate().map(|(i, s)| setup::reply(s, i, &mut rng)).collect();
    let from: Vec<Email> = senders.iter().map(|s| s.email.clone()).collect();
    tokio::task::block_in_place(|| setup::deliver_all(stack, &raw, &from))?;
    tokio::task::block_in_place(|| setup::wait_for_inbox(stack, replies))?;

    let settings = choixbot::settings::Settings::load(&bench.config())?;
    let deadline = settings.session.deadline;
    let grace = chrono::Duration::from_std(choixbot::collect::DRAIN_GRACE)?;
    let offset = (deadline + grace - chrono::Utc::now()).num_milliseconds() as f64 / 1000.0;
    let log = std::fs::File::create(bench.dir.join("deadline-daemon.log"))?;
    let mut command = bench.command(&["run"]);
    command.env(choixbot::clock::OFFSET_VARIABLE, format!("{offset:.3}"));
    command.stdout(std::process::Stdio::null()).stderr(log);
    let start = Instant::now();
    let mut child = daemon::Running(command.spawn().context("cannot start choixbot run")?);
    let pid = child.0.id();
    let watch = Watcher::open(&bench.database_url()).await?;
    let list = watch.wait_for_list(pid, Duration::from_secs(900)).await? - start;
    let decided = watch.decided().await?;
    daemon::stop(&mut child.0)?;
    if decided < replies as i64 {
        bail!("the list left with {decided} of {replies} replies decided");
    }
    Ok(DeadlineFigures { list, decided })
}

/// The phase's view of the daemon's database.
struct Watcher {
    /// The session database.
    pool: sqlx::AnyPool,
}

impl Watcher {
    async fn open(url: &str) -> Result<Self> {
        Ok(Self { pool: daemon::watching_pool(url).await? })
    }

    /// Polls until the list to the ARS is accepted by the SMTP server.
    async fn wait_for_list(&self, pid: u32, timeout: Duration) -> Result<Instant> {
        let give_up = Instant::now() + timeout;
        loop {
            let sent: i64 =
                sqlx::query("SELECT COUNT(*) FROM outbox WHERE purpose = 'ars_list' AND status = 'sent'")
                    .fetch_one(&self.pool)
                    .await?
                    .try_get(0)?;
            if sent > 0 {
                return Ok(Instant::now());
            }
            if Instant::now() > give_up {
                bail!("the list did not leave within {timeout:?}");
            }
            if vm_hwm_kib(pid).is_none() {
                bail!("the daemon exited; see deadline-daemon.log");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Replies decided.
    async fn decided(&self) -> Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) FROM messages").fetch_one(&self.pool).await?.try_get(0)?)
    }
}
