//! The mailbox side of `choixbot run`: stay connected to the IMAP server,
//! fetch every message above the last UID recorded, have it decided and
//! recorded, then move it out of the inbox; wait with IDLE (or poll); and
//! come back after any outage.
//!
//! The order of the steps is what makes the daemon safe to kill at any
//! point (SPEC §7): a message is moved only after the transaction that
//! recorded its decision and its answers has committed. If the daemon dies
//! before the commit, the message is still above the recorded UID and is
//! fetched again; if it dies after the commit but before the move, the
//! message is recorded as not moved and the move is done at the next start.
//!
//! At the deadline the loop reads the folder up to it: a few seconds after
//! the deadline ([`DRAIN_GRACE`]) it asks the server for the highest UID,
//! and once every message up to that one is recorded it reports the folder
//! drained ([`Reading::drained`]). Only then may the session close: every
//! reply the server received before the deadline has been decided. Mail
//! that keeps arriving does not delay this, since the target is fixed once.
//! The loop reports as well whether the mailbox can be read at all
//! ([`Reading::unreadable`]), for the close to be held, and the referents
//! told, when it cannot.

use std::time::Duration;

use anyhow::Context;
use rand::Rng;
use tracing::{info, warn};

use chrono::{DateTime, Utc};

use super::process::Processor;
use crate::mailbox::{Fetched, Mailbox, Refusal};
use crate::oauth::TokenSource;
use crate::settings::ImapSettings;
use crate::store::{MailboxPosition, Store};

/// How many messages one fetch (and one database transaction) handles.
///
/// Why 400: each batch also pays a fetch, a MOVE, a commit and the mark of
/// the move, each a wait on Dovecot or the disk, and in a storm those wait
/// behind the mail servers' own work on the same cores. With batches of
/// 100 the 5,000 replies of the storm benchmark were decided in 19.4 s,
/// with 400 in 13.1 s. A reply that comes alone is still a batch of one.
pub const BATCH: usize = 400;
/// The longest wait in IDLE before a new fetch (below the 29 minutes after
/// which servers may drop an idle client, RFC 2177).
const IDLE_RENEWAL: Duration = Duration::from_secs(25 * 60);
/// After new mail, how long the loop keeps looking every
/// [`FOLLOW_UP_INTERVAL`] (NOOP and UID SEARCH) before it waits in IDLE
/// again. Dovecot announces new mail to an IDLE client 500 ms after the
/// first change (`NOTIFY_DELAY_MSECS`, fixed at compile time): under steady
/// traffic that delay alone made the median answer latency 0.25 s of the
/// 0.3 s allowed (SPEC §10). While replies keep coming, a look every 100 ms
/// finds them sooner; a quiet mailbox costs nothing, it stays in IDLE.
const FOLLOW_UP: Duration = Duration::from_secs(2);
/// The interval of those looks.
const FOLLOW_UP_INTERVAL: Duration = Duration::from_millis(100);
/// How long after the deadline the folder's last UID is taken as the end of
/// what must be read. A message the server stored just before the deadline
/// is visible to a search a moment later; this also covers a clock of the
/// server a little behind ours. Every message received before the deadline
/// then has a UID at or below the target.
pub const DRAIN_GRACE: Duration = Duration::from_secs(5);
/// Past the deadline the list is waiting: the reconnection delay stays
/// short, so that the list leaves soon after the mailbox comes back.
const RECONNECT_AFTER_DEADLINE: Duration = Duration::from_secs(10);

/// What the mailbox loop tells the rest of the daemon.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reading {
    /// Since when and why the mailbox cannot be read; `None` while it can.
    pub unreadable: Option<Unreadable>,
    /// Once the deadline has passed: the folder and how far it was read,
    /// every message the server received before the deadline included.
    /// In the amphi: once every group is done.
    pub drained: Option<(String, MailboxPosition)>,
    /// In the amphi: every group is done, the list may be made.
    pub amphi_over: bool,
}

/// The mailbox out of reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// The first failure of this outage.
    pub since: DateTime<Utc>,
    /// The last error, in full.
    pub error: String,
    /// The last error, when a person must fix it.
    pub refusal: Option<Refusal>,
}

