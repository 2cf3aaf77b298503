//! A crowd of synthetic interns replying at once, and the checks that each
//! reply counted (or not) and was answered once: what the deadline and the
//! lease tests share.

use std::collections::HashMap;

use sqlx::Row;

use crate::mail_helpers::*;

/// One intern of the crowd, with the reply they send.
pub struct Replier {
    /// Their registered address.
    pub email: String,
    /// Their token.
    pub token: choixbot::domain::Token,
    /// The post they choose: the first of their group.
    pub post: String,
    /// (group, rank), as the list to the ARS gives them.
    pub place: (String, String),
}

/// A session of `size` synthetic interns on a private mail stack, its
/// deadline an hour away by the wall clock: near enough that a reply
/// appended "after it" is accepted with that date (Dovecot ignores an
/// INTERNALDATE more than two hours ahead of its clock).
pub async fn spawn_crowd(size: usize) -> (MailApp, Vec<Replier>, chrono::DateTime<chrono::Utc>) {
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
    let deadline = app.settings().session.deadline.min(deadline);
    (app, repliers, deadline)
}

impl Replier {
    pub fn reply(&self) -> String {
        reply(&self.email, Some(&self.token), "Re: Choix de stage", &format!("{}\n", self.post))
    }
}

/// Delivers each replier's reply through Postfix, and waits until Dovecot
/// has every one of them (received, so before the moved deadline).
pub fn deliver_all(app: &MailApp, repliers: &[Replier]) {
    for replier in repliers {
        app.deliver(&replier.email, &replier.reply());
    }
    app.wait_for_postfix_idle();
}

/// How many messages are recorded, read straight from the database.
pub async fn recorded(store: &choixbot::store::Store) -> i64 {
    sqlx::query("SELECT COUNT(*) FROM messages").fetch_one(store.pool()).await.unwrap().get(0)
}

/// How an answer counts as given once.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Once {
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
pub async fn check_counted(app: &MailApp, on_time: &[&Replier], late: &[&Replier], once: Once) {
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
pub fn answers_to(app: &MailApp, address: &str, once: Once, matches: impl Fn(&str) -> bool) -> usize {
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
pub fn listed_interns(list: &[u8]) -> HashMap<(String, String), String> {
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
