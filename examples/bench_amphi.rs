//! The virtual amphi at scale (issue 19): 3,000 interns in 10 groups, 90 %
//! with favourites, turns of 10 minutes, the others answering after a
//! random delay (up to 12 minutes: about one in six lets the turn run out).
//!
//! The amphi runs through the daemon's own code (`Processor::amphi_step`
//! and `Processor::process_batch`, on SQLite) on a moved clock: each
//! reply is handed in with the instant the server would have received it,
//! and the clock jumps to the next reply or the next end of a turn. No
//! mail server: what is measured is the amphi's timeline and the CPU it
//! costs, not SMTP.
//!
//! Reported: the amphi's total duration (first call to last settlement),
//! against the serial bound, the sum of the turns actually used (each from
//! its call to its settlement): what one intern after another would take.
//!
//! `cargo run --release --example bench_amphi -- --interns 3000 --groups 10`

#[allow(dead_code)]
#[path = "bench_mail_loop/setup.rs"]
mod setup;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use chrono::Duration;
use rand::seq::SliceRandom;
use rand::Rng;

use choixbot::answer::Templates;
use choixbot::clock::Clock;
use choixbot::collect::{Answers, Processor};
use choixbot::mailbox::Fetched;
use choixbot::settings::Settings;
use choixbot::store::{amphi as rows, Store};

/// Turn length, minutes.
const TURN_MINUTES: i64 = 10;

fn main() -> Result<()> {
    let (interns, groups) = parse_args()?;
    let dir = tempfile::tempdir()?;
    let bench = setup::Bench { dir: dir.path().to_path_buf(), choixbot: setup::choixbot_binary()? };
    let mut session = choixbot::synthetic::session(interns, interns * 6 / 5, groups, 7);
    favourites_for_nine_in_ten(&mut session);
    bench.write_config_for(1, 1)?;
    std::fs::write(bench.dir.join("imap-password"), "unused")?;
    bench.import(&session)?;
    amphi_config(&bench)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run(&bench, &session))
}

/// Nine interns in ten keep (or get) wishes: the tenth of each group's
/// call list has none.
fn favourites_for_nine_in_ten(session: &mut choixbot::synthetic::SyntheticSession) {
    let mut rng = setup::rng(3);
    for (index, intern) in session.interns.iter().enumerate() {
        if index % 10 == 9 {
            session.wishes.remove(&intern.email);
        } else if !session.wishes.contains_key(&intern.email) {
            let mut open: Vec<_> =
                session.posts.iter().filter(|p| p.group == intern.group).map(|p| p.ars_id.clone()).collect();
            open.shuffle(&mut rng);
            open.truncate(5);
            session.wishes.insert(intern.email.clone(), open);
        }
    }
}

/// The benchmark's config, as an amphi that started a minute ago.
fn amphi_config(bench: &setup::Bench) -> Result<()> {
    let config = std::fs::read_to_string(bench.config())?;
    let deadline =
        config.lines().find(|l| l.starts_with("deadline = ")).context("a deadline line")?.to_string();
    let start = (chrono::Utc::now() - Duration::minutes(1)).with_timezone(&chrono_tz::Europe::Paris);
    let config = config.replace(&deadline, "mode = \"amphi\"")
        + &format!(
            "\n[amphi]\nstart = \"{}\"\nturn_minutes = {TURN_MINUTES}\n",
            start.format("%Y-%m-%dT%H:%M:%S")
        );
    std::fs::write(bench.config(), config)?;
    Ok(())
}

async fn run(bench: &setup::Bench, session: &choixbot::synthetic::SyntheticSession) -> Result<()> {
    let senders: HashMap<String, setup::Sender> =
        bench.senders(session).await?.into_iter().map(|s| (s.email.to_string(), s)).collect();
    let settings = Arc::new(Settings::load(&bench.config())?);
    let clock = Clock::system();
    let store = Store::connect(&bench.database_url()).await?.with_clock(clock.clone());
    let templates = Arc::new(Templates::load(None)?);
    let answers = Answers::new(templates, settings.clone())?;
    let mut processor =
        Processor::new(store.clone(), settings, answers, Arc::new(tokio::sync::Notify::new())).await?;
    let mut rng = setup::rng(5);
    // Replies still to come: (received at ms, intern).
    let mut scheduled: HashMap<String, i64> = HashMap::new();
    let (mut uid, mut steps, mut replies) = (0u32, 0usize, 0usize);
    let (cpu_before, wall) = (cpu_time(), Instant::now());
    loop {
        let step = processor.amphi_step(clock.now()).await?.context("the session is an amphi")?;
        steps += 1;
        if step.finished {
            break;
        }
        let mut conn = store.pool().acquire().await?;
        let open: Vec<_> = rows::turns(&mut conn).await?.into_iter().filter(|t| t.is_open()).collect();
        drop(conn);
        for turn in &open {
            scheduled.entry(turn.intern.to_string()).or_insert_with(|| {
                // Up to 12 minutes: past 10, the turn has run out.
                turn.called_at + rng.gen_range(20_000..12 * 60_000)
            });
        }
        let next_end = open.iter().map(|t| t.ends_at + choixbot::collect::TURN_GRACE_MS).min();
        let next_reply = open.iter().filter_map(|t| scheduled.get(t.intern.as_str()).copied()).min();
        let Some(next) = [next_end, next_reply].into_iter().flatten().min() else {
            bail!("nothing is open and the amphi is not finished after {steps} steps");
        };
        let now = clock.now_ms();
        if next > now {
            clock.advance(Duration::milliseconds(next - now));
        }
        let now = clock.now_ms();
        let mut due = Vec::new();
        for turn in &open {
            if scheduled.get(turn.intern.as_str()).is_some_and(|&at| at <= now && at < turn.ends_at) {
                let sender = &senders[turn.intern.as_str()];
                let mut posts = sender.open.clone();
                posts.shuffle(&mut rng);
                uid += 1;
                let received = chrono::DateTime::from_timestamp_millis(scheduled[turn.intern.as_str()]);
                due.push(Fetched { uid, raw: reply(sender, uid, &posts), received });
            }
        }
        if !due.is_empty() {
            replies += due.len();
            processor.process_batch("INBOX", 1, &due).await?;
        }
    }
    let (cpu, wall) = (cpu_time() - cpu_before, wall.elapsed());
    report(&store, session.interns.len(), (steps, replies), cpu, wall).await
}

