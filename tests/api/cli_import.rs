//! `choixbot import` through the binary, on the database the suite runs
//! against: a file with any bad row imports nothing, exits 2, and reports
//! every bad row with its line number; a good file replaces that kind of
//! data wholesale and says what it replaced.

use crate::helpers::{describe, spawn_app, TestApp};

const POSTS: &str = "n° ARS;DES;nombre de postes;hôpital;service;ville\n\
    1234;Pédiatrie;2;CHU Bicêtre;Néonatologie;Le Kremlin-Bicêtre\n\
    2345;Pédiatrie;1;Necker;Urgences;Paris\n\
    3301;Psychiatrie;1;Sainte-Anne;Secteur 15;Paris\n";

const INTERNS: &str = "rang;nom;prénom;DES;courriel;type de choix;procuration\n\
    1;Martin;Léa;Pédiatrie;lea.martin@gmail.com;classique;\n\
    2;Bernard;Hugo;Pédiatrie;hugo.bernard@orange.fr;surnombre validant;\n\
    1;Petit;Chloé;Psychiatrie;chloe.petit@free.fr;;paul.petit@free.fr\n";

/// A session with the posts and interns above already imported.
async fn app_with_session() -> TestApp {
    let app = spawn_app().await;
    let posts = app.write("posts.csv", POSTS);
    let interns = app.write("interns.csv", INTERNS);
    app.ok(&["import", "posts", posts.to_str().unwrap()]);
    app.ok(&["import", "interns", interns.to_str().unwrap()]);
    app
}

/// Runs an import that must be refused, and returns its stderr.
fn refused(app: &TestApp, kind: &str, name: &str, content: &str) -> String {
    let file = app.write(name, content);
    let output = app.choixbot(&["import", kind, file.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(stderr.contains("nothing was imported"), "{stderr}");
    stderr
}

/// The session is exactly as `app_with_session` left it.
async fn assert_session_unchanged(app: &TestApp) {
    let store = app.store().await;
    assert_eq!(store.posts().await.unwrap().len(), 3, "posts changed");
    assert_eq!(store.intern_list().await.unwrap().len(), 3, "interns changed");
    assert!(store.wishes().await.unwrap().is_empty(), "wishes changed");
    store.close().await;
}

#[tokio::test]
async fn a_missing_required_column_imports_nothing() {
    let app = app_with_session().await;
    let stderr = refused(&app, "posts", "p.csv", "n° ARS;nombre de postes\n9999;1\n");
    assert!(stderr.contains("line 1") && stderr.to_lowercase().contains("group"), "{stderr}");
    assert_session_unchanged(&app).await;
}

#[tokio::test]
async fn places_that_are_not_a_positive_integer_are_reported_by_line() {
    let app = app_with_session().await;
    let stderr = refused(
        &app,
        "posts",
        "p.csv",
        "n° ARS;DES;nombre de postes\n1;Pédiatrie;2\n2;Pédiatrie;0\n3;Pédiatrie;deux\n",
    );
    assert!(stderr.contains("line 3"), "{stderr}");
    assert!(stderr.contains("line 4") && stderr.contains("deux"), "{stderr}");
    assert!(!stderr.contains("line 2:"), "a good row was reported: {stderr}");
    assert_session_unchanged(&app).await;
}

#[tokio::test]
async fn a_duplicate_rank_within_a_group_imports_nothing() {
    let app = app_with_session().await;
    let stderr = refused(
        &app,
        "interns",
        "i.csv",
        "rang;nom;prénom;DES;courriel\n1;A;A;Pédiatrie;a@ex.fr\n1;B;B;Pédiatrie;b@ex.fr\n1;C;C;Psychiatrie;c@ex.fr\n",
    );
    assert!(stderr.contains("line 3"), "{stderr}");
    assert!(!stderr.contains("line 4"), "rank 1 in another group is fine: {stderr}");
    assert_session_unchanged(&app).await;
}

#[tokio::test]
async fn a_duplicate_email_imports_nothing() {
    let app = app_with_session().await;
    let stderr = refused(
        &app,
        "interns",
        "i.csv",
        "rang;nom;prénom;DES;courriel\n1;A;A;Pédiatrie;same@ex.fr\n2;B;B;Pédiatrie;Same@Ex.fr\n",
    );
    assert!(stderr.contains("line 3") && stderr.contains("same@ex.fr"), "{stderr}");
    assert_session_unchanged(&app).await;
}

#[tokio::test]
async fn a_proxy_serving_two_interns_imports_nothing() {
    let app = app_with_session().await;
    let stderr = refused(
        &app,
        "interns",
        "i.csv",
        "rang;nom;prénom;DES;courriel;procuration\n1;A;A;Pédiatrie;a@ex.fr;p@ex.fr\n2;B;B;Pédiatrie;b@ex.fr;p@ex.fr\n",
    );
    assert!(stderr.contains("line 3") && stderr.contains("p@ex.fr"), "{stderr}");
    assert_session_unchanged(&app).await;
}

#[tokio::test]
async fn a_prechoice_from_an_unknown_intern_imports_nothing() {
    let app = app_with_session().await;
    let stderr =
        refused(&app, "choices", "c.csv", "courriel;choix 1\nlea.martin@gmail.com;1234\nnobody@ex.fr;2345\n");
    assert!(stderr.contains("line 3") && stderr.contains("nobody@ex.fr"), "{stderr}");
    assert_session_unchanged(&app).await;
}

#[tokio::test]
async fn a_prechoice_of_a_post_not_open_to_the_group_imports_nothing() {
    let app = app_with_session().await;
    let stderr =
        refused(&app, "choices", "c.csv", "courriel;choix 1;choix 2\nlea.martin@gmail.com;1234;3301\n");
    assert!(stderr.contains("line 2") && stderr.contains("3301"), "{stderr}");
    assert_session_unchanged(&app).await;
}

#[tokio::test]
async fn a_good_import_replaces_wholesale_and_says_what_it_replaced() {
    let app = app_with_session().await;
    let posts = app.write("posts2.csv", "n° ARS;DES\n7;Pédiatrie\n");
    let stdout = app.ok(&["import", "posts", posts.to_str().unwrap()]);
    assert!(stdout.contains("Imported 1 post(s), replacing 3"), "{stdout}");
    let store = app.store().await;
    let posts = store.posts().await.unwrap();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].ars_id.as_str(), "7");
    assert_eq!(posts[0].places, 1, "places default to 1");
    store.close().await;
}

