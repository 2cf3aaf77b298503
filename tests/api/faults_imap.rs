//! IMAP faults (SPEC §7): Dovecot restarted while the daemon idles, a
//! server without IDLE, MOVE or UIDPLUS, and a UIDVALIDITY change (the
//! mailbox recreated with its old messages): nothing lost, nothing decided
//! twice.

use crate::mail_helpers::*;

/// One confirmed row and one answer per intern.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dovecot_restarted_during_idle_the_daemon_comes_back() {
    let mut app = spawn_mail_app(&paris_time(chrono::Duration::days(30))).await;
    let [before, after, _] = PLAIN_INTERNS;
    app.deliver_valid_reply(before).await;
    let daemon = app.start_daemon().await;
    app.wait_until_settled(1).await;
    app.wait_for_empty_inbox();
    // The daemon now waits in IDLE.
    tokio::task::block_in_place(|| app.stack.restart_dovecot()).expect("Dovecot restarts");
    app.deliver_valid_reply(after).await;
    app.settle_and_stop(daemon, 2).await;
    app.check_each_answered_once(&[before, after]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_idle_move_or_uidplus_is_served_once() {
    let builder = mailstack::MailStack::builder().imap_capability(mailstack::BASIC_IMAP_CAPABILITY);
    let app = spawn_mail_app_on(builder, &paris_time(chrono::Duration::days(30))).await;
    for intern in PLAIN_INTERNS {
        app.deliver_valid_reply(intern).await;
    }
    app.wait_for(BOT, 3);
    let daemon = app.start_daemon().await;
    app.wait_until_settled(3).await;
    // A later reply is found by polling (no IDLE).
    app.deliver_valid_reply("hugo.thomas93@outlook.fr").await;
    app.wait_until_settled(4).await;
    // Without UIDPLUS the messages are copied away and flagged \Deleted
    // (an EXPUNGE could remove another client's deletions).
    let every = std::time::Duration::from_millis(250);
    eventually(
        "4 messages copied away and the INBOX's all flagged",
        std::time::Duration::from_secs(60),
        every,
        || async {
            let processed = app.stack.messages_in(BOT, "choixbot-processed").len();
            let inbox = app.stack.messages_in(BOT, "INBOX").len();
            (processed == 4 && app.stack.flagged_deleted_in(BOT, "INBOX") == inbox).then_some(())
        },
    )
    .await;
    daemon.stop().await;
    app.wait_for_postfix_idle();
    app.check_each_answered_once(&PLAIN_INTERNS).await;
    app.check_each_answered_once(&["hugo.thomas93@outlook.fr"]).await;
    let processed = app.stack.messages_in(BOT, "choixbot-processed");
    assert_eq!(processed.len(), 4, "the messages were not copied to the processed folder");
    let left = app.stack.messages_in(BOT, "INBOX").len();
    assert_eq!(app.stack.flagged_deleted_in(BOT, "INBOX"), left, "a processed message was left unflagged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_uidvalidity_change_decides_nothing_twice() {
    let mut app = spawn_mail_app(&paris_time(chrono::Duration::days(30))).await;
    let [first, second, later] = PLAIN_INTERNS;
    app.deliver_valid_reply(first).await;
    app.deliver_valid_reply(second).await;
    app.wait_for(BOT, 2);
    let daemon = app.start_daemon().await;
    app.wait_until_settled(2).await;
    app.wait_for_empty_inbox();
    daemon.stop().await;
    let store = app.app.store().await;
    let old = store.position("INBOX").await.unwrap().expect("a recorded position").uidvalidity;

    // The mailbox is recreated: Dovecot's UID list and indexes are gone and
    // the decided messages are back in the INBOX.
    let maildir = app.stack.dir().join("mail").join(BOT).join("Maildir");
    for entry in std::fs::read_dir(&maildir).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with("dovecot-uidlist") || name.starts_with("dovecot.index") {
            std::fs::remove_file(entry.path()).unwrap();
        }
    }
    for raw in app.stack.messages_in(BOT, "choixbot-processed") {
        app.drop_into_inbox(&raw);
    }
    tokio::task::block_in_place(|| app.stack.restart_dovecot()).expect("Dovecot restarts");
    app.deliver_valid_reply(later).await;
    app.wait_for(BOT, 5);

    let daemon = app.start_daemon().await;
    app.settle_and_stop(daemon, 5).await;
    let new = store.position("INBOX").await.unwrap().unwrap().uidvalidity;
    assert_ne!(old, new, "the test did not change the UIDVALIDITY");
    app.check_each_answered_once(&PLAIN_INTERNS).await;
    let rows = app.decided().await;
    let ignored =
        rows.iter().filter(|r| r.verdict == "ignored" && r.reasons.contains("already processed")).count();
    assert_eq!(ignored, 2, "{rows:#?}");
}
