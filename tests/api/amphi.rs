//! The virtual amphi (SPEC §11), end to end on the real Dovecot and
//! Postfix, with turns of a few seconds: a favourite validated at the
//! call, a choice during the turn, a taken post refused and then an open
//! one validated, an intern who never answers (absent, and the next one
//! called only after the end of that turn), `PLUS TARD`, the list to the
//! ARS once every group is done; and a `kill -9` in the middle of a turn.

use crate::mail_helpers::*;

/// Posts of the amphi's group: 7001 and 7002 one place each, 7003 two.
const POSTS: &str = "N° ARS;DES;Nombre de postes;Hôpital;Service;Ville\n\
    7001;Cardiologie;1;Hôpital Bichat;Cardiologie;Paris\n\
    7002;Cardiologie;1;Hôpital Avicenne;Cardiologie;Bobigny\n\
    7003;Cardiologie;2;Hôpital Lariboisière;Cardiologie;Paris\n";

/// The call list: five interns of one group, in rank order.
const INTERNS: [&str; 5] = [
    "alice.premier@exemple.fr",
    "bruno.second@exemple.fr",
    "chloe.troisieme@exemple.fr",
    "david.quatrieme@exemple.fr",
    "emma.cinquieme@exemple.fr",
];

/// A mail app whose session is an amphi starting `start_in` from now,
/// with turns of `turn_minutes`, on the posts and call list above.
async fn spawn_amphi(start_in: chrono::Duration, turn_minutes: &str) -> MailApp {
    let app = spawn_mail_app(&paris_time(chrono::Duration::days(30))).await;
    let config = std::fs::read_to_string(&app.app.config).unwrap();
    let deadline_line = config.lines().find(|line| line.starts_with("deadline = ")).unwrap().to_string();
    let config = config.replace(&deadline_line, "mode = \"amphi\"")
        + &format!("\n[amphi]\nstart = \"{}\"\nturn_minutes = {turn_minutes}\n", paris_time(start_in));
    std::fs::write(&app.app.config, config).unwrap();
    let posts = app.app.write("amphi-posts.csv", POSTS);
    let mut interns = String::from("Rang;Nom;Prénom;DES;Courriel\n");
    for (index, email) in INTERNS.iter().enumerate() {
        let name = email.split('.').next().unwrap();
        interns.push_str(&format!("{};{};{};Cardiologie;{email}\n", index + 1, name.to_uppercase(), name));
    }
    let interns = app.app.write("amphi-interns.csv", interns);
    app.app.ok(&["import", "posts", posts.to_str().unwrap()]);
    app.app.ok(&["import", "interns", interns.to_str().unwrap()]);
    app
}

/// Sends `body` from `intern` (with their reference).
async fn send(app: &MailApp, intern: &str, body: &str) {
    let token = app.token(intern).await;
    app.deliver(intern, &reply(intern, Some(&token), "Re: Choix de stage", body));
}

/// Waits for the message to `intern` whose text contains `what`, and
/// returns its text.
fn wait_text(app: &MailApp, intern: &str, what: &str) -> String {
    let raw = app.wait_for_matching(intern, what, |_, text| text.contains(what));
    subject_and_text(&raw).1
}

/// How many messages to `intern` contain `what`.
fn count_text(app: &MailApp, intern: &str, what: &str) -> usize {
    app.mailbox(intern).iter().filter(|raw| subject_and_text(raw).1.contains(what)).count()
}

/// (round, called_at, ends_at, settled_at, outcome, ars_id, how) of
/// `intern`'s turns.
type TurnRow = (i64, i64, i64, Option<i64>, Option<String>, Option<String>, Option<String>);

async fn turns_of(app: &MailApp, intern: &str) -> Vec<TurnRow> {
    use sqlx::Row;
    let store = app.app.store().await;
    let rows = sqlx::query(
        "SELECT round, called_at, ends_at, settled_at, outcome, ars_id, how FROM amphi_turns WHERE email = $1 ORDER BY round",
    )
    .bind(intern)
    .fetch_all(store.pool())
    .await
    .unwrap();
    rows.iter()
        .map(|row| (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4), row.get(5), row.get(6)))
        .collect()
}

