//! The end-to-end benchmark of SPEC §10, in one run against a private
//! Dovecot + Postfix (`mailstack`):
//!
//! 1. the floor: a bare `UID FETCH` of the waiting replies and `smtp-source`
//!    sending as many messages of the answers' size, each to a fresh
//!    mailbox as each answer goes to an intern's (the same sends to one
//!    mailbox are shown too, for comparison, outside the floor);
//! 2. a storm: `--replies` replies waiting when `choixbot run` starts, until
//!    the last answer is accepted by the SMTP server;
//! 3. the latency under IDLE at `--rate` replies/s for `--duration` s;
//! 4. closing the session (`close::close`: allocation, list, results queued);
//! 5. the daemon's peak resident memory (VmHWM of the child process);
//! 6. the deadline: as many replies waiting when the deadline passes, read
//!    by a daemon started at the deadline, until the list is accepted
//!    (`deadline.rs`), against the same floor;
//! 7. the failover: the daemon holding the lease killed, and the time to
//!    the first answer its standby sends (`failover.rs`). `--only failover`
//!    runs this phase alone.
//!
//! Run it in release with `scripts/bench.sh` (or `cargo run --release
//! --example bench_mail_loop -- --replies 5000`). It prints a table and a
//! one-line summary.

mod daemon;
mod deadline;
mod failover;
mod floor;
mod setup;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use choixbot::domain::Email;
use mailstack::MailStack;

use daemon::{percentiles, vm_hwm_kib, Watch};
use setup::{Bench, Sender, BOT};

/// A phase run alone.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Only {
    Failover,
    Storm,
}

/// The command line.
struct Args {
    /// Replies waiting at the storm's start.
    replies: usize,
    /// Interns in the session.
    interns: usize,
    /// Places in the session.
    places: usize,
    /// Replies per second in the latency phase.
    rate: f64,
    /// Length of the latency phase, in seconds.
    duration: f64,
    /// `--only failover` or `--only storm`: that phase alone (the storm
    /// with its floor).
    only: Option<Only>,
}

fn parse_args() -> Result<Args> {
    let mut args =
        Args { replies: 5_000, interns: 10_000, places: 12_000, rate: 20.0, duration: 60.0, only: None };
    let mut words = std::env::args().skip(1);
    while let Some(flag) = words.next() {
        let value = words.next().with_context(|| format!("{flag} wants a value"))?;
        match flag.as_str() {
            "--replies" => args.replies = value.parse()?,
            "--interns" => args.interns = value.parse()?,
            "--places" => args.places = value.parse()?,
            "--rate" => args.rate = value.parse()?,
            "--duration" => args.duration = value.parse()?,
            "--only" if value == "failover" => args.only = Some(Only::Failover),
            "--only" if value == "storm" => args.only = Some(Only::Storm),
            _ => bail!(
                "unknown option {flag} {value} (--replies --interns --places --rate --duration --only failover|storm)"
            ),
        }
    }
    Ok(args)
}

/// The storm and its floor.
struct StormFigures {
    /// The bulk fetch of the floor.
    fetch: floor::Fetched,
    /// smtp-source's time for as many answers, one fresh mailbox each.
    smtp: Duration,
    /// The same, every message to one mailbox (for comparison only).
    smtp_one: Duration,
    /// Answers the storm sent.
    answers: i64,
    /// Their average size.
    answer_size: usize,
    /// From the daemon's start to the last answer accepted.
    storm: Duration,
    /// The CPU the daemon used over the storm (all its threads).
    storm_cpu: Duration,
    /// From the daemon's start to the last reply decided and recorded.
    decided: Duration,
    /// Answers already accepted by the SMTP server at that instant.
    accepted_when_decided: i64,
}

