//! The outbox worker against a real Postfix, when its `sent` marks must wait
//! for the database: the daemon's batch transaction holds SQLite's write
//! lock while it decides, and the worker keeps sending meanwhile, reading
//! the due rows again. A row sent but not yet marked is still `pending`
//! then; it must not be sent a second time.

use std::time::Duration;

use choixbot::outbox::transport::SmtpTransport;
use choixbot::outbox::worker::{RetryPolicy, Worker};
use choixbot::settings::Security;
use choixbot::store::outbox::{queue_all, Queued};
use choixbot::store::Store;
use mailstack::MailStack;

const FROM: &str = "choix@asso.example";
const MESSAGES: usize = 40;

fn recipient(i: usize) -> String {
    format!("interne.{i}@exemple.fr")
}

fn queued(i: usize) -> Queued {
    let to = recipient(i);
    let raw = format!(
        "From: {FROM}\r\nTo: {to}\r\nSubject: Vos choix\r\nMessage-ID: <outbox.{i}@asso.example>\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nVos choix sont enregistrés.\r\n"
    );
    Queued {
        message_id: format!("outbox.{i}@asso.example"),
        purpose: "confirmation".into(),
        intern_email: Some(to.clone()),
        answers_message: None,
        recipients: vec![to],
        raw: raw.into_bytes(),
    }
}

fn transport(stack: &MailStack) -> SmtpTransport {
    SmtpTransport::new(&crate::smtp::settings(stack, Security::None), None).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_whose_sent_mark_waits_for_the_write_lock_are_sent_once() {
    // interne.N@exemple.fr: addresses no other test of the binary uses.
    let stack = crate::stacks::shared().await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("choixbot.db").display());
    let store = Store::connect(&url).await.unwrap();
    let messages: Vec<Queued> = (0..MESSAGES).map(queued).collect();
    let mut tx = store.begin_write().await.unwrap();
    assert_eq!(queue_all(&mut tx, &messages, store.now_ms()).await.unwrap(), MESSAGES);
    tx.commit().await.unwrap();

    // Another connection holds the write lock, as the daemon's batch does.
    let daemon = Store::connect(&url).await.unwrap();
    let batch = daemon.begin_write().await.unwrap();
    let worker = Worker {
        store: store.clone(),
        transport: transport(stack),
        envelope_from: FROM.into(),
        retry: RetryPolicy::default(),
        concurrency: 4,
        min_interval: None,
    };
    let draining = tokio::spawn(async move { worker.drain().await });
    // Every message reaches its mailbox while no mark can be written; the
    // worker reads the due rows again meanwhile and finds them all pending.
    for i in 0..MESSAGES {
        let to = recipient(i);
        tokio::task::block_in_place(|| stack.wait_for_messages(&to, 1, Duration::from_secs(60))).unwrap();
    }
    assert_eq!(store.due(100).await.unwrap().len(), MESSAGES, "nothing can be marked yet");
    batch.rollback().await.unwrap();

    let sent = draining.await.unwrap().unwrap();
    assert_eq!((sent.accepted, sent.deferred, sent.failed), (MESSAGES, 0, 0));
    assert!(store.due(100).await.unwrap().is_empty(), "every row is marked sent");
    crate::stacks::wait_for_postfix_idle(stack);
    for i in 0..MESSAGES {
        assert_eq!(stack.messages(&recipient(i)).len(), 1, "{} received a copy twice", recipient(i));
    }
}

/// After a storm, hundreds of displacement notices come due together; an
/// answer queued after them must not wait for them all to leave.
#[tokio::test]
async fn displacement_notices_wait_behind_the_answers_due() {
    let app = crate::helpers::spawn_app().await;
    let store = app.store().await;
    let notice = |i: usize| Queued { purpose: "notice".into(), ..queued(100 + i) };
    let notices: Vec<Queued> = (0..3).map(notice).collect();
    let answers: Vec<Queued> = (0..2).map(queued).collect();
    let mut tx = store.begin_write().await.unwrap();
    queue_all(&mut tx, &notices, store.now_ms() - 1_000).await.unwrap();
    queue_all(&mut tx, &answers, store.now_ms()).await.unwrap();
    tx.commit().await.unwrap();

    let order: Vec<String> =
        store.due(10).await.unwrap().iter().map(|pending| pending.recipients.join(" ")).collect();
    let expected: Vec<String> = [0, 1, 100, 101, 102].into_iter().map(recipient).collect();
    assert_eq!(order, expected, "the answers first, then the notices, each oldest first");
}
