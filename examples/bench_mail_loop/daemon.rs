//! The daemon under measure: `choixbot run` as a child process (so its
//! peak memory is its own), watched through its database.

use std::collections::HashMap;
use std::process::Child;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{bail, Context, Result};
use sqlx::Row;

/// Progress as the database shows it.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// Messages recorded from the INBOX.
    pub recorded: i64,
    /// Outbox rows queued.
    pub queued: i64,
    /// Outbox rows not sent yet.
    pub unsent: i64,
}

/// A read-only view of the daemon's database.
pub struct Watch {
    /// The session database.
    pool: sqlx::AnyPool,
}

/// One connection to the session database, to watch the daemon's work.
pub async fn watching_pool(url: &str) -> Result<sqlx::AnyPool> {
    sqlx::any::install_default_drivers();
    Ok(sqlx::any::AnyPoolOptions::new().max_connections(1).connect(url).await?)
}

impl Watch {
    pub async fn open(url: &str) -> Result<Self> {
        Ok(Self { pool: watching_pool(url).await? })
    }

    pub async fn progress(&self) -> Result<Progress> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM messages), (SELECT COUNT(*) FROM outbox), \
             (SELECT COUNT(*) FROM outbox WHERE status <> 'sent')",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(Progress { recorded: row.try_get(0)?, queued: row.try_get(1)?, unsent: row.try_get(2)? })
    }

    /// Polls until `recorded` messages are recorded and every queued answer
    /// is sent; returns the instant it saw that, and the peak memory seen.
    pub async fn wait_all_sent(&self, recorded: i64, pid: u32, timeout: Duration) -> Result<Instant> {
        let deadline = Instant::now() + timeout;
        loop {
            let progress = self.progress().await?;
            if progress.recorded >= recorded && progress.unsent == 0 && progress.queued > 0 {
                return Ok(Instant::now());
            }
            if Instant::now() > deadline {
                bail!("the daemon did not finish in {timeout:?}: {progress:?}");
            }
            if vm_hwm_kib(pid).is_none() {
                bail!("the daemon exited; see its log");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// When the last message was recorded (ms since the epoch).
    pub async fn last_recorded_ms(&self) -> Result<i64> {
        let at: Option<i64> =
            sqlx::query_scalar("SELECT MAX(received_at) FROM messages").fetch_one(&self.pool).await?;
        at.context("no message recorded")
    }

    /// How many answers the SMTP server had accepted at `ms` (ms since the
    /// epoch): shows how much of the storm's sending overlapped its
    /// decisions.
    pub async fn accepted_by(&self, ms: i64) -> Result<i64> {
        let count = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE sent_at <= $1")
            .bind(ms)
            .fetch_one(&self.pool)
            .await?;
        Ok(count)
    }

    /// The average size of the queued answers.
    pub async fn average_answer_size(&self) -> Result<usize> {
        let size: Option<f64> =
            sqlx::query_scalar("SELECT AVG(LENGTH(raw)) FROM outbox").fetch_one(&self.pool).await?;
        Ok(size.unwrap_or(0.0) as usize)
    }

    /// Second by second from `started_ms`: how many replies were recorded
    /// and how many answers accepted by then, the storm's shape.
    pub async fn timeline(&self, started_ms: i64) -> Result<Vec<(i64, i64, i64)>> {
        let count = |column: &'static str, table: &'static str| async move {
            let rows: Vec<i64> = sqlx::query_scalar(&format!(
                "SELECT ({column} - $1) / 1000 FROM {table} WHERE {column} IS NOT NULL ORDER BY {column}"
            ))
            .bind(started_ms)
            .fetch_all(&self.pool)
            .await?;
            anyhow::Ok(rows)
        };
        let (recorded, sent) = (count("received_at", "messages").await?, count("sent_at", "outbox").await?);
        let last = recorded.iter().chain(&sent).copied().max().unwrap_or(0);
        Ok((0..=last)
            .map(|second| {
                let by = |at: &[i64]| at.iter().filter(|&&s| s <= second).count() as i64;
                (second + 1, by(&recorded), by(&sent))
            })
            .collect())
    }

    /// For each answered Message-ID, when its first answer was accepted
    /// (`sent_at`, recorded right after the server's 250).
    pub async fn sent_at_by_reply(&self) -> Result<HashMap<String, SystemTime>> {
        let rows = sqlx::query(
            "SELECT m.message_id, MIN(o.sent_at) FROM outbox o JOIN messages m ON o.answers_message = m.id \
             WHERE o.sent_at IS NOT NULL AND m.message_id IS NOT NULL GROUP BY m.message_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let at: i64 = row.try_get(1)?;
                Ok((row.try_get(0)?, SystemTime::UNIX_EPOCH + Duration::from_millis(at as u64)))
            })
            .collect()
    }
}

/// The daemon's peak resident memory so far (VmHWM), in KiB.
pub fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The CPU time a process has used so far (user + system, all its
/// threads), from `/proc/PID/stat`: the storm's cost to the machine, which
/// the mail servers share.
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces: count from
    // after it. utime and stime are fields 14 and 15 of the line.
    let fields: Vec<&str> = stat[stat.rfind(')')? + 2..].split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf only reads a configuration value.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Some(Duration::from_millis(ticks * 1000 / per_second))
}

/// The daemon's process, stopped when dropped (also when the benchmark
/// fails half-way).
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = stop(&mut self.0);
    }
}

/// Stops the daemon with SIGTERM (it finishes its step), and waits.
pub fn stop(child: &mut Child) -> Result<()> {
    if child.try_wait()?.is_some() {
        return Ok(());
    }
    let _ = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait()?.is_none() {
        if Instant::now() > deadline {
            child.kill().context("cannot kill the daemon")?;
            child.wait()?;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// p50 and p99 of `samples`, in seconds.
pub fn percentiles(samples: &mut [f64]) -> (f64, f64) {
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    (at(0.50), at(0.99))
}

/// A header of a raw message (unfolded lines only), trimmed.
pub fn header_value(raw: &[u8], name: &str) -> Option<String> {
    let head = &raw[..raw.len().min(8192)];
    let text = String::from_utf8_lossy(head);
    text.lines()
        .take_while(|line| !line.is_empty())
        .find(|line| line.get(..name.len()).is_some_and(|start| start.eq_ignore_ascii_case(name)))
        .and_then(|line| line.get(name.len()..)?.strip_prefix(':'))
        .map(|value| value.trim().to_string())
}
