//! A reply read with doubts (`parse-reply --json`'s `doubts`): its reading
//! is recorded, as the best one, but the intern gets a confirmation to
//! check, quoting the doubtful words, and `status` lists them under "to
//! check" with the `audit` command, until a plain reply replaces it.

use crate::mail_helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_doubtful_reply_gets_a_confirmation_to_check_and_is_listed_to_check() {
    let app = spawn_mail_app(&paris_time(chrono::Duration::days(30))).await;
    let intern = PLAIN_INTERNS[0];
    let token = app.token(intern).await;
    let posts = app.posts_of(intern).await;
    let (first, second) = (&posts[0], &posts[1]);
    let daemon = app.start_daemon().await;

    let words = format!("Finalement je retire le {first}, je garde seulement {second}.");
    app.deliver(intern, &reply(intern, Some(&token), "Re: Choix de stage", &format!("Bonjour,\n{words}\n")));
    let answer = app.wait_for(intern, 1).remove(0);
    let (_, text) = subject_and_text(&answer);
    assert!(text.contains("À VÉRIFIER"), "not a confirmation to check:\n{text}");
    assert!(text.contains(&format!("« {words} »")), "the doubtful words are not quoted:\n{text}");
    assert!(text.contains("un numéro par ligne"), "the intern is not told how to answer plainly:\n{text}");
    assert!(text.contains("sont enregistrés"), "the best reading is not recorded:\n{text}");

    app.wait_until_settled(1).await;
    let status = app.status_json();
    let to_check = status["follow_up"]["to_check"].as_array().cloned().unwrap_or_default();
    assert_eq!(to_check.len(), 1, "{status}");
    assert_eq!(to_check[0]["email"], intern, "{status}");
    assert!(to_check[0]["doubts"][0].as_str().is_some_and(|d| d.contains(&words)), "{status}");
    let text = app.app.ok(&["status"]);
    assert!(text.contains(&format!("choixbot audit {intern} --raw")), "{text}");

    // The intern answers with the list alone: nothing left to check.
    app.deliver(intern, &reply(intern, Some(&token), "Re: Choix de stage", &format!("{second}\n")));
    let plain = app.wait_for(intern, 2).remove(1);
    assert!(!subject_and_text(&plain).1.contains("À VÉRIFIER"), "a plain list is to check");
    app.wait_until_settled(2).await;
    let status = app.status_json();
    assert_eq!(status["follow_up"]["to_check"], serde_json::json!([]), "{status}");
    daemon.stop().await;
}
