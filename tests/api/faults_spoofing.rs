//! Spoofing (SPEC §6–§7): a forged sender, a token used from another
//! address, altered and upper-cased tokens, DKIM/DMARC failures reported by
//! a trusted server (and forged by anyone else), a Reply-To pointing
//! elsewhere. Answers go only to registered addresses.

use crate::mail_helpers::*;

const TRUSTED: &str = "mx.asso.example";
const STRANGER: &str = "inconnu@ailleurs.example";
const ATTACKER: &str = "pirate@ailleurs.example";

/// `raw` with `header` added at the top.
fn with_header(raw: &str, header: &str) -> String {
    format!("{header}\r\n{raw}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_and_borrowed_identities_are_rejected_and_answers_go_only_to_registered_addresses() {
    let app = spawn_mail_app(&paris_time(chrono::Duration::days(30))).await;
    app.write_config_with(
        &paris_time(chrono::Duration::days(30)),
        &[("security", &format!("trusted_authserv_ids = [\"{TRUSTED}\"]"))],
    );
    let [owner, borrower, upper] = PLAIN_INTERNS;
    let [dkim_failed, foreign_header, reply_to] =
        ["hugo.thomas93@outlook.fr", "mpetit@hotmail.fr", "learobert@yahoo.fr"];
    let post = app.posts_of(owner).await.remove(0);
    let body = format!("{post}\n");
    let owner_token = app.token(owner).await;

    // A forged From with no token: nobody's address.
    app.deliver(STRANGER, &reply(STRANGER, None, "Re: choix", &body));
    // A valid token used from another intern's address.
    app.deliver(borrower, &reply(borrower, Some(&owner_token), "Re: choix", &body));
    // An altered token from a stranger: not recognised, the sender is nobody.
    let altered = format!("choix+{}x@asso.example", owner_token.as_str());
    let raw = reply(ATTACKER, None, "Re: choix", &body).replacen(
        &format!("To: {BOT}"),
        &format!("To: {altered}"),
        1,
    );
    app.deliver(ATTACKER, &raw);
    // An upper-cased token from its owner: tokens are case-insensitive.
    let upper_token = app.token(upper).await.as_str().to_uppercase();
    let raw = reply(upper, None, "Re: choix", &body).replacen(
        &format!("To: {BOT}"),
        &format!("To: choix+{upper_token}@asso.example"),
        1,
    );
    app.deliver(upper, &raw);
    // DKIM/DMARC failed, said by the trusted receiving server.
    let token = app.token(dkim_failed).await;
    let header = format!("Authentication-Results: {TRUSTED}; dkim=fail; dmarc=fail header.from=outlook.fr");
    app.deliver(dkim_failed, &with_header(&reply(dkim_failed, Some(&token), "Re: choix", &body), &header));
    // The same failure "reported" by a foreign authserv-id: ignored.
    let token = app.token(foreign_header).await;
    let header = "Authentication-Results: evil.example; dkim=fail; dmarc=fail";
    app.deliver(
        foreign_header,
        &with_header(&reply(foreign_header, Some(&token), "Re: choix", &body), header),
    );
    // A Reply-To pointing elsewhere: the answer still goes to the intern.
    let token = app.token(reply_to).await;
    let raw =
        with_header(&reply(reply_to, Some(&token), "Re: choix", &body), &format!("Reply-To: {ATTACKER}"));
    app.deliver(reply_to, &raw);
    app.wait_for(BOT, 7);

    let daemon = app.start_daemon().await;
    app.wait_until_settled(7).await;
    daemon.stop().await;
    app.wait_for_postfix_idle();

    let rows = app.decided().await;
    let verdict_of = |email: &str| {
        rows.iter()
            .find(|r| r.intern.as_deref() == Some(email))
            .map(|r| r.verdict.clone())
            .unwrap_or_default()
    };
    let stranger_rows: Vec<_> = rows.iter().filter(|r| r.intern.is_none()).collect();
    assert_eq!(stranger_rows.len(), 2, "the stranger and the attacker are nobody: {rows:#?}");
    assert!(stranger_rows.iter().all(|r| r.verdict == "rejected"), "{rows:#?}");
    assert_eq!(verdict_of(borrower), "rejected", "{rows:#?}");
    assert!(
        rows.iter()
            .any(|r| r.intern.as_deref() == Some(borrower) && r.reasons.contains("token_of_someone_else")),
        "{rows:#?}"
    );
    assert_eq!(verdict_of(upper), "confirmed", "an upper-cased token was refused: {rows:#?}");
    assert_eq!(verdict_of(dkim_failed), "rejected", "a trusted DKIM/DMARC failure was accepted: {rows:#?}");
    assert_eq!(
        verdict_of(foreign_header),
        "confirmed",
        "a foreign Authentication-Results counted: {rows:#?}"
    );
    assert_eq!(verdict_of(reply_to), "confirmed", "{rows:#?}");

    // The owner is warned that their token was used by someone else.
    let warning = app.wait_for_matching(owner, "a warning", |_, text| text.contains(borrower));
    assert!(!warning.is_empty());
    // Nobody outside the registered addresses received anything.
    for outsider in [STRANGER, ATTACKER] {
        assert!(app.mailbox(outsider).is_empty(), "{outsider} received an answer");
    }
    let store = app.app.store().await;
    let wishes = store.wishes().await.unwrap();
    let owner_email = choixbot::domain::Email::parse(owner).unwrap();
    assert!(!wishes.contains_key(&owner_email), "someone else's reply set the owner's wishes");
}