/// Every figure of a run.
struct Figures {
    /// The storm and its floor.
    storm: StormFigures,
    /// Latency to acceptance (outbox `sent_at`): p50, p99, samples.
    accepted: (f64, f64, usize),
    /// Latency to delivery of the answer in the intern's Maildir.
    delivered: (f64, f64, usize),
    /// `close::close`.
    close: Duration,
    /// Peak resident memory of the daemon, KiB.
    memory_kib: u64,
    /// The deadline phase.
    deadline: deadline::DeadlineFigures,
    /// The failover phase.
    failover: failover::FailoverFigures,
}

fn main() -> Result<()> {
    let args = parse_args()?;
    let runtime = tokio::runtime::Runtime::new()?;
    let latency_count = (args.rate * args.duration).round() as usize;
    if args.replies + latency_count > args.interns {
        bail!("--interns must be at least --replies + rate × duration (one reply per intern)");
    }
    progress("starting the mail stack");
    let stack = MailStack::start().context("cannot start the mail stack")?;
    if args.only == Some(Only::Failover) {
        let session = choixbot::synthetic::session(1_000, 1_200, 40, 7);
        progress("failover: the holder killed, five times");
        let failover = runtime.block_on(failover::run(&stack, &session))?;
        report_failover(&failover);
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let bench = Bench { dir: dir.path().to_path_buf(), choixbot: setup::choixbot_binary()? };
    bench.write_config(&stack)?;
    progress(&format!("importing a session of {} interns, {} places", args.interns, args.places));
    let session = choixbot::synthetic::session(args.interns, args.places, 40, 7);
    bench.import(&session)?;
    let senders = runtime.block_on(bench.senders(&session))?;
    let (storm_senders, rest) = senders.split_at(args.replies);

    progress(&format!("delivering {} replies into {BOT}", args.replies));
    let mut rng = setup::rng(11);
    let replies: Vec<_> =
        storm_senders.iter().enumerate().map(|(i, s)| setup::reply(s, i, &mut rng)).collect();
    let from: Vec<Email> = storm_senders.iter().map(|s| s.email.clone()).collect();
    setup::deliver_all(&stack, &replies, &from)?;
    setup::wait_for_inbox(&stack, args.replies)?;

    progress("floor: bulk UID FETCH");
    let fetch = floor::imap_fetch(stack.imap_port(), BOT, stack.password())?;
    if fetch.messages != args.replies {
        bail!("the floor fetched {} messages, not {}", fetch.messages, args.replies);
    }

    progress("storm: starting choixbot run");
    let log = std::fs::File::create(bench.dir.join("daemon.log"))?;
    let start = Instant::now();
    let started_ms = chrono::Utc::now().timestamp_millis();
    let mut command = bench.command(&["run"]);
    command.stdout(std::process::Stdio::null()).stderr(log);
    let mut child = daemon::Running(command.spawn().context("cannot start choixbot run")?);
    let pid = child.0.id();
    let watch = runtime.block_on(Watch::open(&bench.database_url()))?;
    let done = runtime.block_on(watch.wait_all_sent(args.replies as i64, pid, Duration::from_secs(900)));
    let done = done.with_context(|| format!("daemon log: {}", bench.dir.join("daemon.log").display()))?;
    let storm = done - start;
    let storm_cpu = daemon::cpu_time(pid).context("the daemon exited early")?;
    let last_recorded_ms = runtime.block_on(watch.last_recorded_ms())?;
    let decided = Duration::from_millis((last_recorded_ms - started_ms).max(0) as u64);
    let accepted_when_decided = runtime.block_on(watch.accepted_by(last_recorded_ms))?;
    let answers = runtime.block_on(watch.progress())?.queued;
    let answer_size = runtime.block_on(watch.average_answer_size())?;

    progress(&format!("floor: smtp-source, {answers} messages of {answer_size} bytes, one mailbox each"));
    let smtp = floor::smtp_source(stack.smtp_port(), answers as usize, answer_size, floor::Sink::Distinct)?;
    wait_for_sink(&stack, floor::Sink::Distinct, answers as usize)?;
    progress("for comparison: smtp-source, the same messages to one mailbox");
    let smtp_one = floor::smtp_source(stack.smtp_port(), answers as usize, answer_size, floor::Sink::One)?;
    wait_for_sink(&stack, floor::Sink::One, answers as usize)?;
    let storm_figures = StormFigures {
        fetch,
        smtp,
        smtp_one,
        answers,
        answer_size,
        storm,
        storm_cpu,
        decided,
        accepted_when_decided,
    };
    if args.only == Some(Only::Storm) {
        report_storm(&args, &storm_figures);
        println!("\n| second | replies recorded | answers accepted |\n|---|---|---|");
        for (second, recorded, sent) in runtime.block_on(watch.timeline(started_ms))? {
            println!("| {second} | {recorded} | {sent} |");
        }
        return Ok(());
    }

    progress(&format!("latency: {} replies/s for {} s", args.rate, args.duration));
    let latency_senders = &rest[..latency_count];
    let (accepted, delivered) =
        runtime.block_on(latency(&stack, &watch, latency_senders, &args, pid, &mut rng))?;
    let memory_kib = vm_hwm_kib(pid).context("the daemon exited early")?;
    daemon::stop(&mut child.0)?;

    progress("closing the session");
    let close = runtime.block_on(time_close(&bench))?;
    progress(&format!("deadline: {} replies waiting when the deadline passes", args.replies));
    let deadline = runtime.block_on(deadline::run(&stack, &session, args.replies))?;
    progress("failover: the holder killed, five times");
    let failover = runtime.block_on(failover::run(&stack, &session))?;
    let figures =
        Figures { storm: storm_figures, accepted, delivered, close, memory_kib, deadline, failover };
    report(&args, &figures);
    Ok(())
}

/// Sends `senders.len()` replies at `args.rate` per second while the daemon
/// waits in IDLE, then measures each one's latency twice: to the answer's
/// acceptance (`sent_at`) and to its delivery in the intern's Maildir.
async fn latency(
    stack: &MailStack,
    watch: &Watch,
    senders: &[Sender],
    args: &Args,
    pid: u32,
    rng: &mut rand::rngs::StdRng,
) -> Result<((f64, f64, usize), (f64, f64, usize))> {
    let replies: Vec<_> =
        senders.iter().enumerate().map(|(i, s)| setup::reply(s, args.replies + i, rng)).collect();
    let interval = Duration::from_secs_f64(1.0 / args.rate);
    let begin = Instant::now();
    for (i, ((_, raw), sender)) in replies.iter().zip(senders).enumerate() {
        let due = begin + interval * i as u32;
        tokio::time::sleep_until(due.into()).await;
        let from = sender.email.as_str().to_string();
        let (stack_send, raw) = (stack, raw);
        tokio::task::block_in_place(|| stack_send.send(&from, &[BOT], raw))?;
    }
    let total = (args.replies + senders.len()) as i64;
    watch.wait_all_sent(total, pid, Duration::from_secs(300)).await?;
    tokio::time::sleep(Duration::from_secs(3)).await; // the last LMTP deliveries

    let arrived: std::collections::HashMap<String, std::time::SystemTime> = stack
        .deliveries(BOT)
        .into_iter()
        .filter_map(|d| Some((daemon::header_value(&d.raw, "Message-ID")?, d.at)))
        .collect();
    let sent_at = watch.sent_at_by_reply().await?;
    let (mut to_accept, mut to_deliver) = (Vec::new(), Vec::new());
    for ((message_id, _), sender) in replies.iter().zip(senders) {
        let Some(&arrival) = arrived.get(message_id) else { continue };
        // The database keeps Message-IDs without their angle brackets.
        if let Some(at) = sent_at.get(message_id.trim_matches(['<', '>'])) {
            to_accept.push(seconds_between(arrival, *at));
        }
        let answer = stack
            .deliveries(sender.email.as_str())
            .into_iter()
            .find(|d| daemon::header_value(&d.raw, "In-Reply-To").as_deref() == Some(message_id.as_str()));
        if let Some(answer) = answer {
            to_deliver.push(seconds_between(arrival, answer.at));
        }
    }
    if to_accept.is_empty() || to_deliver.is_empty() {
        bail!(
            "no latency sample: {} replies found in the mailbox (e.g. {:?}), {} answered in the outbox (e.g. {:?}), \
             {} answers delivered",
            arrived.len(),
            arrived.keys().next(),
            sent_at.len(),
            sent_at.keys().next(),
            to_deliver.len()
        );
    }
    let (a50, a99) = percentiles(&mut to_accept);
    let (d50, d99) = percentiles(&mut to_deliver);
    Ok(((a50, a99, to_accept.len()), (d50, d99, to_deliver.len())))
}

fn seconds_between(from: std::time::SystemTime, to: std::time::SystemTime) -> f64 {
    match to.duration_since(from) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    }
}

