//! Personal data (SPEC §11): owner-only files, a person's export, the
//! retention and the purge, and a log that holds no secret.

use std::os::unix::fs::PermissionsExt;

use choixbot::clock::{Clock, OFFSET_VARIABLE};
use sqlx::Row;

use crate::helpers::{describe, test_database};
use crate::mail_helpers::*;

/// Words only the first reply holds: how the tests look for its bytes.
const MARKER: &str = "Zanzibar-Quetzalcoatl-4417";

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

/// A session with one confirmed reply carrying [`MARKER`] in its
/// signature; returns the intern and the daemon's clock, the daemon still
/// running.
async fn session_with_a_reply(app: &MailApp) -> (&'static str, Clock, RunningDaemon) {
    let intern = PLAIN_INTERNS[0];
    let post = app.posts_of(intern).await.remove(0);
    let body = format!("{post}\n\n-- \nCamille, {MARKER}\n");
    app.deliver(intern, &reply(intern, Some(&app.token(intern).await), "Re: Choix de stage", &body));
    let clock = Clock::system();
    let daemon = app.start_daemon_on(&clock).await;
    app.wait_until_settled(1).await;
    (intern, clock, daemon)
}

/// The database files that hold [`MARKER`] (SQLite only).
fn files_holding_the_marker(app: &MailApp) -> Vec<String> {
    ["choixbot.db", "choixbot.db-wal", "choixbot.db-shm"]
        .iter()
        .filter(|name| {
            let bytes = std::fs::read(app.app.dir.path().join(name)).unwrap_or_default();
            bytes.windows(MARKER.len()).any(|w| w == MARKER.as_bytes())
        })
        .map(|name| name.to_string())
        .collect()
}

