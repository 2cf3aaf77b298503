//! The outbox's SMTP transport against a real Postfix (crates/mailstack):
//! a message accepted arrives in the recipient's Maildir over every kind of
//! connection, and refusals are sorted into permanent and transient.

use std::time::Duration;

use choixbot::outbox::transport::{SendOutcome, SmtpTransport};
use choixbot::settings::{Security, SmtpSettings};
use mailstack::MailStack;

const FROM: &str = "choix@asso.example";
const INTERN: &str = "interne@gmail.com";

/// Settings for the stack's Postfix over `security` (the outbox tests use
/// them too).
pub(crate) fn settings(stack: &MailStack, security: Security) -> SmtpSettings {
    let (host, port) = match security {
        Security::Tls => ("localhost", stack.smtps_port()),
        Security::Starttls => ("127.0.0.1", stack.smtp_port()),
        Security::None => ("127.0.0.1", stack.smtp_port()),
    };
    SmtpSettings {
        host: host.into(),
        port,
        security,
        username: None,
        auth: Default::default(),
        password_env: "UNUSED".into(),
        password_file: None,
        ca_file: stack.ca_pem_path().display().to_string(),
        tls_fingerprint: String::new(),
        timeout_seconds: 20,
        retry_first_seconds: 30,
        retry_max_seconds: 1800,
    }
}

fn message(subject: &str) -> Vec<u8> {
    format!(
        "From: {FROM}\r\nTo: {INTERN}\r\nSubject: {subject}\r\nMessage-ID: <{subject}@asso.example>\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\
         Vos choix sont enregistrés.\r\n.ligne qui commence par un point\r\n"
    )
    .into_bytes()
}

async fn send(stack: &MailStack, security: Security, to: &str, raw: &[u8]) -> SendOutcome {
    let transport = SmtpTransport::new(&settings(stack, security), None).unwrap();
    transport.send_raw(FROM, &[to.to_string()], raw).await
}

#[tokio::test]
async fn a_message_sent_through_postfix_arrives_in_the_recipient_maildir() {
    let stack = crate::stacks::shared().await;
    let intern = crate::stacks::unique_address("interne", "gmail.com");
    let raw = message("plain");
    assert_eq!(send(stack, Security::None, &intern, &raw).await, SendOutcome::Accepted);
    let delivered = stack.wait_for_messages(&intern, 1, Duration::from_secs(30)).unwrap();
    // The Maildir stores LF endings; the body, dot line included, is intact.
    let stored = String::from_utf8(delivered[0].clone()).unwrap();
    let sent = String::from_utf8(raw).unwrap().replace("\r\n", "\n");
    assert!(stored.ends_with(&sent), "{stored:?}\n{sent:?}");
}

#[tokio::test]
async fn smtp_over_starttls_and_implicit_tls_with_the_stack_ca_is_accepted() {
    let stack = crate::stacks::shared().await;
    let intern = crate::stacks::unique_address("interne", "gmail.com");
    assert_eq!(send(stack, Security::Starttls, &intern, &message("starttls")).await, SendOutcome::Accepted);
    assert_eq!(send(stack, Security::Tls, &intern, &message("wrapper")).await, SendOutcome::Accepted);
    assert_eq!(stack.wait_for_messages(&intern, 2, Duration::from_secs(30)).unwrap().len(), 2);
}

/// Regression: a server with its own self-signed certificate (CA:TRUE, from
/// `openssl req -x509`) given as `smtp.ca_file` was refused by lettre's TLS
/// (`CaUsedAsEndEntity`), and every answer waited in the outbox for ever.
#[tokio::test]
async fn a_server_with_its_own_self_signed_certificate_is_trusted_as_ca_file_or_by_fingerprint() {
    let stack = crate::stacks::start(MailStack::builder().self_signed_certificate()).await;
    let sent = |settings: SmtpSettings, subject: &'static str| async move {
        let transport = SmtpTransport::new(&settings, None).unwrap();
        transport.send_raw(FROM, &[INTERN.to_string()], &message(subject)).await
    };
    // The certificate itself as ca_file, over implicit TLS and STARTTLS:
    // twice each, the second on the transport's remembered choice.
    for security in [Security::Tls, Security::Starttls] {
        let transport = SmtpTransport::new(&settings(&stack, security), None).unwrap();
        for round in ["first", "second"] {
            let outcome = transport.send_raw(FROM, &[INTERN.to_string()], &message(round)).await;
            assert_eq!(outcome, SendOutcome::Accepted, "{security:?}, {round} send");
        }
    }
    // Without it, the certificate is refused, and nothing is sent.
    let untrusted = SmtpSettings { ca_file: String::new(), ..settings(&stack, Security::Tls) };
    let refused = sent(untrusted.clone(), "refused").await;
    assert!(matches!(&refused, SendOutcome::Transient(text) if text.contains("certificate")), "{refused:?}");
    // Pinned by its fingerprint, without a file.
    let pem = std::fs::read(stack.ca_pem_path()).unwrap();
    let der = rustls_pemfile::certs(&mut pem.as_slice()).next().unwrap().unwrap();
    let fingerprint = choixbot::mailbox::pinning::fingerprint(&der);
    let pinned = SmtpSettings { tls_fingerprint: fingerprint, ..untrusted };
    assert_eq!(sent(pinned.clone(), "pinned").await, SendOutcome::Accepted);
    assert_eq!(stack.wait_for_messages(INTERN, 5, Duration::from_secs(30)).unwrap().len(), 5);

    // `choixbot check`'s look at the server trusts the same certificates.
    use choixbot::outbox::probe::probe;
    for settings in [settings(&stack, Security::Tls), settings(&stack, Security::Starttls), pinned] {
        let probed = probe(&settings, None, FROM).await;
        assert!(probed.as_ref().is_ok_and(|p| p.encrypted), "{:?}: {probed:?}", settings.security);
    }
    let refused =
        probe(&SmtpSettings { ca_file: String::new(), ..settings(&stack, Security::Tls) }, None, FROM).await;
    let refused = refused.expect_err("an untrusted certificate");
    assert!(
        refused.detail.contains("tls_fingerprint = \"sha256:"),
        "says what would trust it: {}",
        refused.detail
    );
}