/// Times `close::close` on the session the daemon left (in-process: the
/// work is the allocation, the list and the queued results).
async fn time_close(bench: &Bench) -> Result<Duration> {
    let store = choixbot::store::Store::connect(&bench.database_url()).await?;
    let settings = choixbot::settings::Settings::load(&bench.config())?;
    let templates = Arc::new(choixbot::answer::Templates::load(None)?);
    let start = Instant::now();
    let basis = choixbot::close::Basis::WithoutMailbox { unreadable_since: None };
    let closed = choixbot::close::close(&store, &settings, &templates, &basis).await?;
    let took = start.elapsed();
    if !matches!(closed, choixbot::close::Closed::Now { .. }) {
        bail!("the session was already closed: {closed:?}");
    }
    Ok(took)
}

/// Waits until the mailboxes of `sink` hold `count` messages in all (the
/// floor's sends are delivered before what follows, so they do not disturb
/// it).
fn wait_for_sink(stack: &MailStack, sink: floor::Sink, count: usize) -> Result<()> {
    let mail = stack.dir().join("mail");
    let in_maildir = |maildir: std::path::PathBuf| -> usize {
        ["new", "cur"].iter().map(|s| std::fs::read_dir(maildir.join(s)).map_or(0, |d| d.count())).sum()
    };
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let n: usize = std::fs::read_dir(&mail)?
            .filter_map(|entry| entry.ok())
            .filter(|entry| entry.file_name().to_string_lossy().ends_with(sink.address()))
            .map(|entry| in_maildir(entry.path().join("Maildir")))
            .sum();
        if n >= count {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("the mailboxes of {} received {n} of {count} messages", sink.address());
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn progress(what: &str) {
    eprintln!("[bench] {what}");
}

/// Whether a figure met its target, in the table.
fn ok(pass: bool) -> &'static str {
    if pass {
        "ok"
    } else {
        "MISSED"
    }
}

/// The table's head and the storm's rows; returns the floor and the ratio.
fn report_storm(args: &Args, f: &StormFigures) -> (Duration, f64) {
    let floor = f.fetch.took + f.smtp;
    let ratio = f.storm.as_secs_f64() / floor.as_secs_f64();
    println!("| measure | figure | target | |");
    println!("|---|---|---|---|");
    println!(
        "| floor: UID FETCH of {} replies ({:.1} MB) | {:.2} s | | |",
        f.fetch.messages,
        f.fetch.bytes as f64 / 1e6,
        f.fetch.took.as_secs_f64()
    );
    println!(
        "| floor: smtp-source, {} × {} B, 8 sessions, one fresh mailbox each | {:.2} s | | |",
        f.answers,
        f.answer_size,
        f.smtp.as_secs_f64()
    );
    println!(
        "| (not in the floor) the same to one mailbox, as earlier versions measured | {:.2} s | | |",
        f.smtp_one.as_secs_f64()
    );
    println!(
        "| storm: {} replies, start → last answer accepted | {:.2} s | | |",
        args.replies,
        f.storm.as_secs_f64()
    );
    println!(
        "| storm: … of which all decided and recorded (answers accepted by then: {}) | {:.2} s | | |",
        f.accepted_when_decided,
        f.decided.as_secs_f64()
    );
    println!(
        "| storm: CPU used by choixbot run (user + system, all threads; the mail servers share the cores) | {:.2} s | | |",
        f.storm_cpu.as_secs_f64()
    );
    println!("| storm / floor | {ratio:.2} | ≤ 1.5 | {} |", ok(ratio <= 1.5));
    (floor, ratio)
}

fn report(args: &Args, f: &Figures) {
    let (floor, ratio) = report_storm(args, &f.storm);
    let memory_mb = f.memory_kib as f64 / 1024.0;
    let (a50, a99, n) = f.accepted;
    println!(
        "| latency to acceptance, p50 ({n} replies at {}/s) | {a50:.3} s | < 0.3 s | {} |",
        args.rate,
        ok(a50 < 0.3)
    );
    println!("| latency to acceptance, p99 | {a99:.3} s | < 1 s | {} |", ok(a99 < 1.0));
    let (d50, d99, _) = f.delivered;
    println!("| latency to delivery in the intern's Maildir (upper bound), p50 / p99 | {d50:.3} / {d99:.3} s | | |");
    println!(
        "| close: {} interns, {} places | {:.2} s | < 2 s | {} |",
        args.interns,
        args.places,
        f.close.as_secs_f64(),
        ok(f.close.as_secs_f64() < 2.0)
    );
    println!(
        "| peak resident memory of choixbot run | {memory_mb:.0} MB | < 150 MB | {} |",
        ok(memory_mb < 150.0)
    );
    let list = f.deadline.list.as_secs_f64();
    let list_ratio = list / floor.as_secs_f64();
    println!(
        "| deadline: {} replies waiting, daemon started at the deadline + {} s → the list accepted | {list:.2} s | | |",
        f.deadline.decided,
        choixbot::collect::DRAIN_GRACE.as_secs()
    );
    println!("| deadline / floor | {list_ratio:.2} | ≤ 1.5 | {} |", ok(list_ratio <= 1.5));
    println!(
        "bench_mail_loop: storm {} replies {:.2} s = {ratio:.2}× floor {:.2} s (target ≤1.5) | latency p50 {a50:.3} s p99 {a99:.3} s (<0.3/<1) | close {:.2} s (<2) | memory {memory_mb:.0} MB (<150) | deadline list {list:.2} s = {list_ratio:.2}× floor (≤1.5)",
        args.replies,
        f.storm.storm.as_secs_f64(),
        floor.as_secs_f64(),
        f.close.as_secs_f64()
    );
    report_failover(&f.failover);
}

/// The failover's rows, and its one-line summary.
fn report_failover(f: &failover::FailoverFigures) {
    let seconds = |d: &[Duration]| {
        let mut s: Vec<f64> = d.iter().map(Duration::as_secs_f64).collect();
        s.sort_by(f64::total_cmp);
        (s[s.len() / 2], s[s.len() - 1])
    };
    let (taken50, taken_max) = seconds(&f.takeover);
    let (first50, first_max) = seconds(&f.first_answer);
    println!(
        "| failover: holder killed → standby holds the lease, median / max of {} | {taken50:.2} / {taken_max:.2} s | lease {} s | |",
        f.takeover.len(),
        choixbot::lease::TTL.as_secs()
    );
    println!(
        "| failover: holder killed → first answer accepted from the standby, median / max | {first50:.2} / {first_max:.2} s | a few seconds | |"
    );
    println!("bench_mail_loop failover: first answer {first50:.2} s median, {first_max:.2} s max after the holder's death (lease {} s)", choixbot::lease::TTL.as_secs());
}
