//! Commands by email (SPEC §11), end to end on the real Dovecot and
//! Postfix: each command and its refusals, the proxy designated, accepted,
//! used and revoked by email, and the displacement notice, sent once,
//! debounced, not to the intern who caused it, never after the deadline.

use crate::mail_helpers::*;

/// Sends `body` under `subject` from `from` (with `token` in the plus
/// address, if any), waits for the answer threaded under it, checks that
/// its text contains `expect`, and returns it.
async fn ask(
    app: &MailApp,
    from: &str,
    token: Option<&choixbot::domain::Token>,
    subject: &str,
    body: &str,
    expect: &str,
) -> Vec<u8> {
    let raw = reply(from, token, subject, body);
    app.deliver(from, &raw);
    let id = header(raw.as_bytes(), "Message-ID").unwrap();
    // The answer is the one threaded under this very message: an earlier
    // answer may contain the same words.
    let answer =
        app.wait_for_raw(from, expect, |raw| header(raw, "In-Reply-To").as_deref() == Some(id.as_str()));
    let text = text_of(&answer);
    assert!(text.contains(expect), "the answer lacks {expect:?}:\n{text}");
    assert_eq!(header(&answer, "Auto-Submitted").as_deref(), Some("auto-replied"));
    answer
}

fn text_of(raw: &[u8]) -> String {
    subject_and_text(raw).1
}

/// The `allocate --json` entry of `email`.
fn assignment(app: &MailApp, email: &str) -> serde_json::Value {
    let json: serde_json::Value = serde_json::from_str(&app.app.ok(&["allocate", "--json"])).unwrap();
    json["assignments"].as_array().unwrap().iter().find(|a| a["email"] == email).cloned().unwrap()
}

