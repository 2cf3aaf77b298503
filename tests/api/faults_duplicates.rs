//! Duplicates (SPEC §7): the same message delivered twice is decided once
//! and answered once; a message without a Message-ID is still decided and
//! answered; two different messages sharing one Message-ID are both
//! decided and both answered (they are told apart by their content hash).

use crate::mail_helpers::*;

fn without_message_id(raw: &str) -> String {
    raw.lines().filter(|l| !l.starts_with("Message-ID:")).collect::<Vec<_>>().join("\n")
}

fn with_message_id(raw: &str, id: &str) -> String {
    raw.lines()
        .map(|l| if l.starts_with("Message-ID:") { format!("Message-ID: {id}\r") } else { l.to_string() })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_are_decided_once_and_lookalikes_both_answered() {
    let app = spawn_mail_app(&paris_time(chrono::Duration::days(30))).await;
    let [twice, anonymous, sharing] = PLAIN_INTERNS;
    let sharing_too = "hugo.thomas93@outlook.fr";

    // The same message, delivered twice (two copies in the INBOX).
    let raw = app.deliver_valid_reply(twice).await;
    app.deliver(twice, &raw);
    // A reply without a Message-ID.
    let post = app.posts_of(anonymous).await.remove(0);
    let token = app.token(anonymous).await;
    app.deliver(
        anonymous,
        &without_message_id(&reply(anonymous, Some(&token), "Re: choix", &format!("{post}\n"))),
    );
    // Two different replies that share one Message-ID.
    for intern in [sharing, sharing_too] {
        let post = app.posts_of(intern).await.remove(0);
        let token = app.token(intern).await;
        let raw = reply(intern, Some(&token), "Re: choix", &format!("{post}\n"));
        app.deliver(intern, &with_message_id(&raw, "<shared@clients.example>"));
    }
    app.wait_for(BOT, 5);

    let daemon = app.start_daemon().await;
    app.wait_until_settled(5).await;
    // A third copy, once the first is long decided (another fetch).
    app.deliver(twice, &raw);
    app.wait_until_settled(6).await;
    app.wait_for_empty_inbox();
    daemon.stop().await;
    app.wait_for_postfix_idle();

    let rows = app.decided().await;
    let of = |email: &str| rows.iter().filter(|r| r.intern.as_deref() == Some(email)).collect::<Vec<_>>();
    let copies = rows.iter().filter(|r| r.message_id == rows[0].message_id).collect::<Vec<_>>();
    assert_eq!(copies.len(), 3, "{rows:#?}");
    assert_eq!(copies[0].verdict, "confirmed", "{rows:#?}");
    assert_eq!(copies[1].verdict, "ignored", "the copy in the same fetch was decided again: {rows:#?}");
    assert_eq!(copies[2].verdict, "ignored", "the later copy was decided again: {rows:#?}");
    assert!(copies[2].reasons.contains("already processed"), "{rows:#?}");
    assert_eq!(app.received_ids(twice).len(), 1, "the duplicate was answered");

    let anonymous_rows = of(anonymous);
    assert_eq!(anonymous_rows.len(), 1, "{rows:#?}");
    assert_eq!(
        (anonymous_rows[0].message_id.as_deref(), anonymous_rows[0].verdict.as_str()),
        (None, "confirmed")
    );
    assert_eq!(app.received_ids(anonymous).len(), 1, "the reply without Message-ID was not answered once");

    for intern in [sharing, sharing_too] {
        let decided = of(intern);
        assert_eq!(decided.len(), 1, "{rows:#?}");
        assert_eq!(decided[0].verdict, "confirmed", "{rows:#?}");
        assert_eq!(app.received_ids(intern).len(), 1, "{intern} was not answered once");
    }
    assert_ne!(
        app.received_ids(sharing),
        app.received_ids(sharing_too),
        "the two answers share a Message-ID"
    );

    // `audit` shows all three copies of the twice-sent reply in order, with
    // their decisions and the one answer; `--raw N` dumps the stored bytes.
    let audit = app.app.ok(&["audit", twice]);
    let received: Vec<&str> = audit.lines().filter(|l| l.contains(" received #")).collect();
    assert_eq!(received.len(), 3, "{audit}");
    assert!(received[0].contains("confirmed") && received[2].contains("ignored"), "{audit}");
    assert_eq!(audit.lines().filter(|l| l.contains(" sent ") && l.contains("[sent]")).count(), 1, "{audit}");
    let number = received[0].split('#').nth(1).unwrap().split_whitespace().next().unwrap();
    let dumped = app.app.choixbot(&["audit", twice, "--raw", number]);
    assert!(dumped.status.success());
    // The stored bytes are what Dovecot delivered: the reply under the
    // servers' trace headers.
    let dumped = String::from_utf8_lossy(&dumped.stdout).replace("\r\n", "\n");
    assert!(dumped.contains(&raw.replace("\r\n", "\n")), "--raw {number} printed:\n{dumped}");
}
