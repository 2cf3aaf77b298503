//! The deadline (SPEC §11): a reply counts when the IMAP server received it
//! before the deadline, whenever choixbot reads it, and the list leaves only
//! once every such reply is decided: across an outage of the IMAP
//! connection, a rush that leaves the daemon with a backlog, a refused
//! login, and crashes during the reading and during the close.
//!
//! The daemon's clock is moved past the deadline while it runs
//! ([`Clock::advance`]), or a daemon started as a child process is given a
//! clock already past it ([`OFFSET_VARIABLE`]): no test waits for a real
//! deadline. The replies delivered through Postfix are received by Dovecot
//! before the (moved) deadline; replies "received after it" are put in the
//! INBOX with IMAP APPEND and an INTERNALDATE after it.

use choixbot::clock::{Clock, OFFSET_VARIABLE};

use crate::crowd::*;
use crate::faults_proxy::FaultProxy;
use crate::mail_helpers::*;

/// Sends choixbot's IMAP traffic through `proxy`, with a short timeout.
fn through_proxy(app: &MailApp, proxy: &FaultProxy) {
    let config = std::fs::read_to_string(&app.app.config).unwrap();
    let config = config
        .replacen(&format!("port = {}", app.stack.imaps_port()), &format!("port = {}", proxy.port), 1)
        .replacen("timeout_seconds = 15", "timeout_seconds = 3", 1);
    std::fs::write(&app.app.config, config).unwrap();
}

/// The clock moved to `after` past the deadline.
fn advance_past(clock: &Clock, deadline: chrono::DateTime<chrono::Utc>, after: chrono::Duration) {
    clock.advance(deadline + after - clock.now());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replies_received_while_the_imap_connection_is_cut_across_the_deadline_all_count() {
    let (app, repliers, deadline) = spawn_crowd(240).await;
    let (early, rest) = repliers.split_at(10);
    let (rush, late) = rest.split_at(210);
    let proxy = FaultProxy::start(app.stack.imaps_port()).await;
    through_proxy(&app, &proxy);
    let clock = Clock::system();
    let daemon = app.start_daemon_on(&clock).await;
    deliver_all(&app, early);
    app.wait_until_settled(early.len() as i64).await;

    // The connection is cut; the rush reaches the mailbox meanwhile, and
    // the deadline passes.
    proxy.cut_everything();
    deliver_all(&app, rush);
    assert_eq!(app.inbox_len(), rush.len(), "the rush is in the mailbox, unread");
    advance_past(&clock, deadline, chrono::Duration::seconds(10));
    app.wait_for_status("the close held", |json| json["close"]["held"] == true).await;
    app.wait_for_matching(REFERENT, "the alert that the list is held", |subject, text| {
        subject.contains("LA LISTE EST RETENUE") && text.contains("close --without-mailbox")
    });
    assert!(app.mailbox(ARS).is_empty(), "the list left without the replies of the rush");

    // Replies the server receives after the deadline do not count.
    for replier in late {
        app.append_received_at(&replier.reply(), deadline + chrono::Duration::seconds(30)).await;
    }
    proxy.restore();
    let on_time: Vec<&Replier> = early.iter().chain(rush).collect();
    check_counted(&app, &on_time, &late.iter().collect::<Vec<_>>(), Once::Exactly).await;
    let status = app.status_json();
    let basis = status["close"]["basis"].as_str().unwrap_or_default().to_string();
    assert!(basis.contains("read up to UID"), "the close records how far it read: {status}");
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rush_still_being_read_when_the_deadline_passes_counts_in_full() {
    let (app, repliers, deadline) = spawn_crowd(600).await;
    deliver_all(&app, &repliers);
    let clock = Clock::system();
    let daemon = app.start_daemon_on(&clock).await;
    // The deadline passes once the daemon has decided its first batch:
    // most of the rush is fetched after it.
    let store = app.app.store().await;
    let (within, every) = (std::time::Duration::from_secs(120), std::time::Duration::from_millis(5));
    let decided = eventually("a first decision", within, every, || async {
        Some(recorded(&store).await).filter(|&n| n > 0)
    })
    .await;
    advance_past(&clock, deadline, chrono::Duration::seconds(10));
    assert!(
        decided < repliers.len() as i64,
        "the daemon read the whole rush before the deadline: no backlog to test"
    );
    let refs: Vec<&Replier> = repliers.iter().collect();
    check_counted(&app, &refs, &[], Once::Exactly).await;
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refused_login_at_the_deadline_holds_the_list_until_it_is_fixed() {
    let (app, repliers, deadline) = spawn_crowd(40).await;
    deliver_all(&app, &repliers);
    let password = app.app.dir.path().join("imap-password");
    std::fs::write(&password, "not the password").unwrap();
    let clock = Clock::system();
    let daemon = app.start_daemon_on(&clock).await;
    app.wait_for_matching(REFERENT, "the alert that the login is refused", |subject, text| {
        subject.contains("refuse choixbot") && text.contains("mot de passe")
    });
    advance_past(&clock, deadline, chrono::Duration::seconds(10));
    app.wait_for_status("the close held", |json| {
        json["close"]["held"] == true
            && json["close"]["error"].as_str().is_some_and(|e| e.contains("IMAP login failed"))
    })
    .await;
    let held = |subject: &str, _: &str| subject.contains("LA LISTE EST RETENUE");
    app.wait_for_matching(REFERENT, "the alert that the list is held", held);
    let text = app.app.ok(&["status"]);
    assert!(text.contains("THE LIST IS HELD"), "{text}");

    // An hour later, still held: told again.
    clock.advance(chrono::Duration::minutes(61));
    let count_held = || app.mailbox(REFERENT).iter().filter(|raw| held(&subject_and_text(raw).0, "")).count();
    let every = std::time::Duration::from_millis(200);
    eventually("a second alert after an hour", std::time::Duration::from_secs(60), every, || async {
        (count_held() >= 2).then_some(())
    })
    .await;
    assert!(app.mailbox(ARS).is_empty(), "the list left while the mailbox could not be read");

    // The referent fixes the password: the list leaves, once.
    std::fs::write(&password, app.stack.password()).unwrap();
    let refs: Vec<&Replier> = repliers.iter().collect();
    check_counted(&app, &refs, &[], Once::Exactly).await;
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_while_reading_after_the_deadline_and_while_closing_one_list_and_one_answer_each() {
    let (app, repliers, deadline) = spawn_crowd(250).await;
    deliver_all(&app, &repliers);
    // A clock a minute past the deadline, for every daemon started below.
    let offset = (deadline + chrono::Duration::minutes(1) - chrono::Utc::now()).num_seconds().to_string();
    for step in ["after_commit", "close_before_commit", "close_after_commit"] {
        let hooks = [(choixbot::crash_point::VARIABLE, step), (OFFSET_VARIABLE, offset.as_str())];
        let mut child = app.spawn_daemon_process_with(&hooks);
        let status = wait_for_exit(&mut child);
        assert!(!status.success(), "the daemon did not crash at {step}:\n{}", app.daemon_logs());
    }
    let mut child = app.spawn_daemon_process_with(&[(OFFSET_VARIABLE, offset.as_str())]);
    let refs: Vec<&Replier> = repliers.iter().collect();
    check_counted(&app, &refs, &[], Once::ResentAfterDataAllowed).await;
    let decided = app.decided().await;
    assert_eq!(decided.len(), repliers.len(), "a reply was decided twice");
    terminate(&mut child);
}