#[tokio::test]
async fn reimporting_the_call_list_keeps_each_interns_token() {
    let app = app_with_session().await;
    let store = app.store().await;
    let before = store.interns().await.unwrap();
    let interns = app.write("interns.csv", INTERNS);
    app.ok(&["import", "interns", interns.to_str().unwrap()]);
    let after = store.interns().await.unwrap();
    assert_eq!(before.len(), after.len());
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(b.intern.email, a.intern.email);
        assert_eq!(b.token, a.token, "the token of {} changed", a.intern.email);
    }
    store.close().await;
}

#[tokio::test]
async fn prechoices_are_imported_as_wishes() {
    let app = app_with_session().await;
    let choices = app.write("c.csv", "courriel;choix 1;choix 2\nlea.martin@gmail.com;2345;1234\n");
    let stdout = app.ok(&["import", "choices", choices.to_str().unwrap()]);
    assert!(stdout.contains("Imported pre-choices of 1 intern(s)"), "{stdout}");
    let store = app.store().await;
    let wishes = store.wishes().await.unwrap();
    let lea = choixbot::domain::Email::parse("lea.martin@gmail.com").unwrap();
    let ids: Vec<&str> = wishes[&lea].iter().map(|id| id.as_str()).collect();
    assert_eq!(ids, ["2345", "1234"]);
    store.close().await;
}

/// The groups of `app`'s call list, by intern email.
async fn groups_of(app: &TestApp) -> Vec<(String, String)> {
    let store = app.store().await;
    let groups = store
        .intern_list()
        .await
        .unwrap()
        .into_iter()
        .map(|i| (i.email.as_str().to_string(), i.group.as_str().to_string()))
        .collect();
    store.close().await;
    groups
}

