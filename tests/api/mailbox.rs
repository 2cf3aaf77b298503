//! The IMAP client against a real Dovecot (crates/mailstack): every
//! security mode, fetching by UID, moving, waiting for mail, and the errors
//! a referent would see.

use std::time::Duration;

use choixbot::mailbox::{Mailbox, Moved, Wake};
use choixbot::settings::{ImapSettings, Security};
use mailstack::{MailStack, BASIC_IMAP_CAPABILITY};

use crate::other_client::OtherClient;

const PROCESSED: &str = "choixbot-processed";
const DELIVERY: Duration = Duration::from_secs(30);

/// choixbot's mailbox on a stack: on the shared one, an address of its
/// own; on a stack of the test's own (for a fault option), the usual one.
struct Account {
    /// The stack.
    stack: Stack,
    /// The IMAP user, which is also the address replies go to.
    user: String,
}

enum Stack {
    Shared(&'static MailStack),
    Own(MailStack),
}

impl Account {
    /// A mailbox of its own on the shared stack.
    async fn shared() -> Self {
        let user = crate::stacks::unique_address("choix", "asso.example");
        Self { stack: Stack::Shared(crate::stacks::shared().await), user }
    }

    /// choix@asso.example on a stack with `builder`'s options.
    async fn own(builder: mailstack::MailStackBuilder) -> Self {
        Self { stack: Stack::Own(crate::stacks::start(builder).await), user: "choix@asso.example".into() }
    }

    /// The address an intern replies to: the user with a plus part.
    fn plus_address(&self) -> String {
        let (local, domain) = self.user.split_once('@').unwrap();
        format!("{local}+TOKEN@{domain}")
    }
}

impl std::ops::Deref for Account {
    type Target = MailStack;

