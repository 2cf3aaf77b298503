//! One daemon speaks at a time (`choixbot::lease`): two `choixbot run` on
//! one session, as two processes, over a storm of replies: each intern is
//! answered once while both run, when the holder is killed, when it is
//! paused past its lease, and when it dies during the close.
//!
//! On SQLite the two processes share the database file, as two daemons on
//! one machine; on PostgreSQL they share the server, as two machines would.

use std::process::Child;
use std::time::Duration;

use choixbot::clock::OFFSET_VARIABLE;
use choixbot::lease;
use choixbot::store::lease::LeaseLost;

use crate::crowd::*;
use crate::helpers::spawn_app;
use crate::mail_helpers::*;

/// The pid of the process holding the lease, by `status --json`.
fn holder_pid(status: &serde_json::Value) -> Option<u32> {
    status["lease"]["holder"]["pid"].as_u64().map(|pid| pid as u32)
}

/// The pids of the standbys, by `status --json`.
fn standby_pids(status: &serde_json::Value) -> Vec<u32> {
    let standbys = status["lease"]["standbys"].as_array().cloned().unwrap_or_default();
    standbys.iter().filter_map(|s| s["pid"].as_u64()).map(|pid| pid as u32).collect()
}

/// Sends `signal` (KILL, STOP, CONT) to a child process.
fn signal(child: &Child, signal: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("cannot run kill");
    assert!(status.success(), "kill -{signal} {} failed", child.id());
}

/// Waits (up to 60 s) until `n` replies are recorded.
async fn wait_for_recorded(app: &MailApp, n: i64) {
    let store = app.app.store().await;
    let recorded = poll_until(Duration::from_secs(60), Duration::from_millis(20), || async {
        (recorded(&store).await >= n).then_some(())
    })
    .await;
    assert!(recorded.is_some(), "{n} replies were never recorded\n{}", app.daemon_logs());
}

/// Starts `first`, waits until it holds the lease, then starts `second`
/// and waits until it stands by.
async fn holder_and_standby(app: &MailApp, first: Child, second: impl FnOnce() -> Child) -> (Child, Child) {
    let pid = first.id();
    app.wait_for_status("the first daemon holds the lease", |json| holder_pid(json) == Some(pid)).await;
    let second = second();
    let standby = second.id();
    app.wait_for_status("the second daemon stands by", |json| standby_pids(json).contains(&standby)).await;
    (first, second)
}

/// A holder and its standby over a crowd of 300, the first 150 replies
/// delivered and the holder busy with them (30 recorded).
struct MidStorm {
    /// The session.
    app: MailApp,
    /// Everyone in the crowd; the last 150 have not replied yet.
    repliers: Vec<Replier>,
    /// The daemon holding the lease.
    holder: Child,
    /// The daemon standing by.
    standby: Child,
}

async fn mid_storm() -> MidStorm {
    let (app, repliers, _) = spawn_crowd(300).await;
    let (holder, standby) =
        holder_and_standby(&app, app.spawn_daemon_process(None), || app.spawn_daemon_process(None)).await;
    deliver_all(&app, &repliers[..150]);
    wait_for_recorded(&app, 30).await;
    MidStorm { app, repliers, holder, standby }
}

/// Every reply recorded once, and each intern confirmed once, counted as
/// `once` says.
async fn each_answered_once(app: &MailApp, repliers: &[Replier], once: Once) {
    app.wait_until_settled(repliers.len() as i64).await;
    app.wait_for_postfix_idle();
    assert_eq!(app.decided().await.len(), repliers.len(), "a reply was recorded twice");
    for replier in repliers {
        let confirmed = |text: &str| text.contains("sont enregistrés");
        assert_eq!(
            answers_to(app, &replier.email, once, confirmed),
            1,
            "{} was not answered once\n{}",
            replier.email,
            app.daemon_logs()
        );
    }
}