/// When each notice to `intern` was queued (ms, by the daemon's clock).
async fn notices_queued_at(app: &MailApp, intern: &str) -> Vec<i64> {
    use sqlx::Row;
    let store = app.app.store().await;
    let rows = sqlx::query(
        "SELECT created_at FROM outbox WHERE purpose = 'notice' AND intern_email = $1 ORDER BY id",
    )
    .bind(intern)
    .fetch_all(store.pool())
    .await
    .unwrap();
    rows.iter().map(|row| row.get::<i64, _>(0)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statut_postes_aide_and_annuler_answer_the_intern_and_a_stranger_gets_nothing() {
    let app = spawn_mail_app(&paris_time(chrono::Duration::days(30))).await;
    let intern = PLAIN_INTERNS[0];
    let token = app.token(intern).await;
    let posts = app.posts_of(intern).await;
    let daemon = app.start_daemon().await;

    ask(
        &app,
        intern,
        Some(&token),
        "Re: Choix de stage",
        &format!("{}\n{}\n", posts[0], posts[1]),
        "sont enregistrés",
    )
    .await;

    let status = text_of(&ask(&app, intern, Some(&token), "STATUT", "", "VŒUX ENREGISTRÉS").await);
    assert!(
        status.contains(&format!("1. n° {}", posts[0])) && status.contains(&format!("2. n° {}", posts[1])),
        "{status}"
    );
    assert!(
        status.contains(&format!(
            "RÉSULTAT PROVISOIRE (si la session était close maintenant) :\n  le poste n° {}",
            posts[0]
        )),
        "{status}"
    );
    assert!(status.contains("Date limite"), "{status}");

    // In the body, in lower case, after a greeting: POSTES.
    let listing =
        text_of(&ask(&app, intern, Some(&token), "Re: Choix de stage", "Bonjour,\npostes\n", "poste").await);
    for post in &posts {
        assert!(listing.contains(&format!("n° {post}")), "POSTES does not list {post}:\n{listing}");
    }
    assert!(listing.contains("POSSIBLE à votre rang – votre vœu n° 1"), "{listing}");
    assert!(
        listing.contains("1 place libre sur 2"),
        "the first post's place taken by the intern is not counted:\n{listing}"
    );

    let help =
        text_of(&ask(&app, intern, Some(&token), "Re: aide", "", "PROCURATION adresse@exemple.fr").await);
    assert!(help.contains("NOTIFS NON") && help.contains("ANNULER"), "{help}");

    // A stranger's command gets no answer at all.
    let stranger = "inconnu@exemple.fr";
    app.deliver(stranger, &reply(stranger, None, "STATUT", ""));

    let cancelled = text_of(
        &ask(&app, intern, Some(&token), "Re: Choix de stage", "ANNULER mes vœux", "sont retirés").await,
    );
    assert!(
        cancelled.contains(&format!("n° {}", posts[0])) && cancelled.contains("absent(e)"),
        "{cancelled}"
    );
    assert_eq!(assignment(&app, intern)["status"], "absent");

    app.wait_until_settled(6).await;
    assert!(app.mailbox(stranger).is_empty(), "a stranger's command was answered");
    let decided = app.decided().await;
    assert_eq!(decided.iter().filter(|row| row.verdict == "command").count(), 4, "{decided:?}");
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn procuration_is_requested_accepted_used_and_revoked_by_email() {
    let app = spawn_mail_app(&paris_time(chrono::Duration::days(30))).await;
    let (intern, other) = (PLAIN_INTERNS[0], PLAIN_INTERNS[1]);
    let friend = "ami.proche@exemple.fr";
    let token = app.token(intern).await;
    let posts = app.posts_of(intern).await;
    let daemon = app.start_daemon().await;

    ask(
        &app,
        intern,
        Some(&token),
        "Re: Choix de stage",
        &format!("PROCURATION {friend}"),
        "a été envoyée à",
    )
    .await;
    let request =
        app.wait_for_matching(friend, "the proxy request", |s, _| s.starts_with("Demande de procuration"));
    let reply_to = header(&request, "Reply-To").unwrap();
    let request_token = choixbot::domain::Token::parse(
        reply_to.trim_start_matches("choix+").trim_end_matches("@asso.example"),
    )
    .unwrap();
    assert_ne!(request_token, token, "the request must carry a reference of its own");
    assert!(text_of(&request).contains("ACCEPTE"));
    app.wait_for_status("the request pending", |json| json["proxies"][0]["pending"] == friend).await;
    let held: serde_json::Value = serde_json::from_str(&app.app.ok(&["export-person", friend])).unwrap();
    assert_eq!(held["proxies_by_email"][0]["intern"], intern, "{held:#}");
    assert_eq!(held["proxies_by_email"][0]["asked"], friend, "{held:#}");

    // ACCEPTE from an address that was not asked: a stranger gets nothing,
    // a registered intern is told there is nothing to accept.
    let stranger = "pas.demande@exemple.fr";
    app.deliver(stranger, &reply(stranger, Some(&request_token), "Re: Demande de procuration", "ACCEPTE"));
    let other_token = app.token(other).await;
    ask(&app, other, Some(&other_token), "Re: Choix", "ACCEPTE", "Aucune demande de procuration").await;

    // The friend accepts: both are told, and the friend chooses for the intern.
    let accepted = ask(
        &app,
        friend,
        Some(&request_token),
        "Re: Demande de procuration",
        "Oui, j'accepte.",
        "Vous êtes désormais la procuration",
    )
    .await;
    assert_eq!(header(&accepted, "Reply-To").unwrap(), format!("choix+{token}@asso.example"));
    app.wait_for_matching(intern, "the acceptance", |_, text| text.contains(&format!("{friend} a accepté")));
    ask(&app, friend, Some(&token), "Re: Procuration", &format!("{}\n", posts[2]), "sont enregistrés").await;
    assert_eq!(assignment(&app, intern)["ars_id"], posts[2].as_str());

    // One person holds one proxy: another intern cannot designate the friend.
    ask(
        &app,
        other,
        Some(&other_token),
        "Re: Choix",
        &format!("PROCURATION {friend}"),
        "une seule procuration",
    )
    .await;

    // Revoked: the friend is told, and can no longer choose.
    ask(&app, intern, Some(&token), "PROCURATION AUCUNE", "", "est révoquée").await;
    app.wait_for_matching(friend, "the end of the proxy", |_, text| {
        text.contains("Vous n'êtes plus la procuration")
    });
    app.deliver(friend, &reply(friend, Some(&token), "Re: Procuration", &format!("{}\n", posts[0])));
    app.wait_for_matching(intern, "the warning", |_, text| {
        text.contains(&format!("utilisée depuis l'adresse {friend}"))
    });
    assert_eq!(assignment(&app, intern)["ars_id"], posts[2].as_str(), "a revoked proxy changed the wishes");

    let audit = app.app.ok(&["audit", intern]);
    assert!(audit.contains("Proxy by email: no proxy (revoked by email)"), "{audit}");
    let held: serde_json::Value = serde_json::from_str(&app.app.ok(&["export-person", intern])).unwrap();
    let by_email = &held["proxies_by_email"][0];
    assert_eq!(
        (&by_email["proxy"], &by_email["replaces_call_list"]),
        (&serde_json::Value::Null, &true.into())
    );
    assert_eq!(held["notices"]["muted"], false, "{held:#}");
    let status = app.app.ok(&["status"]);
    assert!(status.contains("Proxies by email (PROCURATION)"), "{status}");
    app.wait_until_settled(8).await;
    assert!(app.mailbox(stranger).is_empty(), "an ACCEPTE from an address not asked was answered");
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_displaced_intern_is_told_once_then_debounced_and_never_after_the_deadline() {
    let deadline_text = paris_time(chrono::Duration::days(30));
    let app = spawn_mail_app(&deadline_text).await;
    let deadline = app.settings().session.deadline;
    // Ranks 1 to 4 of one group; 1204, 1211 and 1315 have two places each.
    let [first, second, third] = PLAIN_INTERNS;
    let fourth = "hugo.thomas93@outlook.fr";
    let mut tokens = std::collections::HashMap::new();
    for intern in [first, second, third, fourth] {
        tokens.insert(intern, app.token(intern).await);
    }
    let clock = choixbot::clock::Clock::system();
    let daemon = app.start_daemon_on(&clock).await;
    let choose = |intern: &'static str, post: &'static str| {
        let raw = reply(intern, Some(&tokens[intern]), "Re: Choix de stage", &format!("{post}\n"));
        app.deliver(intern, &raw);
        app.wait_for_matching(intern, "the confirmation", move |_, text| {
            text.contains(&format!("1. n° {post}")) && text.contains("sont enregistrés")
        })
    };
    let is_notice = |subject: &str, _: &str| subject.starts_with("Votre poste provisoire a changé");

    choose(third, "1204");
    choose(first, "1204");
    choose(second, "1204"); // the last place: the third intern is displaced
    clock.advance(chrono::Duration::seconds(61));
    let notice = app.wait_for_matching(third, "the displacement notice", is_notice);
    let text = text_of(&notice);
    assert!(text.contains("a pris le poste n° 1204"), "{text}");
    assert!(text.contains("aucun de vos vœux n'est obtenable maintenant"), "{text}");
    assert_eq!(header(&notice, "Reply-To").unwrap(), format!("choix+{}@asso.example", tokens[third]));

    // Displaced again within notice_minutes: told once the 30 minutes are up.
    choose(third, "1211");
    choose(first, "1211");
    choose(second, "1211");
    clock.advance(chrono::Duration::seconds(61));
    app.wait_for_status("a notice pending", |json| json["notices"]["pending"] == 1).await;
    clock.advance(chrono::Duration::minutes(30));
    app.wait_for_status("the second notice sent", |json| json["notices"]["sent"] == 2).await;
    let sent = notices_queued_at(&app, third).await;
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(sent[1] - sent[0] >= 30 * 60 * 1000, "the second notice was not debounced: {sent:?}");

    // Displaced just before the deadline: no notice after it.
    choose(fourth, "1315");
    choose(first, "1315");
    choose(second, "1315");
    app.wait_for_status("the fourth intern's notice pending", |json| json["notices"]["pending"] == 1).await;
    clock.advance(deadline + chrono::Duration::seconds(10) - clock.now());
    app.wait_for(ARS, 1);
    app.wait_for_matching(fourth, "the result", |s, _| s.starts_with("Résultat"));
    app.wait_for_status("nothing pending", |json| json["notices"]["pending"] == 0).await;

    for intern in [first, second, fourth] {
        let notices = app.mailbox(intern).into_iter().filter(|raw| {
            let (subject, text) = subject_and_text(raw);
            is_notice(&subject, &text)
        });
        assert_eq!(notices.count(), 0, "{intern} got a displacement notice");
    }
    assert_eq!(app.status_json()["notices"]["sent"], 2);
    daemon.stop().await;
}

/// What `notices` holds for `intern`: (muted, the post lost, if pending).
async fn notice_row(app: &MailApp, intern: &str) -> Option<(i64, Option<String>)> {
    use sqlx::Row;
    let store = app.app.store().await;
    let row = sqlx::query("SELECT muted, lost_ars_id FROM notices WHERE email = $1")
        .bind(intern)
        .fetch_optional(store.pool())
        .await
        .unwrap();
    row.map(|row| (row.get(0), row.get(1)))
}

/// The batch's rows are written together before it commits
/// (`store::BatchRows`), and a command writes straight away: the writes
/// must still land in the order of the replies. Five replies waiting when
/// the daemon starts are one batch: the third intern is displaced, then
/// turns the notices off; the first intern writes twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_decided_in_one_batch_are_written_in_their_order() {
    let app = spawn_mail_app(&paris_time(chrono::Duration::days(30))).await;
    let [first, second, third] = PLAIN_INTERNS;
    let mut tokens = std::collections::HashMap::new();
    for intern in PLAIN_INTERNS {
        tokens.insert(intern, app.token(intern).await);
    }
    // 1204 has two places: the second intern's reply displaces the third.
    let replies = [
        (third, "1204\n"),
        (first, "1204\n"),
        (second, "1204\n"),
        (third, "NOTIFS NON\n"),
        (first, "1204\n1211\n"),
    ];
    for (count, (intern, body)) in replies.iter().enumerate() {
        app.deliver(intern, &reply(intern, Some(&tokens[intern]), "Re: Choix de stage", body));
        // One at a time into the INBOX, so that their UIDs keep this order.
        app.wait_for(BOT, count + 1);
    }
    let daemon = app.start_daemon().await;
    app.wait_until_settled(replies.len() as i64).await;

    // Displaced, then muted: nothing is pending for the third intern.
    assert_eq!(notice_row(&app, third).await, Some((1, None)));
    // The first intern's last reply is their wishes; both are in the history.
    let store = app.app.store().await;
    let wishes = store.wishes().await.unwrap();
    let first_wishes: Vec<&str> =
        wishes[&choixbot::domain::Email::parse(first).unwrap()].iter().map(|id| id.as_str()).collect();
    assert_eq!(first_wishes, ["1204", "1211"]);
    use sqlx::Row;
    let history: Vec<String> =
        sqlx::query("SELECT ars_ids FROM wish_history WHERE email = $1 AND source = 'email' ORDER BY id")
            .bind(first)
            .fetch_all(store.pool())
            .await
            .unwrap()
            .iter()
            .map(|row| row.get(0))
            .collect();
    assert_eq!(history, ["1204", "1204 1211"]);
    // The messages were recorded in the order of their UIDs, with the ids
    // the answers refer to.
    let answered: Vec<(i64, i64)> = sqlx::query(
        "SELECT m.uid, o.answers_message FROM outbox o JOIN messages m ON m.id = o.answers_message \
         WHERE o.purpose <> 'notice' ORDER BY m.id",
    )
    .fetch_all(store.pool())
    .await
    .unwrap()
    .iter()
    .map(|row| (row.get(0), row.get(1)))
    .collect();
    assert_eq!(answered.len(), replies.len(), "{answered:?}");
    assert!(answered.windows(2).all(|pair| pair[0].0 < pair[1].0), "{answered:?}");
    daemon.stop().await;
}
