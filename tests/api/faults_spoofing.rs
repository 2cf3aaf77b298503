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

/// The call list with `removed` taken off and `moved`'s address replaced
/// by `new_address`, as the referent would re-import it.
fn corrected_call_list(removed: &str, moved: &str, new_address: &str) -> String {
    let original = std::fs::read_to_string(crate::helpers::samples_dir().join("interns.csv")).unwrap();
    assert!(original.contains(removed) && original.contains(moved), "the sample changed");
    original
        .lines()
        .filter(|line| !line.contains(removed))
        .map(|line| line.replace(moved, new_address))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Tokens do not expire with time; they expire with the call list. A
/// token issued to an address that a re-import took off the list (the
/// intern was removed, or their address was corrected) is refused with its
/// own reason, even while the daemon was already running at the import.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_of_addresses_taken_off_the_call_list_have_expired() {
    let app = spawn_mail_app(&paris_time(chrono::Duration::days(30))).await;
    let [removed, moved, witness] = PLAIN_INTERNS;
    let new_address = "nouvelle.adresse@exemple.fr";
    let (removed_token, moved_token) = (app.token(removed).await, app.token(moved).await);
    let daemon = app.start_daemon().await;
    app.deliver_valid_reply(witness).await;
    app.wait_until_settled(1).await;

    // The referent fixes the call list while the daemon runs.
    let file = app.app.write("interns-corrected.csv", corrected_call_list(removed, moved, new_address));
    tokio::task::block_in_place(|| app.app.ok(&["import", "interns", file.to_str().unwrap()]));

    let body = format!("{}\n", app.posts_of(witness).await.remove(0));
    // The removed intern answers their own invitation.
    app.deliver(removed, &reply(removed, Some(&removed_token), "Re: choix", &body));
    // The corrected intern answers the invitation sent to the old address…
    app.deliver(new_address, &reply(new_address, Some(&moved_token), "Re: choix", &body));
    app.wait_until_settled(3).await;
    // …and then writes from the new address without a token: that stands.
    app.deliver(new_address, &reply(new_address, None, "Re: choix", &body));
    app.wait_until_settled(4).await;
    daemon.stop().await;
    app.wait_for_postfix_idle();

    let rows = app.decided().await;
    let expired: Vec<_> = rows.iter().filter(|r| r.reasons.contains("expired_token")).collect();
    assert_eq!(expired.len(), 2, "{rows:#?}");
    assert!(expired.iter().all(|r| r.verdict == "rejected"), "{rows:#?}");
    assert_eq!(expired[0].intern, None, "the removed intern is nobody now: {rows:#?}");
    assert_eq!(expired[1].intern.as_deref(), Some(new_address), "{rows:#?}");
    assert_eq!(rows[3].verdict, "confirmed", "the corrected address was not taken up: {rows:#?}");

    let explained = app.wait_for_matching(new_address, "the expired-token rejection", |_, text| {
        text.contains("n'est plus valable")
    });
    assert!(!explained.is_empty());
    assert_eq!(app.mailbox(new_address).len(), 2, "one rejection and one confirmation");
    assert!(app.mailbox(removed).is_empty(), "the removed intern's address got an answer");
}