/// Bytes of received messages and of sent ones left in the database.
async fn bodies_left(app: &MailApp) -> (i64, i64) {
    let store = app.app.store().await;
    let row = sqlx::query(
        "SELECT (SELECT COALESCE(SUM(LENGTH(raw)), 0) FROM messages), \
         (SELECT COALESCE(SUM(LENGTH(raw)), 0) FROM outbox WHERE status <> 'pending')",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    (row.get(0), row.get(1))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_holding_personal_data_are_readable_by_their_owner_only() {
    let app = spawn_mail_app(&paris_time(chrono::Duration::hours(1))).await;
    let (_, _, daemon) = session_with_a_reply(&app).await;
    daemon.stop().await;
    let dir = app.app.dir.path();
    let export = dir.join("liste.csv");
    app.app.ok(&["export", "--output", export.to_str().unwrap()]);
    assert_eq!(mode(&export), 0o600, "the exported list");
    let dry_run = dir.join("a-relire");
    app.app.ok(&["invite", "--dry-run", "--output", dry_run.to_str().unwrap()]);
    assert_eq!(mode(&dry_run), 0o700, "the dry-run directory");
    for entry in std::fs::read_dir(&dry_run).unwrap() {
        assert_eq!(mode(&entry.unwrap().path()), 0o600, "a dry-run invitation");
    }
    if test_database() == "sqlite" {
        for name in ["choixbot.db", "choixbot.db-wal", "choixbot.db-shm"] {
            let path = dir.join(name);
            if path.exists() {
                assert_eq!(mode(&path), 0o600, "{name}");
            }
        }
        assert_eq!(mode(&dir.join("choixbot.db")), 0o600);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_database_made_readable_by_all_is_narrowed_at_the_next_command() {
    // SQLite whatever the suite's database: the files are the point.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("choixbot.db");
    let url = format!("sqlite://{}", db.display());
    let store = choixbot::store::Store::connect(&url).await.unwrap();
    assert_eq!(mode(&db), 0o600, "a new database");
    store.close().await;
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let store = choixbot::store::Store::connect(&url).await.unwrap();
    assert_eq!(mode(&db), 0o600, "a database found readable by all");
    for journal in ["choixbot.db-wal", "choixbot.db-shm"] {
        let path = dir.path().join(journal);
        if path.exists() {
            assert_eq!(mode(&path), 0o600, "{journal}");
        }
    }
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_person_gives_everything_held_about_one_intern() {
    let app = spawn_mail_app(&paris_time(chrono::Duration::hours(1))).await;
    let (intern, _, daemon) = session_with_a_reply(&app).await;
    daemon.stop().await;
    let json: serde_json::Value = serde_json::from_str(&app.app.ok(&["export-person", intern])).unwrap();
    assert_eq!(json["intern"]["email"], intern, "{json:#}");
    assert!(json["intern"]["last_name"].is_string() && json["intern"]["rank"].is_u64(), "{json:#}");
    let post = app.posts_of(intern).await.remove(0);
    assert_eq!(json["wishes"], serde_json::json!([post]), "{json:#}");
    assert_eq!(json["wish_history"][0]["source"], "email", "{json:#}");
    assert!(json["result"]["status"].is_string(), "{json:#}");
    let messages = json["messages"].as_array().unwrap();
    let received = messages.iter().find(|m| m["direction"] == "received").expect("the reply");
    assert_eq!(received["decision"], "confirmed");
    assert!(received["text"].as_str().unwrap().contains(MARKER), "{received:#}");
    assert!(received["received_at"].is_string(), "the server's reception time: {received:#}");
    let sent = messages.iter().find(|m| m["direction"] == "sent" && m["purpose"] == "confirmation");
    assert!(sent.is_some_and(|m| m["text"].as_str().unwrap().contains(&post)), "{json:#}");

    let unknown = app.app.choixbot(&["export-person", "personne@nulle-part.example"]);
    assert_eq!(unknown.status.code(), Some(2), "{}", describe(&unknown));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("nothing is held about"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_now_is_refused_before_the_close_and_after_it_leaves_no_byte_of_a_reply() {
    let app = spawn_mail_app(&paris_time(chrono::Duration::hours(1))).await;
    let (intern, _, daemon) = session_with_a_reply(&app).await;
    daemon.stop().await;

    let refused = app.app.choixbot(&["purge", "--now"]);
    assert_eq!(refused.status.code(), Some(2), "{}", describe(&refused));
    assert!(bodies_left(&app).await.0 > 0, "a refused purge deleted something");
    let early = app.app.ok(&["purge"]);
    assert!(early.contains("not closed"), "{early}");

    app.app.ok(&["close"]);
    if test_database() == "sqlite" {
        assert!(
            !files_holding_the_marker(&app).is_empty(),
            "the test looks for bytes that were never written"
        );
    }
    let purged = app.app.ok(&["purge", "--now"]);
    assert!(purged.contains("Deleted the raw bytes of 1 received message"), "{purged}");
    assert_eq!(bodies_left(&app).await, (0, 0), "bodies left after the purge");
    if test_database() == "sqlite" {
        assert_eq!(
            files_holding_the_marker(&app),
            Vec::<String>::new(),
            "the reply's bytes are still on disk"
        );
    }
    // The list and the audit still work.
    let list = app.app.dir.path().join("liste.csv");
    app.app.ok(&["export", "--output", list.to_str().unwrap()]);
    let post = app.posts_of(intern).await.remove(0);
    assert!(std::fs::read_to_string(&list).unwrap().contains(&post), "the list lost the intern's post");
    let audit = app.app.ok(&["audit", intern]);
    assert!(audit.contains("confirmed") && audit.contains("server "), "{audit}");
    let raw = app.app.choixbot(&["audit", intern, "--raw", "1"]);
    assert_eq!(raw.status.code(), Some(2), "{}", describe(&raw));
    assert!(String::from_utf8_lossy(&raw.stderr).contains("deleted after the retention"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_purges_once_the_retention_has_passed_since_the_close() {
    let deadline = paris_time(chrono::Duration::hours(1));
    let app = spawn_mail_app(&deadline).await;
    app.write_config_with(&deadline, &[("session", "retention_days = 30")]);
    let (_, clock, daemon) = session_with_a_reply(&app).await;
    let deadline = app.settings().session.deadline;
    clock.advance(deadline + chrono::Duration::seconds(10) - clock.now());
    app.wait_for(ARS, 1);
    app.wait_until_settled(1).await;
    assert!(bodies_left(&app).await.0 > 0, "purged before the retention");
    let kept = app.app.ok(&["purge"]);
    assert!(kept.contains("keeps the emails until"), "{kept}");
    clock.advance(chrono::Duration::days(31));
    let every = std::time::Duration::from_millis(200);
    eventually("the daemon to purge the bodies", std::time::Duration::from_secs(60), every, || async {
        (bodies_left(&app).await == (0, 0)).then_some(())
    })
    .await;
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_log_holds_no_password_and_no_token_at_any_level() {
    let deadline = paris_time(chrono::Duration::hours(1));
    let app = spawn_mail_app(&deadline).await;
    // SMTP with authentication over TLS, so that its password is used too.
    let smtp = format!(
        "[smtp]\nhost = \"{}\"\nport = {}\nsecurity = \"tls\"\nusername = \"{BOT}\"\npassword_file = \"{}\"\nca_file = \"{}\"\n",
        app.stack.host(),
        app.stack.smtps_port(),
        app.app.dir.path().join("imap-password").display(),
        app.stack.ca_pem_path().display()
    );
    let config = std::fs::read_to_string(&app.app.config).unwrap();
    let (before, _) = config.split_once("[smtp]").unwrap();
    std::fs::write(&app.app.config, format!("{before}{smtp}")).unwrap();
    app.app.ok(&["invite"]);
    let mut tokens = Vec::new();
    for intern in PLAIN_INTERNS {
        tokens.push(app.token(intern).await.to_string());
        app.deliver_valid_reply(intern).await;
    }
    // A reply with another intern's token, and one to a stranger's.
    app.deliver(
        PLAIN_INTERNS[1],
        &reply(PLAIN_INTERNS[1], Some(&app.token(PLAIN_INTERNS[0]).await), "Re: x", "1\n"),
    );
    let deadline = app.settings().session.deadline;
    let offset = (deadline + chrono::Duration::minutes(1) - chrono::Utc::now()).num_seconds().to_string();
    let mut child =
        app.spawn_daemon_process_with(&[(OFFSET_VARIABLE, offset.as_str()), ("RUST_LOG", "trace")]);
    app.wait_for(ARS, 1);
    app.wait_until_settled(4).await;
    terminate(&mut child);
    let log = app.daemon_logs();
    assert!(log.contains("decided"), "the log was captured at trace level:\n{log}");
    let secrets = std::iter::once(app.stack.password().to_string()).chain(tokens);
    for secret in secrets {
        assert!(!log.contains(&secret), "the log holds the secret {secret:?}");
    }
}
