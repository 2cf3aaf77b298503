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