#[tokio::test]
async fn a_rejected_recipient_is_a_permanent_failure() {
    let stack = crate::stacks::start(MailStack::builder().reject_recipient("ferme@orange.fr")).await;
    let outcome = send(&stack, Security::None, "ferme@orange.fr", &message("rejected")).await;
    assert!(matches!(&outcome, SendOutcome::Permanent(text) if text.contains("554")), "{outcome:?}");
}

#[tokio::test]
async fn a_refused_connection_is_a_transient_failure() {
    let mut stack = crate::stacks::start(MailStack::builder()).await;
    stack.stop_smtp();
    let outcome = send(&stack, Security::None, INTERN, &message("refused")).await;
    assert!(matches!(outcome, SendOutcome::Transient(_)), "{outcome:?}");
    // And once the server is back, the same transport settings work again.
    stack.start_smtp().unwrap();
    assert_eq!(send(&stack, Security::None, INTERN, &message("back")).await, SendOutcome::Accepted);
}

#[tokio::test]
async fn a_deferred_recipient_is_a_transient_failure() {
    let stack = crate::stacks::start(MailStack::builder().defer_recipient("plein@orange.fr")).await;
    let outcome = send(&stack, Security::None, "plein@orange.fr", &message("deferred")).await;
    assert!(matches!(&outcome, SendOutcome::Transient(text) if text.contains("450")), "{outcome:?}");
}

/// A fake SMTP server that accepts the envelope and the data, then closes
/// the connection instead of answering the end of DATA.
async fn server_that_hangs_up_after_data() -> u16 {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        let (reader, mut writer) = socket.into_split();
        let mut lines = BufReader::new(reader).lines();
        writer.write_all(b"220 fake ESMTP\r\n").await.unwrap();
        let mut in_data = false;
        while let Ok(Some(line)) = lines.next_line().await {
            let reply: &[u8] = match line.as_str() {
                "." if in_data => return, // hang up: the message may or may not be queued
                _ if in_data => continue,
                "DATA" => {
                    in_data = true;
                    b"354 go on\r\n"
                }
                _ if line.starts_with("EHLO") => b"250-fake\r\n250 8BITMIME\r\n",
                _ => b"250 ok\r\n",
            };
            writer.write_all(reply).await.unwrap();
        }
    });
    port
}

#[tokio::test]
async fn a_connection_lost_after_data_is_ambiguous() {
    let port = server_that_hangs_up_after_data().await;
    let settings = SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        security: Security::None,
        username: None,
        auth: Default::default(),
        password_env: "UNUSED".into(),
        password_file: None,
        ca_file: String::new(),
        tls_fingerprint: String::new(),
        timeout_seconds: 20,
        retry_first_seconds: 30,
        retry_max_seconds: 1800,
    };
    let transport = SmtpTransport::new(&settings, None).unwrap();
    let outcome = transport.send_raw(FROM, &[INTERN.to_string()], &message("lost")).await;
    assert!(matches!(outcome, SendOutcome::Ambiguous(_)), "{outcome:?}");
}

#[tokio::test]
async fn smtp_auth_over_tls_accepts_the_password_and_refuses_a_wrong_one() {
    let stack = crate::stacks::shared().await;
    let settings = settings(stack, Security::Tls);
    let login = |password: &str| Some((FROM.to_string(), secrecy::SecretString::from(password.to_string())));
    let good = SmtpTransport::new(&settings, login(stack.password())).unwrap();
    let outcome = good.send_raw(FROM, &[INTERN.to_string()], &message("authenticated")).await;
    assert_eq!(outcome, SendOutcome::Accepted);
    let bad = SmtpTransport::new(&settings, login("wrong")).unwrap();
    let outcome = bad.send_raw(FROM, &[INTERN.to_string()], &message("refused login")).await;
    assert!(matches!(&outcome, SendOutcome::Permanent(text) if text.contains("535")), "{outcome:?}");
}