    fn deref(&self) -> &MailStack {
        match &self.stack {
            Stack::Shared(stack) => stack,
            Stack::Own(stack) => stack,
        }
    }
}

fn settings(stack: &Account, security: Security) -> ImapSettings {
    let (host, port) = match security {
        Security::Tls => ("127.0.0.1", stack.imaps_port()),
        Security::Starttls => ("localhost", stack.imap_port()),
        Security::None => ("127.0.0.1", stack.imap_port()),
    };
    // The password is read from a file at each login, as the daemon does;
    // one file per user, since a test may write a wrong one.
    let password_file = stack.dir().join(format!("imap-password-{}", stack.user));
    std::fs::write(&password_file, stack.password()).unwrap();
    ImapSettings {
        host: host.into(),
        port,
        security,
        username: stack.user.clone(),
        auth: Default::default(),
        password_env: "UNUSED".into(),
        password_file: Some(password_file),
        folder: "INBOX".into(),
        processed_folder: PROCESSED.into(),
        ca_file: stack.ca_pem_path().display().to_string(),
        tls_fingerprint: String::new(),
        poll_seconds: 1,
        timeout_seconds: 20,
        idle_silence_seconds: 300,
    }
}

/// Sends a message to the account (through a plus address, as interns
/// reply) and waits until it is in the Maildir.
fn deliver(stack: &Account, subject: &str) -> Vec<u8> {
    let to = stack.plus_address();
    let raw = format!(
        "From: interne@gmail.com\r\nTo: {to}\r\nSubject: {subject}\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\
         1) 1234\r\n2) 5678 – Bichat, été\r\n"
    )
    .into_bytes();
    let before = stack.messages(&stack.user).len();
    stack.send("interne@gmail.com", &[&to], &raw).unwrap();
    stack.wait_for_messages(&stack.user, before + 1, DELIVERY).unwrap();
    raw
}

async fn connect(stack: &Account, security: Security) -> Mailbox {
    Mailbox::connect(&settings(stack, security), None).await.expect("IMAP connect and login")
}

#[tokio::test]
async fn imap_over_implicit_tls_with_the_stack_ca_reads_the_inbox() {
    let stack = Account::shared().await;
    deliver(&stack, "tls");
    let mut mailbox = connect(&stack, Security::Tls).await;
    let state = mailbox.select("INBOX").await.unwrap();
    assert_eq!(state.exists, 1);
    assert!(state.uidvalidity > 0);
    mailbox.logout().await.unwrap();
}

#[tokio::test]
async fn imap_over_starttls_and_over_plain_reads_the_inbox() {
    let stack = Account::shared().await;
    deliver(&stack, "starttls");
    for security in [Security::Starttls, Security::None] {
        let mut mailbox = connect(&stack, security).await;
        let state = mailbox.select("INBOX").await.unwrap();
        assert_eq!(state.exists, 1, "{security:?}");
        assert_eq!(mailbox.fetch_after(0, 10).await.unwrap().len(), 1, "{security:?}");
    }
}

#[tokio::test]
async fn a_wrong_password_gives_the_login_error() {
    let stack = Account::shared().await;
    let settings = settings(&stack, Security::Tls);
    std::fs::write(settings.password_file.as_ref().unwrap(), "wrong").unwrap();
    let error = Mailbox::connect(&settings, None).await.err().expect("login must fail");
    let expected = format!("IMAP login failed for {} on 127.0.0.1:{}", stack.user, stack.imaps_port());
    assert!(format!("{error:#}").contains(&expected), "{error:#}");
    // It will not heal by itself: the daemon tells the referents.
    let refusal = choixbot::mailbox::refusal(&error).expect("a refused login is a refusal");
    assert_eq!(refusal.kind(), "login_refused");
}

#[tokio::test]
async fn a_missing_folder_is_a_refusal_that_names_it() {
    let stack = Account::shared().await;
    let mut mailbox = connect(&stack, Security::Tls).await;
    let error = mailbox.select("Réponses").await.expect_err("no such folder");
    assert!(format!("{error:#}").contains("cannot select the IMAP folder \"Réponses\""), "{error:#}");
    let refusal = choixbot::mailbox::refusal(&error)
        .unwrap_or_else(|| panic!("a missing folder is a refusal: {error:?}"));
    assert_eq!(refusal.kind(), "folder_missing");
    // The same with a name imap-proto can read back in the NO.
    let mut mailbox = connect(&stack, Security::Tls).await;
    let error = mailbox.select("Absent").await.expect_err("no such folder");
    assert_eq!(choixbot::mailbox::refusal(&error).map(|r| r.kind()), Some("folder_missing"), "{error:#}");
}

#[tokio::test]
async fn a_server_that_is_not_there_gives_the_connect_error() {
    let stack = Account::shared().await;
    // A port nobody listens on: bound, then released.
    let mut settings = settings(&stack, Security::None);
    settings.port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let error = Mailbox::connect(&settings, None).await.err().expect("connect must fail");
    let expected = format!("cannot connect to IMAP server 127.0.0.1:{}", settings.port);
    assert!(format!("{error:#}").contains(&expected), "{error:#}");
}

#[tokio::test]
async fn fetch_after_returns_only_the_new_uids_with_the_bytes_intact() {
    let stack = Account::shared().await;
    let first = deliver(&stack, "first");
    let second = deliver(&stack, "second");
    let mut mailbox = connect(&stack, Security::Tls).await;
    mailbox.select("INBOX").await.unwrap();
    let all = mailbox.fetch_after(0, 100).await.unwrap();
    assert_eq!(all.len(), 2);
    // Postfix and Dovecot add trace headers on top; the rest is untouched.
    assert!(all[0].raw.ends_with(&first), "{}", String::from_utf8_lossy(&all[0].raw));
    assert!(all[1].raw.ends_with(&second), "{}", String::from_utf8_lossy(&all[1].raw));
    let after_first = mailbox.fetch_after(all[0].uid, 100).await.unwrap();
    assert_eq!(after_first.iter().map(|m| m.uid).collect::<Vec<_>>(), vec![all[1].uid]);
    // `UID n:*` names the last message even when n is above every UID.
    assert!(mailbox.fetch_after(all[1].uid, 100).await.unwrap().is_empty());
    assert_eq!(mailbox.fetch_after(0, 1).await.unwrap().len(), 1, "max is respected");
}

/// Delivers two messages, moves the first to the processed folder, and
/// returns how the move was done.
async fn move_first_of_two(stack: &Account) -> (Moved, Mailbox) {
    deliver(stack, "to move");
    deliver(stack, "to keep");
    let mut mailbox = connect(stack, Security::Tls).await;
    mailbox.ensure_folder(PROCESSED).await.unwrap();
    mailbox.ensure_folder(PROCESSED).await.expect("ensure_folder twice is fine");
    mailbox.select("INBOX").await.unwrap();
    let fetched = mailbox.fetch_after(0, 10).await.unwrap();
    let moved = mailbox.move_to(&[fetched[0].uid], PROCESSED).await.unwrap();
    (moved, mailbox)
}

fn subjects(messages: &[Vec<u8>]) -> Vec<String> {
    messages
        .iter()
        .filter_map(|raw| {
            let text = String::from_utf8_lossy(raw);
            text.lines().find_map(|line| line.strip_prefix("Subject: ").map(str::to_string))
        })
        .collect()
}

#[tokio::test]
async fn move_to_uses_move_and_the_message_leaves_the_inbox() {
    let stack = Account::shared().await;
    let (moved, mailbox) = move_first_of_two(&stack).await;
    assert!(mailbox.capabilities().move_command);
    assert_eq!(moved, Moved::Moved);
    assert_eq!(subjects(&stack.messages_in(&stack.user, PROCESSED)), vec!["to move"]);
    assert_eq!(subjects(&stack.messages_in(&stack.user, "INBOX")), vec!["to keep"]);
}

#[tokio::test]
async fn move_to_without_move_copies_flags_and_expunges_with_uidplus() {
    let capability = format!("{BASIC_IMAP_CAPABILITY} UIDPLUS");
    let stack = Account::own(MailStack::builder().imap_capability(&capability)).await;
    let (moved, mailbox) = move_first_of_two(&stack).await;
    assert!(!mailbox.capabilities().move_command && mailbox.capabilities().uidplus);
    assert_eq!(moved, Moved::Moved);
    assert_eq!(subjects(&stack.messages_in(&stack.user, PROCESSED)), vec!["to move"]);
    assert_eq!(subjects(&stack.messages_in(&stack.user, "INBOX")), vec!["to keep"]);
}

#[tokio::test]
async fn move_to_without_uidplus_never_expunges() {
    let stack = Account::own(MailStack::builder().imap_capability(BASIC_IMAP_CAPABILITY)).await;
    let (moved, mut mailbox) = move_first_of_two(&stack).await;
    assert_eq!(moved, Moved::CopiedAndFlaggedDeleted);
    assert_eq!(subjects(&stack.messages_in(&stack.user, PROCESSED)), vec!["to move"]);
    assert_eq!(stack.messages_in(&stack.user, "INBOX").len(), 2, "no EXPUNGE without UIDPLUS");
    assert_eq!(stack.flagged_deleted_in(&stack.user, "INBOX"), 1);
    // The copy stays below the daemon's position, which is what keeps it
    // from being read again (flags hide nothing, see the next test).
    let all = mailbox.fetch_after(0, 10).await.unwrap();
    let after_moved = mailbox.fetch_after(all[0].uid, 10).await.unwrap();
    assert_eq!(subjects(&after_moved.into_iter().map(|m| m.raw).collect::<Vec<_>>()), vec!["to keep"]);
}

/// Regression: `fetch_after` searched `UNDELETED`, so a reply that the
/// referent's mail program flagged \Deleted (or a phone "archived" that
/// way) before the daemon saw it was never decided.
#[tokio::test]
async fn fetch_after_returns_messages_another_client_flagged_deleted_or_seen() {
    let stack = Account::shared().await;
    deliver(&stack, "deleted");
    deliver(&stack, "seen");
    deliver(&stack, "untouched");
    let mut other = OtherClient::connect(stack.imap_port(), &stack.user, stack.password(), "INBOX").await;
    let uids = other.uids().await;
    other.add_flags(&uids[..1], "\\Deleted \\Seen").await.unwrap();
    other.add_flags(&uids[1..2], "\\Seen \\Flagged").await.unwrap();
    assert_eq!(other.deleted().await, vec![uids[0]], "the test aimed wrong");

    let mut mailbox = connect(&stack, Security::Tls).await;
    mailbox.select("INBOX").await.unwrap();
    let fetched = mailbox.fetch_after(0, 10).await.unwrap();
    let raws: Vec<Vec<u8>> = fetched.into_iter().map(|m| m.raw).collect();
    assert_eq!(subjects(&raws), vec!["deleted", "seen", "untouched"]);
    other.logout().await;
}

/// Regression: when another client moved a message between our fetch and
/// our move, Dovecot refused the move with `NO [EXPUNGEISSUED]` and the
/// daemon dropped its connection and reconnected. The move now completes
/// for the messages that are still there, on the same connection.
#[tokio::test]
async fn a_move_racing_another_clients_move_completes_on_the_same_connection() {
    let stack = Account::shared().await;
    // Ours first: a partial copy before the refusal would show as a
    // second copy once the move is tried again.
    deliver(&stack, "ours");
    deliver(&stack, "taken by the other client");
    let mut ours = connect(&stack, Security::Tls).await;
    ours.ensure_folder(PROCESSED).await.unwrap();
    ours.select("INBOX").await.unwrap();
    let uids: Vec<u32> = ours.fetch_after(0, 10).await.unwrap().iter().map(|m| m.uid).collect();

    let mut other = connect(&stack, Security::Tls).await;
    other.ensure_folder("Autre").await.unwrap();
    other.select("INBOX").await.unwrap();
    other.move_to(&uids[1..], "Autre").await.unwrap();
    other.logout().await.unwrap();

    // `ours` has not been told of the expunge yet.
    let moved = ours.move_to(&uids, PROCESSED).await.expect("the move goes on despite the race");
    assert_eq!(moved, Moved::Moved);
    assert_eq!(subjects(&stack.messages_in(&stack.user, PROCESSED)), vec!["ours"]);
    assert_eq!(subjects(&stack.messages_in(&stack.user, "Autre")), vec!["taken by the other client"]);
    assert!(stack.messages_in(&stack.user, "INBOX").is_empty());
    assert!(ours.fetch_after(0, 10).await.expect("the connection is still usable").is_empty());
}

/// Waits for a change while a message is delivered: the delivery starts
/// once the wait has had time to begin (if it had not, the change is
/// reported at its start instead, which the assertions accept too).
async fn wait_while_delivering(stack: &Account, mailbox: &mut Mailbox) -> Wake {
    let deliver_later = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let raw = format!("From: b@orange.fr\r\nTo: {}\r\nSubject: wake\r\n\r\n1234\r\n", stack.user);
        // A short blocking SMTP exchange; delivery itself is asynchronous.
        stack.send("b@orange.fr", &[&stack.user], raw.as_bytes()).unwrap();
    };
    let (wake, ()) = tokio::join!(mailbox.wait_for_change(Duration::from_secs(60)), deliver_later);
    wake.unwrap()
}

