//! Bad input through the running daemon (SPEC §7): malformed MIME, an
//! unknown charset, a 25 MB attachment, 100 levels of nesting, binary
//! garbage, an empty message and a reply with 50,000 numbers. Each gets a
//! recorded outcome, the daemon keeps running, and the next normal reply is
//! still answered.

use crate::mail_helpers::*;

fn headers(from: &str, content_type: &str) -> String {
    format!(
        "From: {from}\r\nTo: {BOT}\r\nSubject: Re: choix\r\nMessage-ID: <{}@bad.example>\r\nMIME-Version: 1.0\r\nContent-Type: {content_type}\r\n",
        rand_id()
    )
}

fn rand_id() -> u64 {
    use rand::Rng;
    rand::thread_rng().gen()
}

fn malformed_mime(from: &str) -> String {
    // A boundary that never appears, a part with no end, a broken header.
    format!(
        "{}\r\n--other\r\nContent-Type: text/plain; charset=\"utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n%%%not base64%%%\r\n--other\r\nContent-Type",
        headers(from, "multipart/mixed; boundary=\"missing\"")
    )
}

fn unknown_charset(from: &str, post: &str) -> String {
    format!("{}\r\n{post}\r\n", headers(from, "text/plain; charset=x-klingon-9"))
}

fn huge_attachment(from: &str, post: &str) -> String {
    let line = "A".repeat(76);
    let lines = 25 * 1024 * 1024 / 77;
    let mut body = String::with_capacity(26 * 1024 * 1024);
    for _ in 0..lines {
        body.push_str(&line);
        body.push_str("\r\n");
    }
    format!(
        "{}\r\n--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{post}\r\n--B\r\nContent-Type: application/octet-stream\r\n\
         Content-Disposition: attachment; filename=\"scan.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{body}--B--\r\n",
        headers(from, "multipart/mixed; boundary=\"B\"")
    )
}

fn deep_nesting(from: &str, post: &str) -> String {
    let mut text = format!("{}\r\n", headers(from, "multipart/mixed; boundary=\"b0\""));
    for level in 0..100 {
        text.push_str(&format!(
            "--b{level}\r\nContent-Type: multipart/mixed; boundary=\"b{}\"\r\n\r\n",
            level + 1
        ));
    }
    text.push_str(&format!("--b100\r\nContent-Type: text/plain\r\n\r\n{post}\r\n--b100--\r\n"));
    for level in (0..100).rev() {
        text.push_str(&format!("--b{level}--\r\n"));
    }
    text
}

fn binary_garbage() -> Vec<u8> {
    use rand::RngCore;
    let mut bytes = vec![0u8; 64 * 1024];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes
}

