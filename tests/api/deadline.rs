//! The deadline (SPEC §11): a reply counts when the IMAP server received it
//! before the deadline, whenever choixbot reads it, and the list leaves only
//! once every such reply is decided: across an outage of the IMAP
//! connection, a rush that leaves the daemon with a backlog, a refused
//! login, and crashes during the reading and during the close.
//!
//! The daemon's clock is moved past the deadline while it runs
//! ([`Clock::advance`]), or a daemon started as a child process is given a
//! clock already past it ([`OFFSET_VARIABLE`]): no test waits for a real
//! deadline. The replies delivered through Postfix are received by Dovecot
//! before the (moved) deadline; replies "received after it" are put in the
//! INBOX with IMAP APPEND and an INTERNALDATE after it.

use std::collections::HashMap;

use choixbot::clock::{Clock, OFFSET_VARIABLE};
use sqlx::Row;

use crate::faults_proxy::FaultProxy;
use crate::mail_helpers::*;

/// One intern of the crowd, with the reply they send.
struct Replier {
    /// Their registered address.
    email: String,
    /// Their token.
    token: choixbot::domain::Token,
    /// The post they choose: the first of their group.
    post: String,
    /// (group, rank), as the list to the ARS gives them.
    place: (String, String),
}

/// A session of `size` synthetic interns on a private mail stack, its
/// deadline an hour away by the wall clock: near enough that a reply
/// appended "after it" is accepted with that date (Dovecot ignores an
/// INTERNALDATE more than two hours ahead of its clock).
async fn spawn_crowd(size: usize) -> (MailApp, Vec<Replier>, chrono::DateTime<chrono::Utc>) {
    let deadline = chrono::Utc::now() + chrono::Duration::hours(1);
    let app = spawn_mail_app(&paris_time(chrono::Duration::hours(1))).await;
    let session = choixbot::synthetic::session(size, size + size / 5, 3, 7);
    session.write_csv(app.app.dir.path()).unwrap();
    for kind in ["posts", "interns"] {
        let file = app.app.dir.path().join(format!("{kind}.csv"));
        app.app.ok(&["import", kind, file.to_str().unwrap()]);
    }
    let store = app.app.store().await;
    let posts = store.posts().await.unwrap();
    let repliers = store
        .interns()
        .await
        .unwrap()
        .into_iter()
        .map(|stored| {
            let intern = stored.intern;
            let post = posts.iter().find(|p| p.group == intern.group).expect("every group has posts");
            Replier {
                email: intern.email.to_string(),
                token: stored.token,
                post: post.ars_id.to_string(),
                place: (intern.group.to_string(), intern.rank.to_string()),
            }
        })
        .collect();
    // The deadline as the configuration resolves it (to the second).
    let deadline = app.settings().session.deadline_utc().unwrap().min(deadline);
    (app, repliers, deadline)
}

impl Replier {
    fn reply(&self) -> String {
        reply(&self.email, Some(&self.token), "Re: Choix de stage", &format!("{}\n", self.post))
    }
}

/// Delivers each replier's reply through Postfix, and waits until Dovecot
/// has every one of them (received, so before the moved deadline).
fn deliver_all(app: &MailApp, repliers: &[Replier]) {
    for replier in repliers {
        app.deliver(&replier.email, &replier.reply());
    }
    app.wait_for_postfix_idle();
}

/// Sends choixbot's IMAP traffic through `proxy`, with a short timeout.
fn through_proxy(app: &MailApp, proxy: &FaultProxy) {
    let config = std::fs::read_to_string(&app.app.config).unwrap();
    let config = config
        .replacen(&format!("port = {}", app.stack.imaps_port()), &format!("port = {}", proxy.port), 1)
        .replacen("timeout_seconds = 15", "timeout_seconds = 3", 1);
    std::fs::write(&app.app.config, config).unwrap();
}

/// How many messages are recorded, read straight from the database.
async fn recorded(store: &choixbot::store::Store) -> i64 {
    sqlx::query("SELECT COUNT(*) FROM messages").fetch_one(store.pool()).await.unwrap().get(0)
}

/// How an answer counts as given once.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Once {
    /// One message in the mailbox.
    Exactly,
    /// One Message-ID: after a crash, an answer the SMTP server accepted
    /// but the outbox had not yet marked sent is sent again, with the same
    /// Message-ID (README, "What choixbot promises under faults").
    ResentAfterDataAllowed,
}

