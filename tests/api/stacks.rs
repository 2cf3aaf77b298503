//! The mail stacks the tests run against, and how they wait.
//!
//! Starting a Dovecot and a Postfix takes about three seconds. A test that
//! needs no fault option of its own (no refused recipient, no restart, no
//! missing capability) runs on the one [`shared`] stack, with mailboxes of
//! its own: every address is a mailbox there, so [`unique_address`] is all
//! the isolation it needs. The stack lives as long as the test binary; its
//! watchdog stops the servers and removes their directory when the binary
//! exits.
//!
//! A stack is always started off the async runtime ([`start`]): starting
//! one blocks for seconds.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mailstack::{MailStack, MailStackBuilder};
use tokio::sync::OnceCell;

static SHARED: OnceCell<MailStack> = OnceCell::const_new();

/// The stack shared by the tests that use addresses of their own.
pub async fn shared() -> &'static MailStack {
    SHARED.get_or_init(|| start(MailStack::builder())).await
}

/// A stack of a test's own, with `builder`'s fault options.
pub async fn start(builder: MailStackBuilder) -> MailStack {
    tokio::task::spawn_blocking(move || builder.start())
        .await
        .expect("the task starting the mail stack panicked")
        .unwrap_or_else(|error| panic!("cannot start the mail stack (Dovecot + Postfix): {error:#}"))
}

/// An address no other test of this binary uses: `name-N@domain`.
pub fn unique_address(name: &str, domain: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!("{name}-{}@{domain}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Awaits `check` until it gives `Some`, asking again every `every`;
/// fails loudly, saying `what` was awaited, once `within` has passed. The
/// one way the tests wait for a state.
pub async fn eventually<T, F, Fut>(what: &str, within: Duration, every: Duration, check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    match poll_until(within, every, check).await {
        Some(value) => value,
        None => panic!("still waiting after {within:?} for {what}"),
    }
}

/// [`eventually`], giving `None` instead of failing, for a caller that
/// says more about the failure (the daemon's status and log).
pub async fn poll_until<T, F, Fut>(within: Duration, every: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check().await {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(every).await;
    }
}

/// [`eventually`] for a synchronous check, from a blocking context or a
/// multi-threaded runtime (it blocks the thread between checks).
pub fn eventually_blocking<T>(
    what: &str,
    within: Duration,
    every: Duration,
    mut check: impl FnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "still waiting after {within:?} for {what}");
        let pause = || std::thread::sleep(every);
        match tokio::runtime::Handle::try_current() {
            Ok(_) => tokio::task::block_in_place(pause),
            Err(_) => pause(),
        }
    }
}

/// Waits until Postfix has finished with every message it accepted (each
/// `message-id=` line of its log has its `removed` line), so that a
/// mailbox count is final.
pub fn wait_for_postfix_idle(stack: &MailStack) {
    eventually_blocking(
        "Postfix to deliver every message it accepted",
        Duration::from_secs(60),
        Duration::from_millis(100),
        || {
            let log = std::fs::read_to_string(stack.maillog_path()).unwrap_or_default();
            let accepted =
                log.lines().filter(|l| l.contains("cleanup[") && l.contains("message-id=")).count();
            let removed = log.lines().filter(|l| l.contains("qmgr[") && l.ends_with(": removed")).count();
            (accepted == removed).then_some(())
        },
    )
}
