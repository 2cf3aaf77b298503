//! `allocate`, `status` and `export` through the binary: the JSON shapes of
//! SPEC §9 and the consolidated list of SPEC §8.

use crate::helpers::{describe, spawn_app, TestApp};

async fn sample_session() -> TestApp {
    let app = spawn_app().await;
    app.import_sample("posts", "posts.csv");
    app.import_sample("interns", "interns.csv");
    app.import_sample("choices", "choices.csv");
    app
}

#[tokio::test]
async fn allocate_json_has_the_contract_shape() {
    let app = sample_session().await;
    let stdout = app.ok(&["allocate", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("allocate --json prints JSON");
    let assignments = json["assignments"].as_array().expect("an assignments array");
    let store = app.store().await;
    assert_eq!(assignments.len(), store.intern_list().await.unwrap().len(), "one entry per intern");
    for a in assignments {
        let status = a["status"].as_str().unwrap();
        assert!(["assigned", "surnombre", "absent", "unassigned"].contains(&status), "{a}");
        assert!(a["email"].is_string() && a["group"].is_string() && a["rank"].is_u64(), "{a}");
        assert_eq!(a["ars_id"].is_string(), status == "assigned" || status == "surnombre", "{a}");
    }
    assert!(assignments.iter().any(|a| a["status"] == "assigned"), "the pre-choices give assignments");
    store.close().await;
}

#[tokio::test]
async fn status_json_counts_interns_and_places_per_group() {
    let app = sample_session().await;
    let json: serde_json::Value = serde_json::from_str(&app.ok(&["status", "--json"])).unwrap();
    let groups = json["groups"].as_array().unwrap();
    let store = app.store().await;
    let interns = store.intern_list().await.unwrap();
    let posts = store.posts().await.unwrap();
    let total_interns: u64 = groups.iter().map(|g| g["interns"].as_u64().unwrap()).sum();
    let total_places: u64 = groups.iter().map(|g| g["places"].as_u64().unwrap()).sum();
    assert_eq!(total_interns, interns.len() as u64);
    assert_eq!(total_places, posts.iter().map(|p| u64::from(p.places)).sum::<u64>());
    for g in groups {
        assert!(g["places_left"].as_u64().unwrap() <= g["places"].as_u64().unwrap(), "{g}");
    }
    store.close().await;
}

#[tokio::test]
async fn export_writes_the_csv_list_that_matches_allocate() {
    let app = sample_session().await;
    let output = app.dir.path().join("liste.csv");
    app.ok(&["export", "--output", output.to_str().unwrap()]);
    let bytes = std::fs::read(&output).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "UTF-8 with a BOM for Excel");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let json: serde_json::Value = serde_json::from_str(&app.ok(&["allocate", "--json"])).unwrap();
    for a in json["assignments"].as_array().unwrap() {
        let email_local = a["email"].as_str().unwrap();
        if let Some(ars_id) = a["ars_id"].as_str() {
            assert!(
                text.lines().any(|l| l.contains(&format!(";{ars_id};"))),
                "{email_local} → {ars_id} missing"
            );
        }
    }
}

#[tokio::test]
async fn export_xlsx_writes_a_workbook() {
    let app = sample_session().await;
    let output = app.dir.path().join("liste.xlsx");
    app.ok(&["export", "--format", "xlsx", "--output", output.to_str().unwrap()]);
    let bytes = std::fs::read(&output).unwrap();
    assert!(bytes.starts_with(b"PK\x03\x04"), "an XLSX file is a ZIP archive");
}

#[tokio::test]
async fn init_writes_a_valid_config_once() {
    let app = spawn_app().await;
    let first = app.ok(&["init"]);
    assert!(first.contains("Wrote"), "{first}");
    let config = std::fs::read_to_string(&app.config).unwrap();
    assert!(config.contains("[session]") && config.contains("password_env"));
    let second = app.ok(&["init"]);
    assert!(second.contains("already exists"), "{second}");
}

#[tokio::test]
async fn an_unknown_config_key_is_bad_input_that_names_it() {
    let app = spawn_app().await;
    app.ok(&["init"]);
    let config = std::fs::read_to_string(&app.config).unwrap().replace("[imap]", "[imap]\nhots = \"x\"");
    std::fs::write(&app.config, config).unwrap();
    let output = app.choixbot(&["status"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("hots"));
}

/// Regression: `invite` sent the invitations of a session whose deadline
/// had passed (the commented template's is 2020), and every reply was then
/// answered "closed".
#[tokio::test]
async fn invite_refuses_a_deadline_already_past_and_sends_nothing() {
    let app = spawn_app().await;
    app.ok(&["init"]);
    app.import_sample("posts", "posts.csv");
    app.import_sample("interns", "interns.csv");
    let output = app.choixbot(&["invite"]);
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("lundi 4 mai 2020") && stderr.contains("has passed"), "{stderr}");
    let store = app.store().await;
    assert!(store.outbox_counts().await.unwrap().is_empty(), "an invitation was queued");
    // Reviewing the invitations is still possible.
    let dry_run = app.dir.path().join("invitations");
    app.ok(&["invite", "--dry-run", "--output", dry_run.to_str().unwrap()]);
}