/// Regression: a call list writing "PEDIATRIE" where the ARS's posts say
/// "Pédiatrie" was stored as is, and every reply of those interns was then
/// refused as "not open to your group".
#[tokio::test]
async fn a_group_spelled_differently_from_the_posts_takes_the_posts_spelling() {
    let app = spawn_app().await;
    let posts = app.write("posts.csv", POSTS);
    app.ok(&["import", "posts", posts.to_str().unwrap()]);
    let shouting =
        INTERNS.replacen(";Pédiatrie;lea", ";PEDIATRIE;lea", 1).replacen(";Psychiatrie;", ";Psychiatry;", 1);
    let interns = app.write("interns.csv", shouting);
    let stdout = app.ok(&["import", "interns", interns.to_str().unwrap()]);
    assert!(
        stdout.contains(r#"group "PEDIATRIE" of 1 intern(s) is written "Pédiatrie" in the posts"#),
        "{stdout}"
    );
    assert!(stdout.contains(r#"warning: group "Psychiatry" of 1 intern(s) has no post"#), "{stdout}");
    assert!(stdout.contains(r#"note: group "Psychiatrie" has posts but no intern"#), "{stdout}");
    let groups = groups_of(&app).await;
    assert!(groups.contains(&("lea.martin@gmail.com".into(), "Pédiatrie".into())), "{groups:?}");
    assert!(groups.contains(&("chloe.petit@free.fr".into(), "Psychiatry".into())), "{groups:?}");
}

#[tokio::test]
async fn posts_imported_after_the_call_list_respell_its_groups_and_keep_the_tokens() {
    let app = spawn_app().await;
    let interns = app.write("interns.csv", INTERNS.replace(";Pédiatrie;", ";pediatrie;"));
    app.ok(&["import", "interns", interns.to_str().unwrap()]);
    let store = app.store().await;
    let tokens_before = store.interns().await.unwrap();
    let posts = app.write("posts.csv", POSTS);
    let stdout = app.ok(&["import", "posts", posts.to_str().unwrap()]);
    assert!(
        stdout.contains(r#"group "pediatrie" of 2 intern(s) is written "Pédiatrie" in the posts"#),
        "{stdout}"
    );
    let after = store.interns().await.unwrap();
    for (before, after) in tokens_before.iter().zip(&after) {
        assert_eq!(before.token, after.token, "the token of {} changed", after.intern.email);
    }
    store.close().await;
    let groups = groups_of(&app).await;
    assert_eq!(groups.iter().filter(|(_, group)| group == "Pédiatrie").count(), 2, "{groups:?}");
}

/// Regression: a posts file writing one DES "Cardiologie" on some rows and
/// "cardiologie" on others made two groups; an intern was offered only the
/// posts of one of them.
#[tokio::test]
async fn one_group_written_two_ways_in_the_posts_file_is_one_group_and_the_import_says_so() {
    let app = spawn_app().await;
    let posts = app.write(
        "posts.csv",
        "n° ARS;DES;nombre de postes\n1001;Cardiologie;1\n1002;cardiologie;1\n1003;Cardiologie;2\n",
    );
    let interns = app.write(
        "interns.csv",
        "rang;nom;prénom;DES;courriel\n1;Martin;Léa;CARDIOLOGIE;lea.martin@gmail.com\n",
    );
    app.ok(&["import", "interns", interns.to_str().unwrap()]);
    let said = app.ok(&["import", "posts", posts.to_str().unwrap()]);
    assert!(
        said.contains("group \"cardiologie\" on 1 row(s) is taken as \"Cardiologie\""),
        "the import did not say it unified the spellings:\n{said}"
    );
    let status: serde_json::Value = serde_json::from_str(&app.ok(&["status", "--json"])).unwrap();
    let groups = status["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "{status}");
    assert_eq!(groups[0]["places"], 4, "{status}");
    assert_eq!(groups[0]["interns"], 1, "the intern is not in the posts' group: {status}");
}
