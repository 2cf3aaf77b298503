//! The whole mail loop on the sample session, against a real Dovecot and
//! Postfix: invitations reach the interns, replies in several styles get
//! the right confirmation or rejection, automatic mail gets nothing, and at
//! the deadline the ARS receives exactly one consolidated list whose CSV
//! matches `allocate --json`.

use std::collections::HashMap;

use choixbot::domain::{Intern, Post};

use crate::mail_helpers::*;

/// The sample interns and posts the scenario uses.
struct Cast {
    /// Three interns of one group, by rank.
    first: Intern,
    second: Intern,
    third: Intern,
    /// An intern who will be impersonated with their own token.
    victim: Intern,
    /// An intern whose out-of-office answers the invitation.
    on_leave: Intern,
    /// An intern whose mailbox bounces.
    bounced: Intern,
    /// A post of the first group, and one of another group only.
    own_post: Post,
    foreign_post: Post,
}

async fn cast(app: &MailApp) -> Cast {
    let store = app.app.store().await;
    let interns = store.intern_list().await.unwrap();
    let posts = store.posts().await.unwrap();
    let group = &interns[0].group;
    let mut of_group: Vec<Intern> = interns.iter().filter(|i| &i.group == group).cloned().collect();
    of_group.sort_by_key(|i| i.rank);
    let others: Vec<Intern> =
        interns.iter().filter(|i| &i.group != group && i.proxy_email.is_none()).cloned().collect();
    let own_post = posts.iter().find(|p| &p.group == group).unwrap().clone();
    let foreign_post = posts
        .iter()
        .find(|p| &p.group != group && !posts.iter().any(|q| q.ars_id == p.ars_id && &q.group == group))
        .expect("the sample has a post of another group only")
        .clone();
    let plain: Vec<Intern> = of_group.iter().filter(|i| i.proxy_email.is_none()).cloned().collect();
    Cast {
        first: plain[0].clone(),
        second: plain[1].clone(),
        third: plain[2].clone(),
        victim: others[0].clone(),
        on_leave: others[1].clone(),
        bounced: others[2].clone(),
        own_post,
        foreign_post,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_whole_session_from_invitations_to_the_list_sent_to_the_ars() {
    // An hour away: a reply "received after it" can be appended with that
    // date (Dovecot refuses an INTERNALDATE more than two hours ahead).
    let app = spawn_mail_app(&paris_time(chrono::Duration::hours(1))).await;
    let deadline = app.settings().session.deadline;
    let cast = cast(&app).await;

    // Invitations reach every intern (and the proxy).
    let stdout = app.app.ok(&["invite"]);
    assert!(stdout.contains("newly queued"), "{stdout}");
    let invitation = app.wait_for(cast.first.email.as_str(), 1).remove(0);
    let (subject, text) = subject_and_text(&invitation);
    let token = app.token(cast.first.email.as_str()).await;
    assert!(subject.contains(&format!("réf. {token}")), "{subject}");
    assert!(text.contains(cast.own_post.ars_id.as_str()), "the invitation lists the group's posts:\n{text}");
    assert_eq!(header(&invitation, "Reply-To").unwrap(), format!("choix+{token}@asso.example"));
    // Running invite again sends nothing twice.
    let again = app.app.ok(&["invite"]);
    assert!(again.contains(" 0 newly queued"), "{again}");

    send_replies(&app, &cast).await;
    let clock = choixbot::clock::Clock::system();
    let daemon = app.start_daemon_on(&clock).await;
    check_answers(&app, &cast).await;

    // The deadline passes while the daemon runs: it closes the session.
    clock.advance(deadline + chrono::Duration::seconds(10) - clock.now());
    let list = app.wait_for(ARS, 1).remove(0);
    check_list(&app, &list);
    app.wait_for(REFERENT, 1);
    let result =
        app.wait_for_matching(cast.first.email.as_str(), "the result", |s, _| s.starts_with("Résultat"));
    let (_, text) = subject_and_text(&result);
    assert!(text.contains(cast.own_post.ars_id.as_str()), "the result names the post obtained:\n{text}");

    // A reply received after the deadline gets the "closed" answer, which
    // says when it was received, and changes nothing.
    let late_token = app.token(cast.second.email.as_str()).await;
    let late = reply(cast.second.email.as_str(), Some(&late_token), "Re: choix", "1234\n");
    let received = deadline + chrono::Duration::seconds(20);
    app.append_received_at(&late, received).await;
    let received = choixbot::answer::french::instant_in_words(received, chrono_tz::Europe::Paris);
    app.wait_for_matching(cast.second.email.as_str(), "the closed answer", |s, text| {
        s.starts_with("Re:") && text.contains("après la date limite") && text.contains(&received)
    });
    let store = app.app.store().await;
    assert!(
        !store.wishes().await.unwrap().contains_key(&cast.second.email),
        "a late reply changed the wishes"
    );
    daemon.stop().await;

    // Another start, past the deadline, sends no second list: it answers
    // one more late reply, and the ARS still has one list.
    let daemon = app.start_daemon_on(&clock).await;
    let third = cast.third.email.as_str();
    app.deliver(third, &reply(third, Some(&app.token(third).await), "Re: choix", "1234\n"));
    app.wait_for_matching(third, "the closed answer", |s, text| {
        s.starts_with("Re:") && text.contains("après la clôture")
    });
    daemon.stop().await;
    app.wait_for_postfix_idle();
    assert_eq!(app.mailbox(ARS).len(), 1, "the ARS received the list more than once");
}

async fn send_replies(app: &MailApp, cast: &Cast) {
    // Not the invitation's subject: it carries one intern's reference.
    let subject = "Re: Choix de stage".to_string();
    let own = cast.own_post.ars_id.as_str();
    let foreign = cast.foreign_post.ars_id.as_str();
    // A valid reply, top-posted above the quoted template, as Gmail writes it.
    let first = cast.first.email.as_str();
    let body = format!(
        "1) {own}\n\nMerci !\n\nLe lun. 4 mai 2020 à 09:12, Choix de stage <choix@asso.example> a écrit :\n> 9999 – CHU – 2 postes\n> {foreign} – Ailleurs\n"
    );
    app.deliver(first, &reply(first, Some(&app.token(first).await), &subject, &body));
    // A wrong number, without the token (the sender alone identifies).
    let second = cast.second.email.as_str();
    app.deliver(second, &reply(second, None, &subject, &format!("Choix 1 : 999999\nChoix 2 : {own}\n")));
    // A post of another group.
    let third = cast.third.email.as_str();
    app.deliver(third, &reply(third, Some(&app.token(third).await), &subject, &format!("{foreign}\n")));
    // A stranger.
    app.deliver(
        "inconnu@ailleurs.example",
        &reply("inconnu@ailleurs.example", None, &subject, &format!("{own}\n")),
    );
    // Someone else using the victim's token.
    let victim_token = app.token(cast.victim.email.as_str()).await;
    app.deliver(
        "usurpateur@ailleurs.example",
        &reply("usurpateur@ailleurs.example", Some(&victim_token), &subject, "1\n"),
    );
    // An out-of-office.
    let on_leave = cast.on_leave.email.as_str();
    let auto = reply(on_leave, None, "Réponse automatique : absent", "Je suis absent jusqu'au 12/05.\n")
        .replacen("MIME-Version", "Auto-Submitted: auto-replied\r\nMIME-Version", 1);
    app.deliver(on_leave, &auto);
    // A bounce of the invitation.
    app.deliver("", &bounce_of(cast.bounced.email.as_str()));
}

fn bounce_of(address: &str) -> String {
    format!(
        "From: MAILER-DAEMON@mx.example (Mail Delivery System)\r\nTo: {BOT}\r\nSubject: Undelivered Mail Returned to Sender\r\n\
         Message-ID: <bounce.{address}@mx.example>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n\
         --B\r\nContent-Type: text/plain\r\n\r\nThis is the mail system. Your message could not be delivered.\r\n\
         --B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\n\
         Final-Recipient: rfc822; {address}\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--B--\r\n"
    )
}

async fn check_answers(app: &MailApp, cast: &Cast) {
    let own = cast.own_post.ars_id.as_str();
    let confirmation =
        app.wait_for_matching(cast.first.email.as_str(), "a confirmation", |s, _| s.starts_with("Re:"));
    let (_, text) = subject_and_text(&confirmation);
    assert!(text.contains(own), "the confirmation restates the wishes:\n{text}");
    assert_eq!(header(&confirmation, "Auto-Submitted").as_deref(), Some("auto-replied"));
    assert!(header(&confirmation, "In-Reply-To").is_some());
    // Rejections that name the numbers.
    let foreign = cast.foreign_post.ars_id.as_str();
    app.wait_for_matching(cast.second.email.as_str(), "a rejection naming 999999", |s, t| {
        s.starts_with("Re:") && t.contains("999999")
    });
    app.wait_for_matching(cast.third.email.as_str(), "a rejection naming the foreign post", |s, t| {
        s.starts_with("Re:") && t.contains(foreign)
    });
    // The victim is told their reference was used from another address.
    app.wait_for_matching(cast.victim.email.as_str(), "a warning", |s, t| {
        s.starts_with("Re:") && t.contains("usurpateur@ailleurs.example")
    });
    // Wait until all seven messages are recorded, then check the silences.
    app.wait_for_status("7 messages recorded", |json| json["mail"]["messages"].as_i64() == Some(7)).await;
    assert!(app.mailbox("inconnu@ailleurs.example").is_empty(), "a stranger got an answer");
    assert!(app.mailbox("usurpateur@ailleurs.example").is_empty(), "an impostor got an answer");
    assert_eq!(app.mailbox(cast.on_leave.email.as_str()).len(), 1, "an auto-reply got an answer");
    let status = app.app.ok(&["status", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(json["mail"]["bounced"], 1, "{status}");
    assert_eq!(json["mail"]["valid"], 1, "{status}");
    check_follow_up(app, cast, &json);
}

/// `status` names whom the referent must reach by hand: the intern whose
/// invitation bounced, the unregistered senders (no answer went to them),
/// and who has not replied.
fn check_follow_up(app: &MailApp, cast: &Cast, json: &serde_json::Value) {
    let follow_up = &json["follow_up"];
    let emails = |list: &str, key: &str| -> Vec<String> {
        let items = follow_up[list].as_array().unwrap_or_else(|| panic!("no follow_up.{list} in {json}"));
        items.iter().map(|item| item[key].as_str().unwrap_or("?").to_string()).collect()
    };
    assert_eq!(emails("bounced", "email"), [cast.bounced.email.as_str()], "{json}");
    let mut strangers = emails("from_strangers", "sender");
    strangers.sort();
    assert_eq!(strangers, ["inconnu@ailleurs.example", "usurpateur@ailleurs.example"], "{json}");
    let no_reply = emails("no_reply", "email");
    for quiet in [&cast.victim, &cast.on_leave, &cast.bounced] {
        assert!(no_reply.contains(&quiet.email.to_string()), "{} replied? {json}", quiet.email);
    }
    for replied in [&cast.first, &cast.second, &cast.third] {
        assert!(!no_reply.contains(&replied.email.to_string()), "{} did reply: {json}", replied.email);
    }
    let text = app.app.ok(&["status"]);
    let bounced_line =
        format!("{}: {} <{}>", cast.bounced.rank, cast.bounced.full_name(), cast.bounced.email);
    assert!(text.contains("To follow up:") && text.contains(&bounced_line), "{text}");
    assert!(text.contains("choixbot audit inconnu@ailleurs.example --raw"), "{text}");
}

/// The CSV attached to the ARS email agrees with `allocate --json`.
fn check_list(app: &MailApp, list: &[u8]) {
    let text = list_attachment(list, ".csv");
    let text = String::from_utf8(text).unwrap();
    let text = text.trim_start_matches('\u{feff}');
    assert!(!list_attachment(list, ".xlsx").is_empty());
    let json: serde_json::Value = serde_json::from_str(&app.app.ok(&["allocate", "--json"])).unwrap();
    let mut expected: HashMap<(String, String), Option<String>> = HashMap::new();
    for a in json["assignments"].as_array().unwrap() {
        let key = (a["group"].as_str().unwrap().to_string(), a["rank"].to_string());
        expected.insert(key, a["ars_id"].as_str().map(str::to_string));
    }
    let mut reader = csv::ReaderBuilder::new().delimiter(b';').flexible(true).from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.to_lowercase().contains(name))
            .unwrap_or_else(|| panic!("no {name} column: {headers:?}"))
    };
    let (rank, group, ars) = (column("rang"), column("des"), column("ars"));
    let mut seen = 0;
    for record in reader.records() {
        let record = record.unwrap();
        let key = (record.get(group).unwrap_or("").to_string(), record.get(rank).unwrap_or("").to_string());
        let Some(want) = expected.get(&key) else { continue };
        let got = record.get(ars).filter(|s| !s.is_empty()).map(str::to_string);
        assert_eq!(&got, want, "row {key:?}");
        seen += 1;
    }
    assert_eq!(seen, expected.len(), "every intern is in the list once");
}

/// Regression: a server with the usual self-signed certificate (CA:TRUE,
/// from `openssl req -x509`), given as `ca_file`, was refused with
/// `CaUsedAsEndEntity`, and the daemon retried forever: for IMAP, then, with
/// lettre's TLS, for SMTP (the answers waited in the outbox).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_is_answered_through_a_server_with_its_own_self_signed_certificate() {
    let builder = mailstack::MailStack::builder().self_signed_certificate();
    let app = spawn_mail_app_on(builder, &paris_time(chrono::Duration::days(30))).await;
    // The answers leave over implicit TLS, trusting the same certificate.
    let config = std::fs::read_to_string(&app.app.config).unwrap();
    let plain_smtp = format!("port = {}\nsecurity = \"none\"", app.stack.smtp_port());
    assert!(config.contains(&plain_smtp), "{config}");
    let tls_smtp = format!(
        "port = {}\nsecurity = \"tls\"\nca_file = \"{}\"",
        app.stack.smtps_port(),
        app.stack.ca_pem_path().display()
    );
    std::fs::write(&app.app.config, config.replace(&plain_smtp, &tls_smtp)).unwrap();
    let intern = PLAIN_INTERNS[0];
    app.deliver_valid_reply(intern).await;
    let daemon = app.start_daemon().await;
    app.wait_for_matching(intern, "the confirmation", |subject, text| {
        subject.starts_with("Re:") && text.contains("sont enregistrés")
    });
    daemon.stop().await;
}