/// A reply choosing `posts` in order, to the intern's plus address.
fn reply(sender: &setup::Sender, serial: u32, posts: &[String]) -> Vec<u8> {
    format!(
        "From: {} <{}>\r\nTo: choix+{}@asso.example\r\nSubject: Re: C'est votre tour\r\n\
         Message-ID: <amphi.{serial}@bench.example>\r\nDate: Mon, 4 May 2026 09:12:00 +0200\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{}\r\n",
        sender.name,
        sender.email,
        sender.token,
        posts.iter().take(5).cloned().collect::<Vec<_>>().join("\r\n")
    )
    .into_bytes()
}

async fn report(
    store: &Store,
    interns: usize,
    (steps, replies): (usize, usize),
    cpu: std::time::Duration,
    wall: std::time::Duration,
) -> Result<()> {
    let mut conn = store.pool().acquire().await?;
    let turns = rows::turns(&mut conn).await?;
    let settled: Vec<_> = turns.iter().filter_map(|t| t.settled.as_ref().map(|s| (t, s))).collect();
    if settled.len() < interns {
        bail!("{} turns settled for {interns} interns", settled.len());
    }
    let first = turns.iter().map(|t| t.called_at).min().unwrap_or_default();
    let last = settled.iter().map(|(_, s)| s.at).max().unwrap_or_default();
    let serial: i64 = settled.iter().map(|(t, s)| s.at - t.called_at).sum();
    // The floor: the groups run side by side, so the amphi cannot end before
    // its longest group has used its turns one after the other.
    let mut per_group: HashMap<&str, i64> = HashMap::new();
    for (turn, settled) in &settled {
        *per_group.entry(turn.group.as_str()).or_insert(0) += settled.at - turn.called_at;
    }
    let longest_group = per_group.values().copied().max().unwrap_or_default();
    let count = |how: choixbot::amphi::How| settled.iter().filter(|(_, s)| s.how == how).count();
    let minutes = |ms: i64| ms as f64 / 60_000.0;
    println!(
        "bench_amphi: {interns} interns, {} turns, {replies} replies in turns | favourites validated at the call {}, \
         by a reply {}, turns run out {} | amphi {:.0} min ({:.1} h) vs serial bound {:.0} min ({:.1} h): {:.1}x shorter; longest group's turns end to end {:.0} min \
         | {steps} steps, CPU {:.2} s, wall {:.2} s",
        turns.len(),
        count(choixbot::amphi::How::Favourite),
        count(choixbot::amphi::How::Reply),
        count(choixbot::amphi::How::WhenAbsent),
        minutes(last - first),
        minutes(last - first) / 60.0,
        minutes(serial),
        minutes(serial) / 60.0,
        serial as f64 / (last - first).max(1) as f64,
        minutes(longest_group),
        cpu.as_secs_f64(),
        wall.as_secs_f64(),
    );
    Ok(())
}

fn parse_args() -> Result<(usize, usize)> {
    let (mut interns, mut groups) = (3_000, 10);
    let mut words = std::env::args().skip(1);
    while let Some(flag) = words.next() {
        let value: usize = words.next().with_context(|| format!("{flag} wants a value"))?.parse()?;
        match flag.as_str() {
            "--interns" => interns = value,
            "--groups" => groups = value,
            _ => bail!("unknown option {flag} (--interns --groups)"),
        }
    }
    Ok((interns, groups))
}

/// The CPU time this process has used so far, user and system.
fn cpu_time() -> std::time::Duration {
    // SAFETY: getrusage only writes the struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let of = |t: libc::timeval| std::time::Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    of(usage.ru_utime) + of(usage.ru_stime)
}