#[tokio::test]
async fn a_holder_that_lost_its_lease_commits_nothing_and_a_clean_stop_hands_it_over_at_once() {
    let app = spawn_app().await;
    let store = app.store().await;
    let (first, second) = (lease::identity(), lease::identity());
    let held = lease::take(&store, &first).await.unwrap().expect("a free lease is taken");
    let fenced = held.store();
    fenced.begin_write().await.expect("the holder writes").rollback().await.unwrap();
    let holder = lease::take(&store, &second).await.unwrap().err().expect("a live lease is not taken");
    assert_eq!((holder.pid, holder.epoch), (first.pid, held.epoch()));

    // The holder stops renewing (paused, cut off): the lease runs out and
    // the second process takes it, under a new epoch.
    drop(held);
    sqlx::query("UPDATE lease SET expires_ms = 0").execute(store.pool()).await.unwrap();
    let taken = lease::take(&store, &second).await.unwrap().expect("a lease that ran out is taken");
    assert_eq!(taken.epoch(), holder.epoch + 1);
    let refused = fenced.begin_write().await.expect_err("the old holder's write is refused");
    let lost = refused.downcast_ref::<LeaseLost>().unwrap_or_else(|| panic!("not a lost lease: {refused:#}"));
    assert_eq!((lost.mine, lost.now), (holder.epoch, holder.epoch + 1));
    assert!(!fenced.may_speak(), "the old holder may still send");
    assert!(taken.store().may_speak());

    // A clean stop gives it up: a third process takes it without waiting.
    taken.release().await;
    let third =
        lease::take(&store, &lease::identity()).await.unwrap().expect("a released lease is taken at once");
    assert_eq!(third.epoch(), holder.epoch + 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_daemons_started_together_over_a_waiting_storm_answer_each_intern_once() {
    let (app, repliers, _) = spawn_crowd(300).await;
    deliver_all(&app, &repliers);
    let mut daemons = [app.spawn_daemon_process(None), app.spawn_daemon_process(None)];
    let pids: Vec<u32> = daemons.iter().map(Child::id).collect();
    app.wait_for_status("one holds the lease, the other stands by", |json| {
        holder_pid(json).is_some_and(|pid| pids.contains(&pid))
            && standby_pids(json).iter().any(|pid| pids.contains(pid) && Some(*pid) != holder_pid(json))
    })
    .await;
    each_answered_once(&app, &repliers, Once::Exactly).await;
    for daemon in &mut daemons {
        assert!(terminate(daemon).success(), "{}", app.daemon_logs());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_holder_killed_mid_storm_the_standby_answers_every_remaining_reply_once() {
    let MidStorm { app, repliers, mut holder, mut standby } = mid_storm().await;
    signal(&holder, "KILL");
    let _ = holder.wait();
    let rest = &repliers[150..];
    deliver_all(&app, rest);
    let pid = standby.id();
    app.wait_for_status("the standby holds the lease", |json| holder_pid(json) == Some(pid)).await;
    // The answers the killed holder had handed to the server but not
    // marked sent leave again, with the same Message-ID.
    each_answered_once(&app, &repliers, Once::ResentAfterDataAllowed).await;
    assert!(terminate(&mut standby).success(), "{}", app.daemon_logs());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_paused_past_its_lease_commits_nothing_once_back_and_gives_way() {
    let MidStorm { app, repliers, mut holder, mut standby } = mid_storm().await;
    signal(&holder, "STOP");
    let rest = &repliers[150..];
    let (paused, pid) = (holder.id(), standby.id());
    // Stopped, the holder renews nothing: its lease runs out, and the
    // standby takes over (on SQLite, only once the holder is back if it was
    // stopped inside a transaction: it holds the write lock until then).
    app.wait_for_status("the paused holder's lease ran out", |json| holder_pid(json) != Some(paused)).await;
    deliver_all(&app, rest);
    signal(&holder, "CONT");
    app.wait_for_status("the standby holds the lease and the paused daemon stands by", |json| {
        holder_pid(json) == Some(pid) && standby_pids(json).contains(&paused)
    })
    .await;
    each_answered_once(&app, &repliers, Once::ResentAfterDataAllowed).await;
    assert!(
        app.daemon_logs().contains("lost the session's lease"),
        "the paused daemon did not say it gave way:\n{}",
        app.daemon_logs()
    );
    for daemon in [&mut holder, &mut standby] {
        assert!(terminate(daemon).success(), "{}", app.daemon_logs());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn holders_killed_during_the_close_one_list() {
    let (app, repliers, deadline) = spawn_crowd(100).await;
    deliver_all(&app, &repliers);
    // A clock a minute past the deadline, for every daemon.
    let offset = (deadline + chrono::Duration::minutes(1) - chrono::Utc::now()).num_seconds().to_string();
    let daemon = |crash_at: Option<&str>| {
        let mut hooks = vec![(OFFSET_VARIABLE, offset.as_str())];
        hooks.extend(crash_at.map(|step| (choixbot::crash_point::VARIABLE, step)));
        app.spawn_daemon_process_with(&hooks)
    };
    // The first dies before its close commits, the second (its standby)
    // after, before the list is sent; the third sends it.
    let mut first = daemon(Some("close_before_commit"));
    let pid = first.id();
    app.wait_for_status("the first daemon holds the lease", |json| holder_pid(json) == Some(pid)).await;
    let mut second = daemon(Some("close_after_commit"));
    for crashing in [&mut first, &mut second] {
        assert!(
            !wait_for_exit(crashing).success(),
            "a daemon did not crash in the close:\n{}",
            app.daemon_logs()
        );
    }
    let mut third = daemon(None);
    let refs: Vec<&Replier> = repliers.iter().collect();
    check_counted(&app, &refs, &[], Once::ResentAfterDataAllowed).await;
    assert!(terminate(&mut third).success(), "{}", app.daemon_logs());
}
