//! The lookups the daemon makes once per fetched batch (issue 17): the
//! same answers as the per-message queries they replace, on SQLite and
//! PostgreSQL.

use choixbot::store::outbox::Queued;
use choixbot::store::{self, Incoming};

use crate::helpers::spawn_app;

fn incoming<'a>(uid: i64, message_id: &'a str, content_hash: &'a str) -> Incoming<'a> {
    Incoming {
        folder: "INBOX",
        uidvalidity: 1,
        uid,
        message_id: Some(message_id),
        content_hash,
        raw: b"From: a@b.fr\r\n\r\n1234\r\n",
        sender: Some("a@b.fr"),
        kind: "choices",
        intern_email: None,
        verdict: "ignored",
        reasons: "{}",
        internal_date: None,
        recorded_at: 0,
    }
}

#[tokio::test]
async fn the_batch_lookup_of_recorded_copies_agrees_with_the_one_by_one_lookup() {
    let app = spawn_app().await;
    app.ok(&["init"]);
    let store = app.store().await;
    let mut tx = store.begin_write().await.unwrap();
    let first = store::record_message(&mut tx, &incoming(1, "<a@x>", "hash-a")).await.unwrap();
    store::record_message(&mut tx, &incoming(2, "<a@x>", "hash-a")).await.unwrap();
    let other = store::record_message(&mut tx, &incoming(3, "<a@x>", "hash-b")).await.unwrap();
    store.commit(tx).await.unwrap();

    let asked = [("<a@x>", "hash-a"), ("<a@x>", "hash-b"), ("<a@x>", "hash-c"), ("<new@x>", "hash-a")];
    let found = store.same_messages(&asked).await.unwrap();
    for (id, hash) in asked {
        let one = store.find_same_message(id, hash).await.unwrap();
        assert_eq!(found.get(&(id.to_string(), hash.to_string())).copied(), one, "{id} {hash}");
    }
    assert_eq!(found.len(), 2);
    assert_eq!(found[&("<a@x>".to_string(), "hash-a".to_string())], first, "the first copy");
    assert_eq!(found[&("<a@x>".to_string(), "hash-b".to_string())], other);
    assert!(store.same_messages(&[]).await.unwrap().is_empty());
}

fn answer(n: usize, intern: &str, answers: Option<i64>) -> Queued {
    Queued {
        message_id: format!("answer.{n}@asso.example"),
        purpose: "confirmation".into(),
        intern_email: Some(intern.into()),
        answers_message: answers,
        recipients: vec![intern.into()],
        raw: format!("Message-ID: <answer.{n}@asso.example>\r\n\r\nok\r\n").into_bytes(),
    }
}

#[tokio::test]
async fn the_batch_count_of_recent_answers_agrees_with_the_one_by_one_count() {
    let app = spawn_app().await;
    app.ok(&["init"]);
    let store = app.store().await;
    let mut tx = store.begin_write().await.unwrap();
    let reply = store::record_message(&mut tx, &incoming(1, "<r@x>", "hash-r")).await.unwrap();
    store::outbox::queue(&mut tx, &answer(1, "a@b.fr", Some(reply)), 1_000).await.unwrap();
    store::outbox::queue(&mut tx, &answer(2, "a@b.fr", Some(reply)), 2_000).await.unwrap();
    // An invitation answers nothing: not counted.
    store::outbox::queue(&mut tx, &answer(3, "a@b.fr", None), 2_000).await.unwrap();
    store::outbox::queue(&mut tx, &answer(4, "e@f.fr", Some(reply)), 2_000).await.unwrap();
    store.commit(tx).await.unwrap();

    let interns = ["a@b.fr", "c@d.fr", "e@f.fr"];
    for since in [0, 1_500, 3_000] {
        let counts = store.answers_since_for(&interns, since).await.unwrap();
        assert_eq!(counts.len(), interns.len(), "every intern asked is given");
        for intern in interns {
            assert_eq!(
                counts[intern],
                store.answers_since(intern, since).await.unwrap(),
                "{intern} since {since}"
            );
        }
    }
    assert_eq!(store.answers_since_for(&interns, 0).await.unwrap()["a@b.fr"], 2);
}