/// Waits for the list, then until everything is answered, and checks that
/// exactly `on_time` counted and `late` did not: one list; each on-time
/// reply confirmed once and in force, its intern listed with a post; each
/// late reply answered "closed" once, saying when it was received, and not
/// in force.
async fn check_counted(app: &MailApp, on_time: &[&Replier], late: &[&Replier], once: Once) {
    let list = app.wait_for(ARS, 1).remove(0);
    app.wait_until_settled((on_time.len() + late.len()) as i64).await;
    app.wait_for_postfix_idle();
    assert_eq!(app.mailbox(ARS).len(), 1, "the ARS received the list more than once");
    let listed = listed_interns(&list);
    let wishes = app.app.store().await.wishes().await.unwrap();
    for replier in on_time {
        let email = choixbot::domain::Email::parse(&replier.email).unwrap();
        assert_eq!(
            wishes.get(&email).map(|w| w.iter().map(ToString::to_string).collect::<Vec<_>>()),
            Some(vec![replier.post.clone()]),
            "{}: a reply received before the deadline did not count",
            replier.email
        );
        let row =
            listed.get(&replier.place).unwrap_or_else(|| panic!("{:?} is not in the list", replier.place));
        assert!(!row.contains("absent"), "{} is listed absent: {row}", replier.email);
        // Before or after the deadline: confirmed either way.
        let confirmed = |text: &str| text.contains("sont enregistrés");
        assert_eq!(answers_to(app, &replier.email, once, confirmed), 1, "{}", replier.email);
    }
    for replier in late {
        let email = choixbot::domain::Email::parse(&replier.email).unwrap();
        assert!(
            !wishes.contains_key(&email),
            "{}: a late reply changed the wishes\n{}",
            replier.email,
            app.app.ok(&["audit", &replier.email])
        );
        assert_eq!(
            answers_to(app, &replier.email, once, |text| text.contains("après la date limite")),
            1,
            "{} was not answered \"closed\" once, with the time it was received",
            replier.email
        );
    }
}

/// How many answers (subject `Re:`) `address` received, counted as `once`
/// says; panics on an answer whose text does not satisfy `matches`.
fn answers_to(app: &MailApp, address: &str, once: Once, matches: impl Fn(&str) -> bool) -> usize {
    let mut ids = std::collections::HashSet::new();
    let mut count = 0;
    for raw in app.mailbox(address) {
        let (subject, text) = subject_and_text(&raw);
        if !subject.starts_with("Re:") {
            continue;
        }
        assert!(matches(&text), "{address} received an unexpected answer:\n{text}");
        count += usize::from(ids.insert(header(&raw, "Message-ID")) || once == Once::Exactly);
    }
    count
}

/// The rows of the list's CSV, by (group, rank).
fn listed_interns(list: &[u8]) -> HashMap<(String, String), String> {
    let text = String::from_utf8(list_attachment(list, ".csv")).unwrap();
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .flexible(true)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|h| h.to_lowercase().contains(name)).unwrap();
    let (rank, group) = (column("rang"), column("des"));
    // The vacant posts follow, in shorter rows: skipped.
    reader
        .records()
        .filter_map(|record| {
            let record = record.unwrap();
            let key = (record.get(group)?.to_string(), record.get(rank)?.to_string());
            Some((key, record.iter().collect::<Vec<_>>().join(";").to_lowercase()))
        })
        .collect()
}

