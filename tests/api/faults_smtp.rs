//! SMTP faults (SPEC §7): a 450 is retried until it goes through, a 5xx
//! marks the answer failed and shows it in `status --json`, a server down
//! and back loses nothing, and the consolidated list queued while the
//! server is down is still sent exactly once. The retry schedule is
//! shortened through `[smtp] retry_first_seconds` / `retry_max_seconds`.

use crate::mail_helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_450_is_retried_until_delivered_and_a_554_is_failed_in_status() {
    let [deferred, rejected, normal] = PLAIN_INTERNS;
    let builder = mailstack::MailStack::builder().defer_recipient(deferred).reject_recipient(rejected);
    let deadline = paris_time(chrono::Duration::days(30));
    let mut app = spawn_mail_app_on(builder, &deadline).await;
    app.write_config_with(&deadline, &FAST_RETRY);
    for intern in PLAIN_INTERNS {
        app.deliver_valid_reply(intern).await;
    }
    app.wait_for(BOT, 3);
    let daemon = app.start_daemon().await;

    app.wait_for(normal, 1);
    app.wait_for_outbox(deferred, "the deferred answer retried", |rows| {
        rows.len() == 1 && rows[0].0 == "pending" && rows[0].1 >= 2
    })
    .await;
    let deferred_rows = app.outbox_to(deferred).await;
    assert!(deferred_rows[0].2.as_deref().unwrap_or("").contains("450"), "{deferred_rows:?}");
    app.wait_for_status("the 554 in the failed list", |json| {
        json["failed"]
            .as_array()
            .is_some_and(|f| f.iter().any(|row| row[1].as_str().unwrap_or("").contains(rejected)))
    })
    .await;
    let failed = app.outbox_to(rejected).await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].0, "failed", "a 554 was not failed: {failed:?}");

    app.allow_recipient(deferred);
    app.wait_for(deferred, 1);
    app.wait_for_outbox(deferred, "the deferred answer sent", |rows| rows.iter().all(|r| r.0 == "sent"))
        .await;
    daemon.stop().await;
    app.wait_for_postfix_idle();
    assert_eq!(app.mailbox(deferred).len(), 1, "the deferred answer arrived more than once");
    assert!(app.mailbox(rejected).is_empty());
    assert_eq!(app.mailbox(normal).len(), 1);
}

/// A session on the shortened retry schedule, a valid reply from each of
/// [`PLAIN_INTERNS`] waiting in the mailbox, and the SMTP server stopped.
async fn replies_waiting_with_smtp_down() -> MailApp {
    let deadline = paris_time(chrono::Duration::days(30));
    let mut app = spawn_mail_app(&deadline).await;
    app.write_config_with(&deadline, &FAST_RETRY);
    for intern in PLAIN_INTERNS {
        app.deliver_valid_reply(intern).await;
    }
    app.wait_for(BOT, PLAIN_INTERNS.len());
    app.wait_for_postfix_idle();
    app.stack.stop_smtp();
    app
}

/// How many attempts the default retry schedule makes in an hour.
const HOUR_OF_ATTEMPTS: i64 = 7;

#[test]
fn the_default_schedule_makes_seven_attempts_in_an_hour() {
    let policy = choixbot::outbox::worker::RetryPolicy::default();
    // The attempt made at `at`, then the wait that follows its failure.
    let mut at = std::time::Duration::ZERO;
    let mut attempts = 0;
    while at < std::time::Duration::from_secs(3600) {
        attempts += 1;
        at += policy.delay(attempts - 1);
    }
    assert_eq!(attempts, HOUR_OF_ATTEMPTS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_smtp_server_down_then_back_loses_nothing() {
    let mut app = replies_waiting_with_smtp_down().await;
    let daemon = app.start_daemon().await;
    // An hour down at the default schedule (30 s, doubling, capped at
    // 30 min) is 7 failed attempts, the last ones at the cap. The same 7
    // attempts on the shortened schedule (1 s, capped at 2 s) take 11 s.
    for intern in PLAIN_INTERNS {
        app.wait_for_outbox(intern, "seven attempts while the server is down", |rows| {
            rows.len() == 1 && rows[0].0 == "pending" && rows[0].1 >= HOUR_OF_ATTEMPTS
        })
        .await;
    }
    app.stack.start_smtp().expect("Postfix starts again");
    app.wait_until_settled(3).await;
    daemon.stop().await;
    app.wait_for_postfix_idle();
    for intern in PLAIN_INTERNS {
        assert_eq!(app.mailbox(intern).len(), 1, "{intern} did not get exactly one answer");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_queued_while_smtp_is_down_is_sent_exactly_once() {
    let mut app = replies_waiting_with_smtp_down().await;
    // The replies are decided; their answers wait in the outbox.
    let daemon = app.start_daemon().await;
    app.wait_for_status("the replies decided", |json| json["mail"]["messages"] == 3).await;
    daemon.stop().await;
    // The deadline passes while the server is still down: the next start
    // closes the session and queues the list behind the answers.
    let past = paris_time(-chrono::Duration::minutes(1));
    app.write_config_with(&past, &FAST_RETRY);
    let daemon = app.start_daemon().await;
    app.wait_for_status("the session closed", |json| json["closed_at"].is_string()).await;
    app.wait_for_outbox(ARS, "the list retried", |rows| rows.len() == 1 && rows[0].1 >= 1).await;
    // A restart while everything is still queued.
    daemon.stop().await;
    let daemon = app.start_daemon().await;
    app.stack.start_smtp().expect("Postfix starts again");
    app.wait_for(ARS, 1);
    app.wait_for_status("the outbox drained", |json| outbox_count(json, "pending") == 0).await;
    daemon.stop().await;
    let daemon = app.start_daemon().await;
    app.wait_for_status("the outbox still empty", |json| outbox_count(json, "pending") == 0).await;
    daemon.stop().await;
    app.wait_for_postfix_idle();
    assert_eq!(app.mailbox(ARS).len(), 1, "the ARS received the list more than once");
    let rows = app.decided().await;
    assert!(rows.iter().all(|r| r.verdict == "confirmed"), "{rows:#?}");
    for intern in PLAIN_INTERNS {
        let subjects: Vec<String> = app.mailbox(intern).iter().map(|raw| subject_and_text(raw).0).collect();
        assert_eq!(subjects.iter().filter(|s| s.starts_with("Re:")).count(), 1, "{intern}: {subjects:?}");
    }
}
