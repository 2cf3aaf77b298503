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
