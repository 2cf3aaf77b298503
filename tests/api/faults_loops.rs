//! Loops and floods (SPEC §7): automatic mail gets no answer, our own
//! answers coming back are ignored, and a flood of 500 messages from one
//! sender gets at most `mail.max_answers_per_sender_per_hour` answers.

use crate::mail_helpers::*;

const LIMIT: usize = 5;
const FLOOD: usize = 500;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_an_auto_responder_and_our_own_answers_make_no_storm() {
    let deadline = paris_time(chrono::Duration::days(30));
    let app = spawn_mail_app(&deadline).await;
    app.write_config_with(&deadline, &[("mail", &format!("max_answers_per_sender_per_hour = {LIMIT}"))]);
    let [flooder, responder, echoed] = PLAIN_INTERNS;

    // One answer to come back later.
    app.deliver_valid_reply(echoed).await;
    let daemon = app.start_daemon().await;
    let answer = app.wait_for(echoed, 1).remove(0);
    app.wait_until_settled(1).await;

    // An auto-responder that answers everything (our answer included).
    let auto = reply(responder, None, "Réponse automatique : Re: choix", "Je suis absent.\n").replacen(
        "MIME-Version",
        "Auto-Submitted: auto-replied\r\nMIME-Version",
        1,
    );
    app.deliver(responder, &auto);
    // Our own answer, forwarded back to us as it is.
    app.stack.send(echoed, &[BOT], &answer).expect("Postfix accepts the echo");
    // 500 messages from one sender, as fast as Postfix takes them.
    let token = app.token(flooder).await;
    let flood: Vec<String> = (0..FLOOD)
        .map(|n| reply(flooder, Some(&token), "Re: choix", &format!("{}\n", 900_000 + n)))
        .collect();
    tokio::task::block_in_place(|| {
        for raw in &flood {
            app.deliver(flooder, raw);
        }
    });
    app.wait_until_settled(3 + FLOOD as i64).await;
    daemon.stop().await;
    app.wait_for_postfix_idle();

    let rows = app.decided().await;
    let flood_rows = rows.iter().filter(|r| r.intern.as_deref() == Some(flooder)).count();
    assert_eq!(flood_rows, FLOOD, "every message of the flood is recorded");
    let answers = app.mailbox(flooder).len();
    assert!((1..=LIMIT).contains(&answers), "{answers} answers to a flood of {FLOOD} (limit {LIMIT})");
    assert!(app.mailbox(responder).is_empty(), "the auto-responder got an answer");
    assert_eq!(app.mailbox(echoed).len(), 1, "our own answer coming back was answered");
    let ignored = rows.iter().filter(|r| r.verdict == "ignored").count();
    assert!(ignored >= 2, "the auto-reply and the echo are ignored: {:#?}", &rows[..3]);
}

/// Regression: bounces were attributed by their failed address only, so
/// a bounce from a mailbox the intern's address forwards to (not a
/// registered address) was recorded against nobody, and `status` never
/// showed that the intern does not receive our mail. The returned
/// Message-ID now names the intern.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bounce_from_a_forwarding_address_is_attributed_by_the_returned_message_id() {
    let app = spawn_mail_app(&paris_time(chrono::Duration::days(30))).await;
    let [intern, _, _] = PLAIN_INTERNS;
    tokio::task::block_in_place(|| app.app.ok(&["invite"]));
    let invitation = app.wait_for(intern, 1).remove(0);
    let message_id = header(&invitation, "Message-ID").expect("the invitation has a Message-ID");
    let forward = "ancienne.adresse@faculte.example";
    let bounce = format!(
        "From: MAILER-DAEMON@faculte.example (Mail Delivery System)\r\nTo: {BOT}\r\n\
         Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn.1@faculte.example>\r\n\
         Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n\
         --B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n\
         --B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; faculte.example\r\n\r\n\
         Final-Recipient: rfc822; {forward}\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n\
         --B\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: {BOT}\r\nTo: {forward}\r\n\
         Subject: Choix de stage\r\nMessage-ID: {message_id}\r\n\r\n--B--\r\n"
    );
    app.deliver("", &bounce);
    app.wait_for(BOT, 1);

    let daemon = app.start_daemon().await;
    app.wait_until_settled(1).await;
    daemon.stop().await;
    let rows = app.decided().await;
    assert_eq!(rows[0].verdict, "bounce", "{rows:#?}");
    assert_eq!(rows[0].intern.as_deref(), Some(intern), "{rows:#?}");
    assert_eq!(app.status_json()["mail"]["bounced"], 1);
}
