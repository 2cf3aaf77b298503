//! The deciding alone, without a mail server (issue 17): how much CPU the
//! decide-and-record path takes per reply, from the raw bytes to the
//! committed transaction with its queued answers.
//!
//! A synthetic session (10,000 interns in 40 groups, as `bench_mail_loop`)
//! is imported with the real binary into a SQLite file; `--replies`
//! replies of 2 to 5 KB (phone clients quoting the invitation, one in four
//! invalid) go through `collect::Processor::process_batch` by batches of
//! `collect::BATCH` (400), as the daemon fetches them. What is measured is
//! the process's CPU time (user + system, `getrusage`) around those calls,
//! and the wall clock: parsing, looking up, deciding, the allocation the
//! confirmation needs, wording, and writing to SQLite.
//!
//! `cargo run --release --example bench_deciding -- --replies 5000`

// The session and the replies of the mail-loop benchmark, shared.
#[allow(dead_code)]
#[path = "../bench_mail_loop/setup.rs"]
mod setup;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use choixbot::answer::Templates;
use choixbot::collect::{Answers, Processor, BATCH};
use choixbot::mailbox::Fetched;
use choixbot::settings::Settings;
use choixbot::store::Store;

fn main() -> Result<()> {
    let (replies, interns) = parse_args()?;
    let dir = tempfile::tempdir()?;
    let bench = setup::Bench { dir: dir.path().to_path_buf(), choixbot: setup::choixbot_binary()? };
    write_config(&bench)?;
    let session = choixbot::synthetic::session(interns, interns * 6 / 5, 40, 7);
    bench.import(&session)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run(&bench, &session, replies))
}

async fn run(
    bench: &setup::Bench,
    session: &choixbot::synthetic::SyntheticSession,
    count: usize,
) -> Result<()> {
    let senders = bench.senders(session).await?;
    let mut rng = setup::rng(11);
    let fetched: Vec<Fetched> = (0..count)
        .map(|serial| {
            let (_, raw) = setup::reply(&senders[serial % senders.len()], serial, &mut rng);
            Fetched { uid: serial as u32 + 1, raw, received: Some(chrono::Utc::now()) }
        })
        .collect();
    let settings = Arc::new(Settings::load(&bench.config())?);
    let store = Store::connect(&bench.database_url()).await?;
    let templates = Arc::new(Templates::load(None)?);
    let answers = Answers::new(templates, settings.clone())?;
    let mut processor =
        Processor::new(store, settings, answers, Arc::new(tokio::sync::Notify::new())).await?;

    let (cpu_before, wall) = (cpu_time(), Instant::now());
    let mut queued = 0;
    for batch in fetched.chunks(BATCH) {
        let processed = processor.process_batch("INBOX", 1, batch).await?;
        queued += processed.iter().map(|p| p.answers).sum::<usize>();
    }
    let (cpu, wall) = (cpu_time() - cpu_before, wall.elapsed());
    if queued < count / 2 {
        bail!("only {queued} answers queued for {count} replies: the replies were not read as meant");
    }
    let per_reply = cpu.as_secs_f64() * 1000.0 / count as f64;
    println!(
        "bench_deciding: {count} replies, {queued} answers queued | CPU {:.2} s = {per_reply:.3} ms per reply (target < 0.3) | wall {:.2} s = {:.0} replies/s",
        cpu.as_secs_f64(),
        wall.as_secs_f64(),
        count as f64 / wall.as_secs_f64()
    );
    Ok(())
}

fn parse_args() -> Result<(usize, usize)> {
    let (mut replies, mut interns) = (5_000, 10_000);
    let mut words = std::env::args().skip(1);
    while let Some(flag) = words.next() {
        let value: usize = words.next().with_context(|| format!("{flag} wants a value"))?.parse()?;
        match flag.as_str() {
            "--replies" => replies = value,
            "--interns" => interns = value,
            _ => bail!("unknown option {flag} (--replies --interns)"),
        }
    }
    Ok((replies, interns))
}

/// A config whose servers (port 1) are never reached: only the session's
/// facts and addresses matter here.
fn write_config(bench: &setup::Bench) -> Result<()> {
    std::fs::write(bench.dir.join("imap-password"), "unused")?;
    bench.write_config_for(1, 1)
}

/// The CPU time this process has used so far, user and system.
fn cpu_time() -> Duration {
    // SAFETY: getrusage only writes the struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let of = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    of(usage.ru_utime) + of(usage.ru_stime)
}