/// The rounds whose nearness `intern` was told of.
async fn warned_rounds(app: &MailApp, intern: &str) -> Vec<i64> {
    let store = app.app.store().await;
    sqlx::query_scalar("SELECT round FROM amphi_warned WHERE email = $1 ORDER BY round")
        .bind(intern)
        .fetch_all(store.pool())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_amphi_runs_every_kind_of_turn_and_sends_the_list_once_every_group_is_done() {
    let app = spawn_amphi(chrono::Duration::seconds(-60), "0.25").await;
    let [alice, bruno, chloe, david, emma] = INTERNS;
    // Before the amphi reads anything: Alice's favourite, Chloé's PLUS TARD.
    send(&app, alice, "7001").await;
    send(&app, chloe, "PLUS TARD").await;
    app.wait_for(BOT, 2);
    let daemon = app.start_daemon().await;

    // Alice: her favourite is validated at the call, and she is told.
    let validated = wait_text(&app, alice, "CHOIX VALIDÉ");
    assert!(validated.contains("n° 7001") && validated.contains("dès l'appel"), "{validated}");
    let noted = wait_text(&app, chloe, "après le dernier interne de votre DES");
    assert!(noted.contains("C'est noté"), "{noted}");

    // Bruno: called with what is left (7001 is gone), chooses during his turn.
    let call = wait_text(&app, bruno, "C'EST VOTRE TOUR");
    assert!(call.contains("n° 7002") && call.contains("n° 7003") && !call.contains("n° 7001"), "{call}");
    assert!(call.contains("heure de Paris"), "the end of the turn is given in Paris time:\n{call}");
    send(&app, bruno, "7002").await;
    assert!(wait_text(&app, bruno, "CHOIX VALIDÉ").contains("n° 7002"));

    // David was told his turn is near (Bruno and Chloé ahead of him).
    wait_text(&app, david, "Votre tour approche");

    // David: a taken post is refused with what is still open; then an open one.
    wait_text(&app, david, "C'EST VOTRE TOUR");
    // STATUT, while David chooses: Emma is next, and sees what is open.
    send(&app, emma, "STATUT").await;
    let standing = wait_text(&app, emma, "pas encore appelé(e)");
    assert!(standing.contains("1 interne avant vous") && standing.contains("n° 7003"), "{standing}");
    assert!(!standing.contains("n° 7002 –"), "7002 is taken:\n{standing}");
    send(&app, david, "7001").await;
    let refused = wait_text(&app, david, "n'est PAS validée");
    assert!(refused.contains("n° 7003") && refused.contains("Postes encore ouverts"), "{refused}");
    send(&app, david, "7003").await;
    assert!(wait_text(&app, david, "CHOIX VALIDÉ").contains("n° 7003"));

    // Emma never answers: absent at the end of her turn, and only then is
    // Chloé called again.
    wait_text(&app, emma, "C'EST VOTRE TOUR");
    let absent = wait_text(&app, emma, "sans réponse valide");
    assert!(absent.contains("absent(e)"), "{absent}");
    let again = wait_text(&app, chloe, "C'EST VOTRE TOUR");
    assert!(again.contains("rappel après « PLUS TARD »") && again.contains("n° 7003"), "{again}");
    let emma_turn = turns_of(&app, emma).await;
    let chloe_turns = turns_of(&app, chloe).await;
    assert_eq!(emma_turn.len(), 1);
    assert_eq!(emma_turn[0].4.as_deref(), Some("absent"));
    assert!(
        emma_turn[0].3.unwrap() >= emma_turn[0].2,
        "Emma was made absent before her turn ended: {emma_turn:?}"
    );
    assert_eq!(chloe_turns.len(), 2, "{chloe_turns:?}");
    assert!(chloe_turns[1].1 >= emma_turn[0].2, "Chloé was called before Emma's turn ended");

    // Chloé chooses the last place; the amphi is over: the list leaves, once.
    send(&app, chloe, "7003").await;
    assert!(wait_text(&app, chloe, "CHOIX VALIDÉ").contains("n° 7003"));
    let list =
        app.wait_for_matching(ARS, "the consolidated list", |subject, _| subject.contains("Liste des choix"));
    let csv = String::from_utf8(list_attachment(&list, "csv")).unwrap();
    for (intern, expected) in [(alice, "7001"), (bruno, "7002"), (chloe, "7003"), (david, "7003")] {
        let name = intern.split('.').next().unwrap().to_uppercase();
        let line =
            csv.lines().find(|line| line.contains(&name)).unwrap_or_else(|| panic!("{name} not in\n{csv}"));
        assert!(line.contains(expected), "{name} should have {expected}: {line}");
    }
    let emma_line = csv.lines().find(|line| line.contains("EMMA")).unwrap();
    assert!(emma_line.to_lowercase().contains("absent"), "{emma_line}");
    wait_text(&app, emma, "vacant");

    // Chloé asked PLUS TARD: she is not told her first turn is near, only
    // her second.
    assert_eq!(warned_rounds(&app, chloe).await, [2], "Chloé's warnings");
    assert_eq!(warned_rounds(&app, emma).await, [1], "Emma's warnings");
    // allocate --json gives what the turns validated.
    let allocation: serde_json::Value = serde_json::from_str(&app.app.ok(&["allocate", "--json"])).unwrap();
    let of = |email: &str| {
        let all = allocation["assignments"].as_array().unwrap();
        let entry = all.iter().find(|a| a["email"] == email).unwrap().clone();
        (entry["status"].as_str().unwrap().to_string(), entry["ars_id"].as_str().map(str::to_string))
    };
    assert_eq!(of(chloe), ("assigned".to_string(), Some("7003".to_string())));
    assert_eq!(of(emma), ("absent".to_string(), None));
    let status = app.status_json();
    assert_eq!(status["amphi"]["finished"], true, "{status}");
    assert_eq!(status["amphi"]["groups"][0]["settled"], 6, "five interns, Chloé twice: {status}");
    let audit = app.app.ok(&["audit", david]);
    assert!(audit.contains("Amphi turns:") && audit.contains("validated n° 7003"), "{audit}");
    daemon.stop().await;
    app.wait_for_postfix_idle();
    assert_eq!(app.mailbox(ARS).len(), 1, "the list is sent once");
    for intern in INTERNS {
        let calls = count_text(&app, intern, "C'EST VOTRE TOUR");
        assert!(calls <= 2, "{intern} was called {calls} times");
    }
    assert_eq!(
        count_text(&app, alice, "C'EST VOTRE TOUR"),
        0,
        "Alice's favourite made her turn instantaneous"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_9_in_the_middle_of_a_turn_resumes_it_with_the_time_it_had_left() {
    let app = spawn_amphi(chrono::Duration::seconds(-60), "0.5").await;
    let [alice, bruno, ..] = INTERNS;
    let mut daemon = app.spawn_daemon_process(None);
    wait_text(&app, alice, "C'EST VOTRE TOUR");
    let before = turns_of(&app, alice).await;
    daemon.kill().unwrap();
    daemon.wait().unwrap();

    // While no daemon runs, Alice answers within her turn.
    send(&app, alice, "7002").await;
    app.wait_for(BOT, 1);
    let mut daemon = app.spawn_daemon_process(None);
    assert!(wait_text(&app, alice, "CHOIX VALIDÉ").contains("n° 7002"));
    wait_text(&app, bruno, "C'EST VOTRE TOUR");
    let after = turns_of(&app, alice).await;
    assert_eq!(after.len(), 1, "one turn, resumed, not a second call: {after:?}");
    assert_eq!((after[0].1, after[0].2), (before[0].1, before[0].2), "the turn kept its call and its end");
    assert_eq!(after[0].2 - after[0].1, 30_000);
    assert_eq!((after[0].4.as_deref(), after[0].5.as_deref()), (Some("chosen"), Some("7002")));
    terminate(&mut daemon);
    app.wait_for_postfix_idle();
    assert_eq!(count_text(&app, alice, "C'EST VOTRE TOUR"), 1, "called once across the restart");
    assert_eq!(count_text(&app, alice, "CHOIX VALIDÉ"), 1, "validated once");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_referents_page_shows_who_is_choosing_and_follows_the_amphi_live() {
    use crate::web::{free_port, wait_for_port, Browser, PASSWORD};
    let app = spawn_amphi(chrono::Duration::seconds(-60), "5").await;
    let [alice, bruno, ..] = INTERNS;
    let port = free_port();
    let password = app.app.write("web-password", PASSWORD);
    let config = std::fs::read_to_string(&app.app.config).unwrap()
        + &format!("\n[web]\nlisten = \"127.0.0.1:{port}\"\npassword_file = \"{}\"\n", password.display());
    std::fs::write(&app.app.config, config).unwrap();
    let mut daemon = app.spawn_daemon_process_with(&[]);
    wait_for_port(port, &format!("choixbot run's web page\n{}", app.daemon_logs())).await;
    let base = format!("http://127.0.0.1:{port}");
    let browser = Browser::start().await;
    browser.log_in(&base).await;
    let row = browser.wait_for_text("table.amphi tbody tr", "Alice choosing", |t| t.contains(alice)).await;
    assert!(row.contains("Cardiologie") && row.contains("heure de Paris"), "{row}");
    // Alice chooses: the page follows without a reload.
    send(&app, alice, "7001").await;
    browser
        .wait_for_text("table.amphi tbody tr", "Bruno choosing, without a reload", |t| t.contains(bruno))
        .await;
    browser.stop().await;
    terminate(&mut daemon);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_referent_pauses_resumes_and_skips_from_the_command_line() {
    let app = spawn_amphi(chrono::Duration::seconds(-60), "0.5").await;
    let [alice, bruno, chloe, ..] = INTERNS;
    let daemon = app.start_daemon().await;
    wait_text(&app, alice, "C'EST VOTRE TOUR");
    let before = turns_of(&app, alice).await;

    assert!(app.app.ok(&["amphi", "pause"]).contains("paused"));
    assert!(app.app.ok(&["status"]).contains("PAUSED since"));
    assert!(app.app.ok(&["amphi", "pause"]).contains("already paused"));
    assert!(app.app.ok(&["amphi", "resume"]).contains("got back"));
    let after = turns_of(&app, alice).await;
    assert!(after[0].2 > before[0].2, "the pause moved the end of Alice's turn on: {before:?} → {after:?}");
    assert!(app.status_json()["amphi"]["paused_since"].is_null());

    // Skipped while choosing, and before being called.
    app.app.ok(&["amphi", "skip", bruno]);
    app.app.ok(&["amphi", "skip", alice]);
    wait_text(&app, chloe, "C'EST VOTRE TOUR");
    for intern in [alice, bruno] {
        let turns = turns_of(&app, intern).await;
        assert_eq!(
            (turns[0].4.as_deref(), turns[0].6.as_deref()),
            (Some("absent"), Some("skipped")),
            "{intern}"
        );
    }
    assert_eq!(count_text(&app, bruno, "C'EST VOTRE TOUR"), 0, "Bruno was skipped before his call");
    let over = app.app.choixbot(&["amphi", "skip", alice]);
    assert_eq!(over.status.code(), Some(2), "a settled turn cannot be skipped");
    let unknown = app.app.choixbot(&["amphi", "skip", "personne@exemple.fr"]);
    assert_eq!(unknown.status.code(), Some(2));
    daemon.stop().await;
}
