//! The stack starts, delivers what it is sent, and cleans up after itself.

use std::time::Duration;

use mailstack::MailStack;

#[test]
fn mail_sent_to_any_domain_lands_in_that_address_maildir() {
    let stack = MailStack::start().expect("the mail stack starts");
    let raw = b"From: a@orange.fr\r\nTo: b@gmail.com\r\nSubject: hi\r\n\r\nline\r\n.dot line\r\n";
    stack.send("a@orange.fr", &["b@gmail.com", "choix+TOKEN@asso.example"], raw).unwrap();
    let messages = stack.wait_for_messages("b@gmail.com", 1, Duration::from_secs(20)).unwrap();
    let text = String::from_utf8_lossy(&messages[0]);
    assert!(text.contains("Subject: hi"), "{text}");
    assert!(text.contains("\n.dot line"), "{text}");
    let plus = stack.wait_for_messages("choix@asso.example", 1, Duration::from_secs(20)).unwrap();
    assert_eq!(plus.len(), 1);
}

#[test]
fn dropping_the_stack_removes_its_directory() {
    let stack = MailStack::start().expect("the mail stack starts");
    let dir = stack.dir().to_path_buf();
    let port = stack.smtp_port();
    drop(stack);
    assert!(!dir.exists(), "{} still exists", dir.display());
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err(), "Postfix still listens on {port}");
}

#[test]
fn dovecot_restarts_on_the_same_ports_and_smtp_stops_and_starts() {
    let mut stack = MailStack::start().expect("the mail stack starts");
    stack.send("a@x.fr", &["b@y.fr"], b"Subject: one\r\n\r\nbody\r\n").unwrap();
    stack.wait_for_messages("b@y.fr", 1, Duration::from_secs(20)).unwrap();
    // Dovecot writes the file before it answers LMTP: restarting it before
    // Postfix has the answer would make Postfix deliver the message again.
    wait_for_log(&stack, "status=sent");
    stack.restart_dovecot().unwrap();
    assert!(std::net::TcpStream::connect(("127.0.0.1", stack.imaps_port())).is_ok());
    stack.stop_smtp();
    assert!(stack.send("a@x.fr", &["b@y.fr"], b"Subject: refused\r\n\r\n").is_err());
    stack.start_smtp().unwrap();
    stack.send("a@x.fr", &["b@y.fr"], b"Subject: two\r\n\r\nbody\r\n").unwrap();
    let deliveries = {
        stack.wait_for_messages("b@y.fr", 2, Duration::from_secs(20)).unwrap();
        stack.deliveries("b@y.fr")
    };
    assert_eq!(deliveries.len(), 2);
    assert!(deliveries[0].at <= deliveries[1].at);
    let subjects: Vec<String> =
        deliveries.iter().map(|d| String::from_utf8_lossy(&d.raw).into_owned()).collect();
    assert!(
        subjects[1].contains("Subject: two"),
        "{subjects:?} {:?}",
        deliveries.iter().map(|d| d.at).collect::<Vec<_>>()
    );
}

fn wait_for_log(stack: &MailStack, needle: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !std::fs::read_to_string(stack.maillog_path()).unwrap_or_default().contains(needle) {
        assert!(std::time::Instant::now() < deadline, "no {needle:?} in Postfix's log");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn two_stacks_run_at_once_on_different_ports() {
    let first = MailStack::start().expect("the first stack starts");
    let second = MailStack::start().expect("the second stack starts");
    assert_ne!(first.smtp_port(), second.smtp_port());
    second.send("a@x.fr", &["c@z.fr"], b"Subject: second\r\n\r\n").unwrap();
    second.wait_for_messages("c@z.fr", 1, Duration::from_secs(20)).unwrap();
    assert!(first.messages("c@z.fr").is_empty());
}