/// Runs the mailbox loop until `shutdown` turns true, reporting to
/// `reading`. Never returns an error for an outage: it logs, waits with
/// backoff and jitter, and reconnects. The password is read again at each
/// connection, so that a referent who fixes it need not restart.
pub async fn run(
    settings: &ImapSettings,
    tokens: Option<&TokenSource>,
    processor: &mut Processor,
    reading: &tokio::sync::watch::Sender<Reading>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let mut failures: u32 = 0;
    while !*shutdown.borrow() {
        let session = session(settings, tokens, processor, reading, &mut shutdown, &mut failures);
        match session.await {
            Ok(()) => return,
            Err(error) => {
                failures += 1;
                let mut delay = reconnect_delay(failures);
                let now = processor.store().clock().now();
                if now >= processor.deadline() {
                    delay = delay.min(RECONNECT_AFTER_DEADLINE);
                }
                warn!("mailbox: {error:#}; reconnecting in {:.1} s", delay.as_secs_f64());
                report_failure(reading, &error, now);
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
    }
}

/// Records a failure in `reading`, keeping the start of the outage.
fn report_failure(reading: &tokio::sync::watch::Sender<Reading>, error: &anyhow::Error, now: DateTime<Utc>) {
    let refusal = crate::mailbox::refusal(error).cloned();
    let error = format!("{error:#}");
    reading.send_modify(|reading| {
        let since = reading.unreadable.as_ref().map_or(now, |u| u.since);
        reading.unreadable = Some(Unreadable { since, error, refusal });
    });
}

/// Exponential backoff from 1 s to 5 min, with ±25 % jitter so that many
/// daemons behind one server do not come back at the same instant.
fn reconnect_delay(failures: u32) -> Duration {
    let base = Duration::from_secs(1u64 << failures.saturating_sub(1).min(8)).min(Duration::from_secs(300));
    let jitter = rand::thread_rng().gen_range(0.75..1.25);
    base.mul_f64(jitter)
}

/// One connection's life: returns Ok on shutdown, Err on any failure.
async fn session(
    settings: &ImapSettings,
    tokens: Option<&TokenSource>,
    processor: &mut Processor,
    reading: &tokio::sync::watch::Sender<Reading>,
    shutdown: &mut tokio::sync::watch::Receiver<bool>,
    failures: &mut u32,
) -> anyhow::Result<()> {
    let mut mailbox = Mailbox::connect(settings, tokens).await?;
    mailbox.ensure_folder(&settings.processed_folder).await?;
    let state = mailbox.select(&settings.folder).await?;
    let uidvalidity = i64::from(state.uidvalidity);
    info!(folder = %settings.folder, uidvalidity, exists = state.exists, "mailbox selected");
    *failures = 0;
    reading.send_if_modified(|reading| reading.unreadable.take().is_some());
    let store = processor.store().clone();
    let mut last_uid = start_position(&store, &settings.folder, uidvalidity).await?;
    move_unmoved(&mut mailbox, &store, settings, uidvalidity).await?;
    let mut last_new_mail: Option<std::time::Instant> = None;
    let mut drain = Drain::new(processor.deadline());
    let mut amphi = AmphiTimer::default();
    loop {
        if drain.step(&mut mailbox, &store, last_uid).await? {
            let position = MailboxPosition { uidvalidity, last_uid: i64::from(last_uid) };
            info!(folder = %settings.folder, uidvalidity, last_uid, "read up to the deadline: the session may close");
            reading.send_modify(|reading| reading.drained = Some((settings.folder.clone(), position)));
        }
        let fetch_started = store.clock().now();
        let fetched = mailbox.fetch_after(last_uid, BATCH).await?;
        if !fetched.is_empty() {
            crate::crash_point::reached("after_fetch");
            last_uid = fetched.iter().map(|f| f.uid).max().unwrap_or(last_uid);
            handle_batch(&mut mailbox, processor, settings, uidvalidity, &fetched).await?;
            last_new_mail = Some(std::time::Instant::now());
            continue;
        }
        // The folder is read up to `fetch_started`: the amphi may end the
        // turns that ended before it.
        if amphi.step(processor, fetch_started).await? {
            let position = MailboxPosition { uidvalidity, last_uid: i64::from(last_uid) };
            reading.send_if_modified(|reading| {
                let news = !reading.amphi_over;
                reading.amphi_over = true;
                reading.drained = Some((settings.folder.clone(), position));
                news
            });
        }
        if *shutdown.borrow() {
            break;
        }
        if last_new_mail.is_some_and(|at| at.elapsed() < FOLLOW_UP) {
            tokio::select! {
                _ = tokio::time::sleep(FOLLOW_UP_INTERVAL) => continue,
                _ = shutdown.changed() => break,
            }
        }
        let drain_at = [drain.pending_at(), amphi.next_at()].into_iter().flatten().min();
        let clock = store.clock().clone();
        let stopped = shutdown.clone();
        let at_drain = async move {
            match drain_at {
                Some(at) => {
                    clock.sleep_until(at, stopped).await;
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            wake = mailbox.wait_for_change_or(IDLE_RENEWAL, at_drain) => { wake?; }
            _ = shutdown.changed() => break,
        }
    }
    let _ = mailbox.logout().await;
    Ok(())
}

/// Reads the folder once, up to the last message it holds now, deciding
/// each message as the daemon does, and returns how far it was read: for
/// `choixbot close`, which must not leave replies unread behind.
pub async fn read_up_to_now(
    settings: &ImapSettings,
    tokens: Option<&TokenSource>,
    processor: &mut Processor,
) -> anyhow::Result<(String, MailboxPosition)> {
    let mut mailbox = Mailbox::connect(settings, tokens).await?;
    mailbox.ensure_folder(&settings.processed_folder).await?;
    let state = mailbox.select(&settings.folder).await?;
    let uidvalidity = i64::from(state.uidvalidity);
    let store = processor.store().clone();
    let mut last_uid = start_position(&store, &settings.folder, uidvalidity).await?;
    move_unmoved(&mut mailbox, &store, settings, uidvalidity).await?;
    let target = mailbox.highest_uid_after(last_uid).await?;
    while last_uid < target {
        let fetched = mailbox.fetch_after(last_uid, BATCH).await?;
        let Some(highest) = fetched.iter().map(|f| f.uid).max() else { break };
        last_uid = highest;
        handle_batch(&mut mailbox, processor, settings, uidvalidity, &fetched).await?;
    }
    let _ = mailbox.logout().await;
    Ok((settings.folder.clone(), MailboxPosition { uidvalidity, last_uid: i64::from(last_uid.max(target)) }))
}

/// When the amphi's next step is due, within one connection.
#[derive(Default)]
struct AmphiTimer {
    /// The time the last step asked to be woken at.
    next_at: Option<DateTime<Utc>>,
    /// Whether the last step found every group done.
    finished: bool,
    /// Whether the session runs no amphi (found at the first step).
    none: bool,
}

/// How often the amphi steps even when nothing is due: a referent's
/// `amphi pause`, `resume` or `skip` is written by another process.
const AMPHI_LOOK_AGAIN: chrono::Duration = chrono::Duration::seconds(5);

impl AmphiTimer {
    /// Takes a step when one is due (a reply moved a turn on, a turn's end
    /// or the start has come, or the periodic look); true once every group
    /// is done.
    async fn step(
        &mut self,
        processor: &mut Processor,
        fetch_started: DateTime<Utc>,
    ) -> anyhow::Result<bool> {
        if self.none {
            return Ok(false);
        }
        let now = processor.store().clock().now();
        let due = processor.amphi_due() || self.next_at.map_or(true, |at| now >= at);
        if !due {
            return Ok(self.finished);
        }
        let read_until = fetch_started - chrono::Duration::milliseconds(super::process::TURN_GRACE_MS);
        match processor.amphi_step(read_until).await? {
            None => self.none = true,
            Some(step) => {
                let look_again = now + AMPHI_LOOK_AGAIN;
                self.next_at = Some(step.next_at.map_or(look_again, |at| at.min(look_again)));
                self.finished = step.finished;
            }
        }
        Ok(self.finished)
    }

    /// When the loop must stop waiting for mail for the next step.
    fn next_at(&self) -> Option<DateTime<Utc>> {
        (!self.none && !self.finished).then_some(self.next_at).flatten()
    }
}

/// Reading the folder up to the deadline, within one connection.
struct Drain {
    /// When the target is taken: the deadline plus [`DRAIN_GRACE`].
    at: DateTime<Utc>,
    /// The highest UID to read, once taken.
    target: Option<u32>,
    /// Whether reaching the target was reported.
    reported: bool,
}

impl Drain {
    fn new(deadline: DateTime<Utc>) -> Self {
        let grace = chrono::Duration::from_std(DRAIN_GRACE).unwrap_or_default();
        Self { at: deadline + grace, target: None, reported: false }
    }

    /// Takes the target when its time has come; returns true once, when
    /// every UID up to it has been recorded (`last_uid` is recorded).
    async fn step(&mut self, mailbox: &mut Mailbox, store: &Store, last_uid: u32) -> anyhow::Result<bool> {
        if self.reported {
            return Ok(false);
        }
        if self.target.is_none() {
            if store.clock().now() < self.at {
                return Ok(false);
            }
            let target = mailbox.highest_uid_after(last_uid).await?;
            info!(last_uid, target, "the deadline has passed: reading the folder up to UID {target}");
            self.target = Some(target);
        }
        self.reported = self.target.is_some_and(|target| last_uid >= target);
        Ok(self.reported)
    }

    /// When the loop must stop waiting for mail to take the target.
    fn pending_at(&self) -> Option<DateTime<Utc>> {
        self.target.is_none().then_some(self.at)
    }
}

/// Where to resume: the recorded last UID, or 0 when the folder is new to
/// us or its UIDVALIDITY changed (the mailbox was recreated). After a
/// change every message still in the folder is fetched again; those already
/// decided are recognised by Message-ID and content hash.
async fn start_position(store: &Store, folder: &str, uidvalidity: i64) -> anyhow::Result<u32> {
    match store.position(folder).await? {
        Some(MailboxPosition { uidvalidity: known, last_uid }) if known == uidvalidity => Ok(last_uid as u32),
        Some(MailboxPosition { uidvalidity: known, .. }) => {
            warn!(
                folder,
                old = known,
                new = uidvalidity,
                "UIDVALIDITY changed: reading the folder again from the start"
            );
            Ok(0)
        }
        None => Ok(0),
    }
}

async fn handle_batch(
    mailbox: &mut Mailbox,
    processor: &mut Processor,
    settings: &ImapSettings,
    uidvalidity: i64,
    fetched: &[Fetched],
) -> anyhow::Result<()> {
    processor
        .process_batch(&settings.folder, uidvalidity, fetched)
        .await
        .context("cannot record the messages")?;
    crate::crash_point::reached("before_move");
    let uids: Vec<u32> = fetched.iter().map(|f| f.uid).collect();
    mailbox.move_to(&uids, &settings.processed_folder).await?;
    let uids: Vec<i64> = uids.into_iter().map(i64::from).collect();
    processor.store().mark_moved(&settings.folder, uidvalidity, &uids).await
}

/// Finishes the moves a crash or an outage interrupted.
async fn move_unmoved(
    mailbox: &mut Mailbox,
    store: &Store,
    settings: &ImapSettings,
    uidvalidity: i64,
) -> anyhow::Result<()> {
    let unmoved = store.unmoved(&settings.folder, uidvalidity).await?;
    if unmoved.is_empty() {
        return Ok(());
    }
    info!(count = unmoved.len(), "moving messages recorded before an interruption");
    let uids: Vec<u32> = unmoved.iter().map(|&uid| uid as u32).collect();
    mailbox.move_to(&uids, &settings.processed_folder).await?;
    store.mark_moved(&settings.folder, uidvalidity, &unmoved).await
}

#[cfg(test)]
mod tests {
    use super::reconnect_delay;
    use std::time::Duration;

    #[test]
    fn reconnect_delay_grows_and_is_capped() {
        assert!(reconnect_delay(1) <= Duration::from_millis(1250));
        assert!(reconnect_delay(4) >= Duration::from_secs(6));
        assert!(reconnect_delay(40) <= Duration::from_secs(375));
    }
}
