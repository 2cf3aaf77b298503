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

use std::time::Duration;

use anyhow::Context;
use rand::Rng;
use tracing::{info, warn};

use super::process::Processor;
use crate::mailbox::{Fetched, Mailbox};
use crate::settings::ImapSettings;
use crate::store::{MailboxPosition, Store};

/// How many messages one fetch (and one database transaction) handles.
const BATCH: usize = 100;
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

/// Runs the mailbox loop until `shutdown` turns true. Never returns an error
/// for an outage: it logs, waits with backoff and jitter, and reconnects.
pub async fn run(
    settings: &ImapSettings,
    password: &str,
    processor: &mut Processor,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let mut failures: u32 = 0;
    while !*shutdown.borrow() {
        let session = session(settings, password, processor, &mut shutdown, &mut failures);
        match session.await {
            Ok(()) => return,
            Err(error) => {
                failures += 1;
                let delay = reconnect_delay(failures);
                warn!("mailbox: {error:#}; reconnecting in {:.1} s", delay.as_secs_f64());
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
    }
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
    password: &str,
    processor: &mut Processor,
    shutdown: &mut tokio::sync::watch::Receiver<bool>,
    failures: &mut u32,
) -> anyhow::Result<()> {
    let mut mailbox = Mailbox::connect(settings, password).await?;
    mailbox.ensure_folder(&settings.processed_folder).await?;
    let state = mailbox.select(&settings.folder).await?;
    let uidvalidity = i64::from(state.uidvalidity);
    info!(folder = %settings.folder, uidvalidity, exists = state.exists, "mailbox selected");
    *failures = 0;
    let store = processor.store().clone();
    let mut last_uid = start_position(&store, &settings.folder, uidvalidity).await?;
    move_unmoved(&mut mailbox, &store, settings, uidvalidity).await?;
    let mut last_new_mail: Option<std::time::Instant> = None;
    loop {
        let fetched = mailbox.fetch_after(last_uid, BATCH).await?;
        if !fetched.is_empty() {
            crate::crash_point::reached("after_fetch");
            last_uid = fetched.iter().map(|f| f.uid).max().unwrap_or(last_uid);
            handle_batch(&mut mailbox, processor, settings, uidvalidity, &fetched).await?;
            last_new_mail = Some(std::time::Instant::now());
            continue;
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
        tokio::select! {
            wake = mailbox.wait_for_change(IDLE_RENEWAL) => { wake?; }
            _ = shutdown.changed() => break,
        }
    }
    let _ = mailbox.logout().await;
    Ok(())
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
