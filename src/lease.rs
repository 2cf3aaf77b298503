//! One process speaks at a time. Two `choixbot run` on one session (one
//! forgotten on a laptop, a service manager starting the new one before
//! the old one has stopped, or a standby on purpose) would each fetch the
//! same replies and send the same outbox rows: interns got their answers
//! twice. So a process acts on mail (reads the mailbox, sends, closes)
//! only while it holds the session's lease, a row in the session's own
//! database ([`crate::store::lease`]), which arbitrates: PostgreSQL for
//! daemons on several machines, SQLite for several on one.
//!
//! - The holder renews the lease every [`RENEW`]; it lasts [`TTL`]. A
//!   standby looks every [`STANDBY_POLL`] and takes it once it has run
//!   out: within `TTL + STANDBY_POLL` of the holder's death.
//! - Each taking increases the lease's epoch, and every write transaction
//!   of the holder checks it ([`crate::store::Store::begin_write`]): a
//!   holder paused or cut off past its lease commits nothing once back.
//! - Sends are not transactions. The holder starts one only while its last
//!   renewal is less than [`VALID`] old by its monotonic clock, a second
//!   short of the lease, so that it has stopped sending before a standby
//!   may take over. A send already under way when the lease runs out ends:
//!   that is the one resend after DATA a restart already allows, with the
//!   same Message-ID.
//! - `invite` and `close` take the lease too while they send; when a
//!   daemon holds it, they leave the sending to it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tracing::{info, warn};

use crate::store::lease::{Fence, Identity, LeaseRow};
use crate::store::Store;

/// How long a lease lasts unless renewed.
pub const TTL: Duration = Duration::from_secs(6);
/// How often the holder renews it.
pub const RENEW: Duration = Duration::from_secs(1);
/// How long after a renewal began the holder may still start a send.
pub const VALID: Duration = Duration::from_secs(5);
/// How often a standby looks whether the lease has run out.
pub const STANDBY_POLL: Duration = Duration::from_secs(1);
/// How long after its last heartbeat a daemon is still listed by `status`.
pub const SEEN_WITHIN: Duration = Duration::from_secs(30);

/// This process: the machine's name, the pid, and a random part.
pub fn identity() -> Identity {
    let host = hostname();
    let pid = i64::from(std::process::id());
    let random: u32 = rand::random();
    Identity { id: format!("{host}/{pid}/{random:08x}"), host, pid }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".to_string())
}

/// The lease, held by this process, and renewed in the background until
/// it is released, dropped or lost.
pub struct Held {
    /// The fence its writes are checked against.
    fence: Arc<Fence>,
    /// The store, unfenced (the lease's own queries).
    store: Store,
    /// The renewing task.
    renewer: tokio::task::JoinHandle<()>,
}

impl Held {
    /// The store whose writes are fenced by this lease.
    pub fn store(&self) -> Store {
        self.store.clone().fenced(self.fence.clone())
    }

    /// The epoch it was taken under.
    pub fn epoch(&self) -> i64 {
        self.fence.epoch
    }

    /// Completes once the lease is lost.
    pub fn lost(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let fence = self.fence.clone();
        async move { fence.lost().await }
    }

    /// Gives the lease up at once, so that a standby takes over without
    /// waiting for it to run out.
    pub async fn release(self) {
        self.renewer.abort();
        if let Err(error) = self.store.release_lease(&self.fence.me, self.fence.epoch).await {
            warn!("{error:#}; a standby takes over when it runs out, within {} s", TTL.as_secs());
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.renewer.abort();
    }
}

/// Takes the lease now if no other process holds it; else returns who does.
pub async fn take(store: &Store, me: &Identity) -> anyhow::Result<Result<Held, LeaseRow>> {
    let store = store.clone().unfenced();
    // A read first: a standby's look every second then costs no write
    // lock while the holder is busy.
    if let Some(lease) = store.lease().await? {
        if lease.live && lease.holder != me.id {
            return Ok(Err(lease));
        }
    }
    let began = Instant::now();
    match store.take_lease(me, TTL).await? {
        Err(lease) => Ok(Err(lease)),
        Ok(epoch) => {
            let fence = Fence::new(epoch, me.clone(), VALID.saturating_sub(began.elapsed()));
            let renewer = tokio::spawn(renew(store.clone(), fence.clone()));
            Ok(Ok(Held { fence, store, renewer }))
        }
    }
}

/// Takes the lease for a command (`invite`, `close`): at once when it is
/// free; when another process holds it, within [`TTL`] if that process has
/// died (it stops renewing). Returns the holder if it is alive.
pub async fn take_for_command(store: &Store, me: &Identity) -> anyhow::Result<Result<Held, LeaseRow>> {
    let give_up = Instant::now() + TTL + STANDBY_POLL;
    loop {
        match take(store, me).await? {
            Ok(held) => return Ok(Ok(held)),
            Err(lease) if Instant::now() >= give_up => return Ok(Err(lease)),
            Err(_) => tokio::time::sleep(STANDBY_POLL / 2).await,
        }
    }
}

/// Waits as a standby until this process takes the lease, or `stopping`
/// turns true (`None`). Says who holds it, each time that changes.
///
/// With `give_way` (this process has just lost the lease) it lets [`TTL`]
/// pass before it tries again: the standby that took over, or is about
/// to, keeps the session, rather than the two taking it in turns.
pub async fn wait_for(
    store: &Store,
    me: &Identity,
    stopping: &mut watch::Receiver<bool>,
    give_way: bool,
) -> Option<Held> {
    let mut announced: Option<(String, i64)> = None;
    let not_before = Instant::now() + if give_way { TTL } else { Duration::ZERO };
    loop {
        if *stopping.borrow() {
            return None;
        }
        if Instant::now() >= not_before {
            match take(store, me).await {
                Ok(Ok(held)) => return Some(held),
                Ok(Err(lease)) if announced.as_ref() != Some(&(lease.holder.clone(), lease.epoch)) => {
                    let since = chrono::DateTime::from_timestamp_millis(lease.since_ms).unwrap_or_default();
                    info!(
                        host = %lease.host,
                        pid = lease.pid,
                        since = %since.to_rfc3339(),
                        "standby: another choixbot run holds the session's lease; this one takes over if it stops renewing it"
                    );
                    announced = Some((lease.holder, lease.epoch));
                }
                Ok(Err(_)) => {}
                Err(error) => warn!("standby: cannot read the session's lease: {error:#}; looking again"),
            }
        }
        if let Err(error) = store.heartbeat(me).await {
            warn!("standby: {error:#}");
        }
        tokio::select! {
            _ = tokio::time::sleep(STANDBY_POLL) => {}
            _ = stopping.changed() => {}
        }
    }
}

/// Renews the lease every [`RENEW`] until it is lost: taken by another
/// process, or not renewed for [`VALID`] (the database out of reach).
async fn renew(store: Store, fence: Arc<Fence>) {
    let mut tick = tokio::time::interval(RENEW);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let began = Instant::now();
        match store.renew_lease(&fence.me, fence.epoch, TTL).await {
            Ok(true) => fence.renewed(began, VALID),
            Ok(false) => {
                warn!(epoch = fence.epoch, "the session's lease was taken over by another choixbot run");
                fence.lose();
                return;
            }
            Err(error) if fence.expired() => {
                warn!("cannot renew the session's lease for {} s: {error:#}; giving it up", VALID.as_secs());
                fence.lose();
                return;
            }
            Err(error) => warn!("cannot renew the session's lease: {error:#}; trying again"),
        }
    }
}