/// The clock moved to `after` past the deadline.
fn advance_past(clock: &Clock, deadline: chrono::DateTime<chrono::Utc>, after: chrono::Duration) {
    clock.advance(deadline + after - clock.now());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replies_received_while_the_imap_connection_is_cut_across_the_deadline_all_count() {
    let (app, repliers, deadline) = spawn_crowd(240).await;
    let (early, rest) = repliers.split_at(10);
    let (rush, late) = rest.split_at(210);
    let proxy = FaultProxy::start(app.stack.imaps_port()).await;
    through_proxy(&app, &proxy);
    let clock = Clock::system();
    let daemon = app.start_daemon_on(&clock).await;
    deliver_all(&app, early);
    app.wait_until_settled(early.len() as i64).await;

    // The connection is cut; the rush reaches the mailbox meanwhile, and
    // the deadline passes.
    proxy.cut_everything();
    deliver_all(&app, rush);
    assert_eq!(app.inbox_len(), rush.len(), "the rush is in the mailbox, unread");
    advance_past(&clock, deadline, chrono::Duration::seconds(10));
    app.wait_for_status("the close held", |json| json["close"]["held"] == true).await;
    app.wait_for_matching(REFERENT, "the alert that the list is held", |subject, text| {
        subject.contains("LA LISTE EST RETENUE") && text.contains("close --without-mailbox")
    });
    assert!(app.mailbox(ARS).is_empty(), "the list left without the replies of the rush");

    // Replies the server receives after the deadline do not count.
    for replier in late {
        app.append_received_at(&replier.reply(), deadline + chrono::Duration::seconds(30)).await;
    }
    proxy.restore();
    let on_time: Vec<&Replier> = early.iter().chain(rush).collect();
    check_counted(&app, &on_time, &late.iter().collect::<Vec<_>>(), Once::Exactly).await;
    let status = app.status_json();
    let basis = status["close"]["basis"].as_str().unwrap_or_default().to_string();
    assert!(basis.contains("read up to UID"), "the close records how far it read: {status}");
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rush_still_being_read_when_the_deadline_passes_counts_in_full() {
    let (app, repliers, deadline) = spawn_crowd(600).await;
    deliver_all(&app, &repliers);
    let clock = Clock::system();
    let daemon = app.start_daemon_on(&clock).await;
    // The deadline passes once the daemon has decided its first batch:
    // most of the rush is fetched after it.
    let started = std::time::Instant::now();
    let store = app.app.store().await;
    let mut backlog = 0;
    while backlog == 0 {
        let decided = recorded(&store).await;
        if decided > 0 {
            advance_past(&clock, deadline, chrono::Duration::seconds(10));
            backlog = repliers.len() as i64 - decided;
            assert!(backlog > 0, "the daemon read the whole rush before the deadline: no backlog to test");
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(120), "the daemon decided nothing");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let refs: Vec<&Replier> = repliers.iter().collect();
    check_counted(&app, &refs, &[], Once::Exactly).await;
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refused_login_at_the_deadline_holds_the_list_until_it_is_fixed() {
    let (app, repliers, deadline) = spawn_crowd(40).await;
    deliver_all(&app, &repliers);
    let password = app.app.dir.path().join("imap-password");
    std::fs::write(&password, "not the password").unwrap();
    let clock = Clock::system();
    let daemon = app.start_daemon_on(&clock).await;
    app.wait_for_matching(REFERENT, "the alert that the login is refused", |subject, text| {
        subject.contains("refuse choixbot") && text.contains("mot de passe")
    });
    advance_past(&clock, deadline, chrono::Duration::seconds(10));
    app.wait_for_status("the close held", |json| {
        json["close"]["held"] == true
            && json["close"]["error"].as_str().is_some_and(|e| e.contains("IMAP login failed"))
    })
    .await;
    let held = |subject: &str, _: &str| subject.contains("LA LISTE EST RETENUE");
    app.wait_for_matching(REFERENT, "the alert that the list is held", held);
    let text = app.app.ok(&["status"]);
    assert!(text.contains("THE LIST IS HELD"), "{text}");

    // An hour later, still held: told again.
    clock.advance(chrono::Duration::minutes(61));
    let count_held = || app.mailbox(REFERENT).iter().filter(|raw| held(&subject_and_text(raw).0, "")).count();
    let started = std::time::Instant::now();
    while count_held() < 2 {
        assert!(started.elapsed() < std::time::Duration::from_secs(60), "no second alert after an hour");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(app.mailbox(ARS).is_empty(), "the list left while the mailbox could not be read");

    // The referent fixes the password: the list leaves, once.
    std::fs::write(&password, app.stack.password()).unwrap();
    let refs: Vec<&Replier> = repliers.iter().collect();
    check_counted(&app, &refs, &[], Once::Exactly).await;
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_while_reading_after_the_deadline_and_while_closing_one_list_and_one_answer_each() {
    let (app, repliers, deadline) = spawn_crowd(250).await;
    deliver_all(&app, &repliers);
    // A clock a minute past the deadline, for every daemon started below.
    let offset = (deadline + chrono::Duration::minutes(1) - chrono::Utc::now()).num_seconds().to_string();
    for step in ["after_commit", "close_before_commit", "close_after_commit"] {
        let hooks = [(choixbot::crash_point::VARIABLE, step), (OFFSET_VARIABLE, offset.as_str())];
        let mut child = app.spawn_daemon_process_with(&hooks);
        let status = wait_for_exit(&mut child);
        assert!(!status.success(), "the daemon did not crash at {step}:\n{}", app.daemon_logs());
    }
    let mut child = app.spawn_daemon_process_with(&[(OFFSET_VARIABLE, offset.as_str())]);
    let refs: Vec<&Replier> = repliers.iter().collect();
    check_counted(&app, &refs, &[], Once::ResentAfterDataAllowed).await;
    let decided = app.decided().await;
    assert_eq!(decided.len(), repliers.len(), "a reply was decided twice");
    terminate(&mut child);
}