fn fifty_thousand_numbers(from: &str, token: &choixbot::domain::Token) -> String {
    let numbers: Vec<String> = (0..50_000).map(|n| format!("{}", 100_000 + n)).collect();
    reply(from, Some(token), "Re: choix", &numbers.join("\n"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_recorded_outcome_and_the_next_reply_is_answered() {
    let app = spawn_mail_app(&paris_time(chrono::Duration::days(30))).await;
    let senders = [
        "camille.martin@gmail.com",
        "lbernard@orange.fr",
        "dubois.chloe@free.fr",
        "hugo.thomas93@outlook.fr",
    ];
    let [malformed, charset, huge, nested] = senders;
    let [numbers, normal] = ["learobert@yahoo.fr", "nathan.richard@aphp.fr"];
    let post = app.posts_of(normal).await.remove(0);

    app.deliver(malformed, &malformed_mime(malformed));
    app.deliver(charset, &unknown_charset(charset, &post));
    app.deliver(huge, &huge_attachment(huge, &post));
    app.deliver(nested, &deep_nesting(nested, &post));
    app.deliver(numbers, &fifty_thousand_numbers(numbers, &app.token(numbers).await));
    app.wait_for(BOT, 5);
    app.drop_into_inbox(&binary_garbage());
    app.drop_into_inbox(b"");
    let daemon = app.start_daemon().await;
    app.wait_until_settled(7).await;

    // The daemon still runs: a normal reply after all that is answered.
    app.deliver_valid_reply(normal).await;
    app.wait_until_settled(8).await;
    app.wait_for_matching(normal, "the confirmation", |s, _| s.starts_with("Re:"));
    daemon.stop().await;

    let rows = app.decided().await;
    assert_eq!(rows.len(), 8, "{rows:#?}");
    assert!(rows.iter().all(|r| !r.verdict.is_empty()), "{rows:#?}");
    let verdict_of =
        |email: &str| rows.iter().find(|r| r.intern.as_deref() == Some(email)).map(|r| r.verdict.as_str());
    assert_eq!(verdict_of(normal), Some("confirmed"), "{rows:#?}");
    // The readable choices in odd wrappings are still understood.
    for sender in [charset, huge, nested] {
        assert_eq!(verdict_of(sender), Some("confirmed"), "{sender}: {rows:#?}");
    }
    assert_eq!(verdict_of(numbers), Some("rejected"), "50,000 unknown numbers: {rows:#?}");
    let reasons_of =
        |email: &str| rows.iter().find(|r| r.intern.as_deref() == Some(email)).unwrap().reasons.clone();
    assert!(reasons_of(numbers).contains("too_many_numbers"), "{rows:#?}");
    assert_eq!(verdict_of(malformed), Some("rejected"), "{rows:#?}");
    assert!(reasons_of(malformed).contains("no_number_found"), "{rows:#?}");
    // The garbage and the empty message: nobody's, with the parser's note.
    let unreadable: Vec<_> = rows.iter().filter(|r| r.intern.is_none()).collect();
    assert_eq!(unreadable.len(), 2, "{rows:#?}");
    for row in unreadable {
        assert_eq!(row.verdict, "rejected", "{row:#?}");
        assert!(row.reasons.contains("unknown_sender") && row.reasons.contains("notes"), "{row:#?}");
    }
    app.wait_for_postfix_idle();
    let (_, text) = subject_and_text(&app.mailbox(numbers)[0]);
    assert!(text.len() < 200_000, "the answer to 50,000 numbers is {} bytes long", text.len());
}

/// NUL bytes in the Message-ID, References and Subject, which PostgreSQL
/// cannot hold in a text column. They never reach choixbot as NULs:
/// Dovecot replaces them on FETCH (IMAP forbids NUL outside BINARY), and
/// the parser reads the result as any odd byte. This pins that down: the
/// reply is decided, answered without a NUL, and the next one too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nul_bytes_in_headers_do_not_block_the_mailbox() {
    let app = spawn_mail_app(&paris_time(chrono::Duration::days(30))).await;
    let [poisoned, next, _] = PLAIN_INTERNS;
    app.deliver_valid_reply(next).await;
    app.wait_for(BOT, 1);
    let post = app.posts_of(poisoned).await.remove(0);
    let raw = format!(
        "From: {poisoned}\r\nTo: {BOT}\r\nSubject: Re: choix \0 de stage\r\nMessage-ID: <ab\0cd@gmail.com>\r\n\
         References: <x\0y@asso.example>\r\nDate: Mon, 16 Nov 2026 10:00:00 +0100\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{post}\r\n"
    );
    app.drop_into_inbox(raw.as_bytes());
    let daemon = app.start_daemon().await;
    app.wait_until_settled(2).await;
    app.deliver_valid_reply(next).await;
    app.wait_until_settled(3).await;
    daemon.stop().await;
    app.wait_for_postfix_idle();

    let rows = app.decided().await;
    let of = |email: &str| rows.iter().filter(|r| r.intern.as_deref() == Some(email)).count();
    assert_eq!(of(poisoned), 1, "{rows:#?}");
    assert_eq!(of(next), 2, "{rows:#?}");
    assert!(rows.iter().all(|r| r.verdict == "confirmed"), "{rows:#?}");
    let answer = app.wait_for(poisoned, 1).remove(0);
    assert!(!answer.contains(&0), "a NUL byte went out in the answer");
}

/// One message that fails to be processed, whatever the reason (here the
/// `CHOIXBOT_FAIL_ON` test hook), in the same fetch as good replies.
/// Before, the whole batch failed again at every attempt and no reply was
/// ever answered; now the good ones are decided, the bad one is kept as
/// `unprocessable` (raw bytes, error, no answer) and shown in `status`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_unprocessable_message_does_not_hold_up_the_others() {
    const MARKER: &str = "FAIL-HERE-5e1c";
    let app = spawn_mail_app(&paris_time(chrono::Duration::days(30))).await;
    let [bad, good, later] = PLAIN_INTERNS;
    let post = app.posts_of(bad).await.remove(0);
    app.deliver(bad, &reply(bad, Some(&app.token(bad).await), "Re: choix", &format!("{post}\n{MARKER}\n")));
    app.deliver_valid_reply(good).await;
    app.wait_for(BOT, 2);
    let mut daemon = app.spawn_daemon_process_with(&[(choixbot::crash_point::FAIL_VARIABLE, MARKER)]);
    app.wait_until_settled(2).await;
    app.deliver_valid_reply(later).await;
    app.wait_until_settled(3).await;
    app.wait_for_empty_inbox();
    terminate(&mut daemon);
    app.wait_for_postfix_idle();

    let rows = app.decided().await;
    let verdict_of = |sender: &str| {
        let row = rows.iter().find(|r| r.intern.as_deref() == Some(sender));
        row.map(|r| r.verdict.clone()).unwrap_or_default()
    };
    assert_eq!(verdict_of(good), "confirmed", "{rows:#?}");
    assert_eq!(verdict_of(later), "confirmed", "{rows:#?}");
    let unprocessable: Vec<_> = rows.iter().filter(|r| r.verdict == "unprocessable").collect();
    assert_eq!(unprocessable.len(), 1, "{rows:#?}");
    assert!(unprocessable[0].reasons.contains(choixbot::crash_point::FAIL_VARIABLE), "{rows:#?}");
    assert!(app.mailbox(bad).is_empty(), "an unprocessable message got an answer");
    assert_eq!(app.mailbox(good).len(), 1);
    assert_eq!(app.status_json()["mail"]["unprocessable"], 1);
    assert!(app.app.ok(&["status"]).contains("1 message(s) could not be processed"));
    // Kept for the referent: in the audit of its sender, and on the server.
    assert!(app.app.ok(&["audit", bad]).contains("unprocessable"));
    assert_eq!(app.stack.messages_in(BOT, "choixbot-processed").len(), 3);
}
