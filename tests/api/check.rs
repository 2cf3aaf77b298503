//! `choixbot check` against the real Dovecot and Postfix: everything
//! working (also with a self-signed certificate, given as `ca_file` or
//! pinned by its fingerprint), then each failure a new referent meets, each
//! with what to change, and exit 1.

use mailstack::MailStack;

use crate::helpers::describe;
use crate::mail_helpers::*;

/// Runs `choixbot check`: its exit code and stdout.
fn check(app: &MailApp) -> (Option<i32>, String) {
    let output = app.app.choixbot(&["check"]);
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success() || String::from_utf8_lossy(&output.stderr).contains("problem(s) found"),
        "{}",
        describe(&output)
    );
    (output.status.code(), stdout)
}

/// Replaces `from` by `to` in the configuration.
fn edit_config(app: &MailApp, from: &str, to: &str) {
    let config = std::fs::read_to_string(&app.app.config).unwrap();
    assert!(config.contains(from), "{from:?} is not in the config:\n{config}");
    std::fs::write(&app.app.config, config.replacen(from, to, 1)).unwrap();
}

/// Expects a failed check naming `failure`, with `remedy` as what to change.
fn assert_fails(app: &MailApp, failure: &str, remedy: &str) {
    let (code, stdout) = check(app);
    assert_eq!(code, Some(1), "{stdout}");
    let line = stdout.lines().position(|line| line.starts_with("FAILED") && line.contains(failure));
    let line = line.unwrap_or_else(|| panic!("no FAILED line with {failure:?}:\n{stdout}"));
    let next = stdout.lines().nth(line + 1).unwrap_or_default();
    assert!(next.contains('→') && next.contains(remedy), "the remedy is not {remedy:?}:\n{stdout}");
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn deadline() -> String {
    paris_time(chrono::Duration::days(30))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_working_mailbox_passes_and_the_processed_folder_is_created_once() {
    let app = spawn_mail_app(&deadline()).await;
    let (code, first) = check(&app);
    assert_eq!(code, Some(0), "{first}");
    for needle in [
        "ok      connected and logged in",
        "ok      the server offers IDLE, MOVE and UIDPLUS",
        "ok      folder \"INBOX\"",
        "created now",
        &format!("ok      the server accepts <{BOT}> as the sender (nothing was sent)"),
        "ok      every template renders",
        "Everything works",
    ] {
        assert!(first.contains(needle), "missing {needle:?}:\n{first}");
    }
    assert_eq!(first.matches("every template renders").count(), 1, "{first}");
    let (code, second) = check(&app);
    assert_eq!(code, Some(0), "{second}");
    assert!(second.contains(": exists") && !second.contains("created now"), "{second}");
    app.wait_for_postfix_idle();
    assert!(app.mailbox(REFERENT).is_empty(), "check sent something");

    let sent = app.app.ok(&["check", "--send"]);
    assert!(sent.contains(&format!("ok      sent to {REFERENT}")), "{sent}");
    let test = app.wait_for(REFERENT, 1).remove(0);
    let (subject, text) = subject_and_text(&test);
    assert!(
        subject.contains("message de test") && text.contains("choixbot check --send"),
        "{subject}\n{text}"
    );
}

#[tokio::test]
async fn a_self_signed_certificate_given_as_ca_file_or_pinned_by_fingerprint_passes() {
    let app = spawn_mail_app_on(MailStack::builder().self_signed_certificate(), &deadline()).await;
    let (code, stdout) = check(&app);
    assert_eq!(code, Some(0), "the self-signed certificate as ca_file:\n{stdout}");

    let ca = app.stack.ca_pem_path().display().to_string();
    edit_config(&app, &format!("ca_file = \"{ca}\""), "ca_file = \"\"");
    let (code, refused) = check(&app);
    assert_eq!(code, Some(1), "{refused}");
    let setting = refused
        .lines()
        .find_map(|line| line.split("tls_fingerprint = \"").nth(1))
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("the refusal does not give the fingerprint's setting:\n{refused}"))
        .to_string();
    edit_config(&app, "ca_file = \"\"", &format!("tls_fingerprint = \"{setting}\""));
    let (code, pinned) = check(&app);
    assert_eq!(code, Some(0), "pinned by {setting}:\n{pinned}");
}

#[tokio::test]
async fn each_failure_says_what_to_change() {
    let app = spawn_mail_app(&deadline()).await;
    let password = app.app.dir.path().join("imap-password");

    std::fs::write(&password, "not-the-password").unwrap();
    assert_fails(&app, "IMAP login failed", "check imap.username and the password");
    std::fs::write(&password, app.stack.password()).unwrap();

    let imaps = format!("port = {}", app.stack.imaps_port());
    edit_config(&app, &imaps, &format!("port = {}", closed_port()));
    assert_fails(&app, "cannot connect to IMAP server", "check imap.host, imap.port and imap.security");
    edit_config(&app, &format!("port = {}", closed_port_in(&app)), &imaps);

    let ca = format!("ca_file = \"{}\"", app.stack.ca_pem_path().display());
    edit_config(&app, &ca, "ca_file = \"\"");
    assert_fails(
        &app,
        "refused its certificate",
        "give the server's certificate (or its CA) as imap.ca_file",
    );
    edit_config(&app, "ca_file = \"\"", &ca);

    edit_config(&app, "[imap]\n", "[imap]\nfolder = \"Nulle-part\"\n");
    assert_fails(&app, "\"Nulle-part\"", "create the folder, or fix imap.folder");
    edit_config(&app, "folder = \"Nulle-part\"\n", "");

    let smtp = format!("port = {}", app.stack.smtp_port());
    edit_config(&app, &smtp, &format!("port = {}", closed_port()));
    assert_fails(&app, "cannot connect to SMTP server", "check smtp.host, smtp.port and smtp.security");
    edit_config(&app, &format!("port = {}", closed_port_in(&app)), &smtp);

    let (code, stdout) = check(&app);
    assert_eq!(code, Some(0), "every setting is back:\n{stdout}");
}

#[tokio::test]
async fn an_smtp_server_refusing_the_sender_fails_the_check() {
    let app = spawn_mail_app_on(MailStack::builder().reject_sender(BOT), &deadline()).await;
    assert_fails(
        &app,
        &format!("refuses the sender <{BOT}>"),
        "set mail.from to an address this account may send as",
    );
}

/// The closed port written in the config by the last edit (the second
/// `port = ` line is SMTP's, the first IMAP's: whichever is not a stack
/// port).
fn closed_port_in(app: &MailApp) -> u16 {
    let config = std::fs::read_to_string(&app.app.config).unwrap();
    let stack_ports = [app.stack.imaps_port(), app.stack.smtp_port()];
    config
        .lines()
        .filter_map(|line| line.strip_prefix("port = ")?.trim().parse::<u16>().ok())
        .find(|port| !stack_ports.contains(port))
        .expect("a closed port in the config")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invite_refuses_a_mailbox_that_does_not_work_unless_forced() {
    let app = spawn_mail_app(&deadline()).await;
    std::fs::write(app.app.dir.path().join("imap-password"), "not-the-password").unwrap();
    let refused = app.app.choixbot(&["invite"]);
    assert_eq!(refused.status.code(), Some(1), "{}", describe(&refused));
    assert!(
        String::from_utf8_lossy(&refused.stdout).contains("FAILED  IMAP login failed"),
        "{}",
        describe(&refused)
    );
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--force"), "{}", describe(&refused));
    let store = app.app.store().await;
    assert!(store.outbox_counts().await.unwrap().is_empty(), "an invitation was queued");

    let forced = app.app.ok(&["invite", "--force"]);
    assert!(forced.contains("newly queued"), "{forced}");
    app.wait_for(PLAIN_INTERNS[0], 1);
}