#[tokio::test]
async fn idle_wakes_when_a_message_is_delivered() {
    let stack = Account::shared().await;
    let mut mailbox = connect(&stack, Security::Tls).await;
    assert!(mailbox.capabilities().idle);
    mailbox.select("INBOX").await.unwrap();
    assert!(mailbox.fetch_after(0, 10).await.unwrap().is_empty());
    let wake = wait_while_delivering(&stack, &mut mailbox).await;
    assert_eq!(wake, Wake::Changed);
    assert_eq!(mailbox.fetch_after(0, 10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn without_idle_the_wait_polls_and_the_message_is_fetched() {
    let stack = Account::own(MailStack::builder().imap_capability(BASIC_IMAP_CAPABILITY)).await;
    let mut mailbox = connect(&stack, Security::Tls).await;
    assert!(!mailbox.capabilities().idle);
    mailbox.select("INBOX").await.unwrap();
    wait_while_delivering(&stack, &mut mailbox).await;
    stack.wait_for_messages(&stack.user, 1, DELIVERY).unwrap();
    mailbox.wait_for_change(Duration::from_secs(60)).await.unwrap();
    assert_eq!(mailbox.fetch_after(0, 10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn mail_delivered_after_an_idle_ended_is_not_missed_by_fetch_after() {
    let stack = Account::shared().await;
    let mut mailbox = connect(&stack, Security::Tls).await;
    mailbox.select("INBOX").await.unwrap();
    // Nothing is delivered: the wait ends by its own timer, then DONE. A
    // UID SEARCH alone would not see the message delivered next (Dovecot
    // shows new mail only at the end of a command): fetch_after NOOPs first.
    assert_eq!(mailbox.wait_for_change(Duration::from_secs(1)).await.unwrap(), Wake::TimedOut);
    deliver(&stack, "after idle");
    assert_eq!(mailbox.fetch_after(0, 10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_certificate_from_an_unknown_ca_is_refused() {
    let stack = Account::shared().await;
    let mut settings = settings(&stack, Security::Tls);
    settings.ca_file = String::new();
    let error = Mailbox::connect(&settings, None).await.err().expect("TLS must fail");
    let text = format!("{error:#}");
    assert!(text.contains("cannot connect to IMAP server") && text.contains("TLS handshake"), "{text}");
    let refusal = choixbot::mailbox::refusal(&error).expect("an untrusted certificate is a refusal");
    assert_eq!(refusal.kind(), "certificate_refused");
}

#[tokio::test]
async fn a_self_signed_ca_true_certificate_given_as_ca_file_is_trusted() {
    // Regression: refused with `CaUsedAsEndEntity` even though it was the
    // very certificate given as ca_file.
    let stack = Account::own(MailStack::builder().self_signed_certificate()).await;
    let mut mailbox = connect(&stack, Security::Tls).await;
    mailbox.select("INBOX").await.expect("the INBOX of a server with its own certificate");
    let mut starttls = connect(&stack, Security::Starttls).await;
    starttls.select("INBOX").await.unwrap();
}

/// `sha256 Fingerprint=AB:CD:…`, as `openssl x509 -fingerprint` shows it.
fn openssl_fingerprint(pem: &std::path::Path) -> String {
    let output = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(pem)
        .output()
        .expect("openssl runs");
    let text = String::from_utf8(output.stdout).unwrap();
    text.trim().rsplit_once('=').expect("a fingerprint line").1.to_string()
}

#[tokio::test]
async fn a_certificate_is_pinned_by_its_fingerprint_without_a_file_and_a_refusal_gives_it() {
    let stack = Account::own(MailStack::builder().self_signed_certificate()).await;
    let fingerprint = openssl_fingerprint(&stack.ca_pem_path());
    let mut settings = settings(&stack, Security::Tls);
    settings.ca_file = String::new();
    let error = Mailbox::connect(&settings, None).await.err().expect("not trusted yet");
    let expected = format!("tls_fingerprint = \"sha256:{}\"", fingerprint.replace(':', "").to_lowercase());
    assert!(format!("{error:#}").contains(&expected), "the refusal says which setting trusts it: {error:#}");
    // As a browser or `openssl` shows it: colons and capitals.
    settings.tls_fingerprint = format!("SHA256:{fingerprint}");
    let mut mailbox = Mailbox::connect(&settings, None).await.expect("pinned by fingerprint");
    mailbox.select("INBOX").await.unwrap();
    settings.tls_fingerprint = format!("sha256:{}", "00".repeat(32));
    assert!(Mailbox::connect(&settings, None).await.is_err(), "another fingerprint is not trusted");
}

#[tokio::test]
async fn a_server_that_is_down_is_not_a_refusal() {
    // It comes back by itself: no alert, the daemon just reconnects.
    let stack = Account::shared().await;
    let mut settings = settings(&stack, Security::None);
    settings.port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let error = Mailbox::connect(&settings, None).await.err().expect("connect must fail");
    assert_eq!(choixbot::mailbox::refusal(&error), None, "{error:#}");
}

/// Regression: folder names went to the server in UTF-8, which IMAP4rev1
/// does not allow (Dovecot refuses "Choix traités" as invalid mUTF-7), so
/// a processed folder named in French stopped the daemon at start.
#[tokio::test]
async fn a_folder_named_in_french_is_created_and_used_in_modified_utf7() {
    let stack = Account::shared().await;
    deliver(&stack, "to move");
    let folder = "Choix traités";
    let mut mailbox = connect(&stack, Security::Tls).await;
    mailbox.ensure_folder(folder).await.expect("the folder is created");
    mailbox.ensure_folder(folder).await.expect("and found the second time");
    mailbox.select("INBOX").await.unwrap();
    let uids: Vec<u32> = mailbox.fetch_after(0, 10).await.unwrap().iter().map(|m| m.uid).collect();
    assert_eq!(mailbox.move_to(&uids, folder).await.unwrap(), Moved::Moved);
    // Dovecot's Maildir keeps the name as IMAP spells it.
    assert_eq!(subjects(&stack.messages_in(&stack.user, "Choix trait&AOk-s")), vec!["to move"]);
    assert_eq!(mailbox.select(folder).await.unwrap().exists, 1);
}
