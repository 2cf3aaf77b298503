//! Logging in to IMAP with OAuth2 (SASL XOAUTH2), against Dovecot's
//! `oauth2` passdb validating locally signed JWTs, and a token endpoint
//! this test starts: the refresh, the rotation of the refresh token, a
//! token refused by the server replaced once, and a revoked authorization.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use choixbot::clock::Clock;
use choixbot::mailbox::{refusal, Mailbox, Refusal};
use choixbot::oauth::TokenSource;
use choixbot::settings::{Auth, ImapSettings, OAuth2Settings, Security};
use hmac::{Hmac, Mac};
use mailstack::MailStack;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const USER: &str = "choix@asso.example";
const KEY: &[u8] = b"a key only this test and Dovecot know";

/// A JWT for `email`, signed with [`KEY`] (HS256), expiring `exp_in` s from now.
fn jwt(email: &str, exp_in: i64) -> String {
    let now = chrono::Utc::now().timestamp();
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = serde_json::json!({"sub": email, "email": email, "iat": now - 5, "exp": now + exp_in});
    let body = URL_SAFE_NO_PAD.encode(claims.to_string());
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(KEY).unwrap();
    mac.update(format!("{header}.{body}").as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{header}.{body}.{signature}")
}

/// What the token endpoint does.
#[derive(Default)]
struct Endpoint {
    /// The refresh token it accepts; it answers with a new one (rotation).
    valid_refresh: Mutex<String>,
    /// Lifetimes (s) of the next access tokens' `exp`, first first; then 600.
    lifetimes: Mutex<Vec<i64>>,
    /// Requests answered.
    requests: AtomicUsize,
}

/// Starts the token endpoint on a free loopback port; returns its URL.
async fn token_endpoint(endpoint: Arc<Endpoint>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/token", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let endpoint = endpoint.clone();
            tokio::spawn(async move {
                let (request_line, body) = read_request(&mut stream).await;
                let (status, json) = match request_line.contains("/device ") {
                    true => device(&body),
                    false => answer(&endpoint, &body),
                };
                let response = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{json}",
                    json.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    url
}

/// The request line and body of one HTTP request.
async fn read_request(stream: &mut tokio::net::TcpStream) -> (String, String) {
    let mut bytes = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let read = stream.read(&mut buffer).await.unwrap();
        bytes.extend_from_slice(&buffer[..read]);
        let text = String::from_utf8_lossy(&bytes).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|line| {
                    line.to_ascii_lowercase().strip_prefix("content-length:").map(str::to_string)
                })
                .map_or(0, |value| value.trim().parse::<usize>().unwrap());
            if bytes.len() >= end + 4 + length || read == 0 {
                let request_line = text.lines().next().unwrap_or_default().to_string();
                return (request_line, text[end + 4..].to_string());
            }
        }
    }
}

/// The device authorization endpoint (RFC 8628): one code, already
/// approved, as if the referent had typed it at once.
fn device(body: &str) -> (&'static str, String) {
    assert!(body.contains("client_id=choixbot-test"), "{body}");
    let json = serde_json::json!({
        "device_code": "dev-1", "user_code": "WDJB-MJHT", "verification_uri": "https://login.example/device",
        "expires_in": 900, "interval": 1,
    });
    ("200 OK", json.to_string())
}

fn answer(endpoint: &Endpoint, body: &str) -> (&'static str, String) {
    endpoint.requests.fetch_add(1, Ordering::SeqCst);
    // The values this test uses need no percent-decoding.
    let form: std::collections::HashMap<String, String> = body
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect();
    let mut valid = endpoint.valid_refresh.lock().unwrap();
    let device_code = form.get("grant_type").is_some_and(|grant| grant.ends_with("device_code"))
        && form.get("device_code").map(String::as_str) == Some("dev-1");
    if !device_code
        && (form.get("grant_type").map(String::as_str) != Some("refresh_token")
            || form.get("refresh_token") != Some(&*valid))
    {
        let json = r#"{"error":"invalid_grant","error_description":"the refresh token was revoked"}"#;
        return ("400 Bad Request", json.to_string());
    }
    let rotated = format!("{}-next", *valid);
    *valid = rotated.clone();
    let mut lifetimes = endpoint.lifetimes.lock().unwrap();
    let lifetime = if lifetimes.is_empty() { 600 } else { lifetimes.remove(0) };
    let json = serde_json::json!({
        "access_token": jwt(USER, lifetime), "token_type": "Bearer", "expires_in": 3600, "refresh_token": rotated,
    });
    ("200 OK", json.to_string())
}

fn imap_settings(stack: &MailStack) -> ImapSettings {
    ImapSettings {
        host: "127.0.0.1".into(),
        port: stack.imaps_port(),
        security: Security::Tls,
        username: USER.into(),
        auth: Auth::Oauth2,
        password_env: "UNUSED".into(),
        password_file: None,
        folder: "INBOX".into(),
        processed_folder: "Traités".into(),
        ca_file: stack.ca_pem_path().display().to_string(),
        tls_fingerprint: String::new(),
        poll_seconds: 1,
        timeout_seconds: 20,
        idle_silence_seconds: 300,
    }
}

struct Setup {
    stack: MailStack,
    endpoint: Arc<Endpoint>,
    tokens: TokenSource,
    oauth2: OAuth2Settings,
    token_file: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

async fn setup() -> Setup {
    setup_on(Clock::system()).await
}

async fn setup_on(clock: Clock) -> Setup {
    let stack = crate::stacks::start(MailStack::builder().oauth2_key(KEY)).await;
    let endpoint = Arc::new(Endpoint { valid_refresh: Mutex::new("rt-1".into()), ..Default::default() });
    let token_url = token_endpoint(endpoint.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("oauth2-token.json");
    std::fs::write(&token_file, r#"{"refresh_token":"rt-1","saved_at":"2026-12-01T10:00:00Z"}"#).unwrap();
    let settings: OAuth2Settings = toml::from_str(&format!(
        "provider = \"custom\"\nclient_id = \"choixbot-test\"\ntoken_file = {:?}\n\
         device_url = \"{token_url}/device\"\ntoken_url = \"{token_url}\"\nscopes = [\"mail\"]",
        token_file.display().to_string()
    ))
    .unwrap();
    let tokens = TokenSource::new(&settings, clock).unwrap();
    Setup { stack, endpoint, tokens, oauth2: settings, token_file, _dir: dir }
}

#[tokio::test]
async fn imap_logs_in_with_a_refreshed_token_and_keeps_the_rotated_refresh_token() {
    let setup = setup().await;
    let settings = imap_settings(&setup.stack);
    let mut mailbox = Mailbox::connect(&settings, Some(&setup.tokens)).await.expect("XOAUTH2 login");
    mailbox.select("INBOX").await.expect("the folder is selected");
    assert_eq!(setup.endpoint.requests.load(Ordering::SeqCst), 1);
    let kept = std::fs::read_to_string(&setup.token_file).unwrap();
    assert!(kept.contains("rt-1-next"), "the rotated refresh token is kept: {kept}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&setup.token_file).unwrap().permissions().mode() & 0o777, 0o600);

    // The access token is still good: a second login asks for none.
    Mailbox::connect(&settings, Some(&setup.tokens)).await.expect("second login");
    assert_eq!(setup.endpoint.requests.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_token_the_server_refuses_as_expired_is_replaced_and_the_login_goes_on() {
    let setup = setup().await;
    // The first token's JWT has expired although the endpoint announced an
    // hour: Dovecot refuses it; choixbot asks for another one.
    setup.endpoint.lifetimes.lock().unwrap().push(-60);
    let settings = imap_settings(&setup.stack);
    Mailbox::connect(&settings, Some(&setup.tokens)).await.expect("login after one refresh more");
    assert_eq!(setup.endpoint.requests.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_revoked_refresh_token_is_a_refusal_that_says_to_run_login() {
    let setup = setup().await;
    *setup.endpoint.valid_refresh.lock().unwrap() = "another".into();
    let settings = imap_settings(&setup.stack);
    let error = Mailbox::connect(&settings, Some(&setup.tokens)).await.err().expect("no login");
    let refusal = refusal(&error).expect("a refusal the referents are told about");
    assert!(matches!(refusal, Refusal::Authorization { .. }), "{refusal:?}");
    assert!(format!("{error:#}").contains("the refresh token was revoked"), "{error:#}");
    assert!(refusal.remedy().contains("choixbot login"), "{}", refusal.remedy());
}

/// Regression: a second refused XOAUTH2 login, with a token fresh from the
/// endpoint, told the referent to check the password, which there is none
/// of. It now names what can be wrong with a valid authorization.
#[tokio::test]
async fn a_fresh_token_refused_again_is_not_told_as_a_wrong_password() {
    let setup = setup().await;
    let mut settings = imap_settings(&setup.stack);
    // The authorization was given for USER; the configuration names another mailbox.
    settings.username = "autre@asso.example".into();
    let error = Mailbox::connect(&settings, Some(&setup.tokens)).await.err().expect("no login");
    let refusal = refusal(&error).expect("a refusal the referents are told about");
    assert!(matches!(refusal, Refusal::TokenRefused { .. }), "{refusal:?}");
    assert_eq!(refusal.kind(), "token_refused");
    assert!(!refusal.remedy().contains("password"), "{}", refusal.remedy());
    assert!(refusal.remedy().contains("imap.username"), "{}", refusal.remedy());
    assert_eq!(setup.endpoint.requests.load(Ordering::SeqCst), 2, "one fresh token tried before giving up");
}

#[tokio::test]
async fn login_shows_the_address_and_code_then_keeps_a_refresh_token_imap_accepts() {
    let setup = setup().await;
    std::fs::remove_file(&setup.token_file).unwrap();
    let before = Mailbox::connect(&imap_settings(&setup.stack), Some(&setup.tokens)).await.err().unwrap();
    assert!(matches!(refusal(&before), Some(Refusal::Authorization { .. })), "{before:#}");

    let settings = setup.oauth2.clone();
    let mut shown = Vec::new();
    choixbot::oauth::login::login(&settings, &Clock::system(), &mut shown).await.expect("the device flow");
    let shown = String::from_utf8(shown).unwrap();
    assert!(shown.contains("https://login.example/device") && shown.contains("WDJB-MJHT"), "{shown}");
    let kept = std::fs::read_to_string(&setup.token_file).unwrap();
    assert!(kept.contains("rt-1-next"), "{kept}");
    assert!(!shown.contains("rt-1-next"), "the refresh token is never shown: {shown}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&setup.token_file).unwrap().permissions().mode() & 0o777, 0o600);

    // The daemon's next login uses it.
    *setup.endpoint.valid_refresh.lock().unwrap() = "rt-1-next".into();
    Mailbox::connect(&imap_settings(&setup.stack), Some(&setup.tokens))
        .await
        .expect("login after choixbot login");
}

fn smtp_settings(stack: &MailStack) -> choixbot::settings::SmtpSettings {
    choixbot::settings::SmtpSettings {
        username: Some(USER.into()),
        auth: Auth::Oauth2,
        ..crate::smtp::settings(stack, Security::Tls)
    }
}

fn message(subject: &str) -> Vec<u8> {
    format!(
        "From: {USER}\r\nTo: interne@exemple.fr\r\nSubject: {subject}\r\nMessage-ID: <{subject}@asso.example>\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nVos choix sont enregistrés.\r\n"
    )
    .into_bytes()
}

#[tokio::test]
async fn smtp_sends_with_xoauth2_and_a_refused_token_is_replaced_at_the_next_attempt() {
    use choixbot::outbox::transport::{SendOutcome, SmtpTransport};
    let setup = setup().await;
    setup.endpoint.lifetimes.lock().unwrap().push(-60);
    let tokens = Arc::new(setup.tokens);
    let transport = SmtpTransport::for_settings(&smtp_settings(&setup.stack), Some(&tokens)).unwrap();
    let to = vec!["interne@exemple.fr".to_string()];

    let first = transport.send_raw(USER, &to, &message("premier")).await;
    assert!(
        matches!(&first, SendOutcome::Transient(text) if text.contains("refused the OAuth2 token")),
        "an expired token is refused at AUTH, before any mail command: {first:?}"
    );
    let second = transport.send_raw(USER, &to, &message("second")).await;
    assert_eq!(second, SendOutcome::Accepted);
    assert_eq!(setup.endpoint.requests.load(Ordering::SeqCst), 2);
    setup.stack.wait_for_messages("interne@exemple.fr", 1, std::time::Duration::from_secs(30)).unwrap();
    let log = std::fs::read_to_string(setup.stack.maillog_path()).unwrap();
    assert!(log.contains(&format!("sasl_method=XOAUTH2, sasl_username={USER}")), "{log}");
}

#[tokio::test]
async fn an_access_token_is_replaced_before_it_expires_on_the_clock() {
    let clock = Clock::system();
    let setup = setup_on(clock.clone()).await;
    let (first, _) = setup.tokens.access_token().await.unwrap();
    // The endpoint announces an hour; 50 minutes later the token is kept.
    clock.advance(chrono::Duration::minutes(50));
    let (kept, _) = setup.tokens.access_token().await.unwrap();
    assert_eq!(setup.endpoint.requests.load(Ordering::SeqCst), 1);
    use secrecy::ExposeSecret;
    assert_eq!(kept.expose_secret(), first.expose_secret());
    // Within five minutes of its expiry, it is replaced before use.
    clock.advance(chrono::Duration::minutes(6));
    setup.tokens.access_token().await.unwrap();
    assert_eq!(setup.endpoint.requests.load(Ordering::SeqCst), 2);
}

/// The daemon with `auth = "oauth2"` for IMAP and SMTP: a reply is read
/// and answered, with no password anywhere in its configuration.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_reads_and_answers_with_oauth2_alone() {
    use crate::mail_helpers::{paris_time, spawn_mail_app_on, BOT};
    let app =
        spawn_mail_app_on(MailStack::builder().oauth2_key(KEY), &paris_time(chrono::Duration::days(2))).await;
    let endpoint = Arc::new(Endpoint { valid_refresh: Mutex::new("rt-1".into()), ..Default::default() });
    let token_url = token_endpoint(endpoint.clone()).await;
    let token_file =
        app.app.write("oauth2-token.json", r#"{"refresh_token":"rt-1","saved_at":"2026-12-01T10:00:00Z"}"#);
    let config = std::fs::read_to_string(&app.app.config).unwrap();
    let password_line = config.lines().find(|line| line.starts_with("password_file")).unwrap().to_string();
    let plain_smtp = format!("port = {}\nsecurity = \"none\"", app.stack.smtp_port());
    assert!(config.contains(&plain_smtp), "{config}");
    let config = config.replace(&password_line, "auth = \"oauth2\"").replace(
        &plain_smtp,
        &format!(
            "port = {}\nsecurity = \"tls\"\nusername = \"{BOT}\"\nauth = \"oauth2\"\nca_file = \"{}\"",
            app.stack.smtps_port(),
            app.stack.ca_pem_path().display()
        ),
    );
    let config = format!(
        "{config}\n[oauth2]\nprovider = \"custom\"\nclient_id = \"choixbot-test\"\ntoken_file = \"{}\"\n\
         device_url = \"{token_url}/device\"\ntoken_url = \"{token_url}\"\nscopes = [\"mail\"]\n",
        token_file.display()
    );
    assert!(!config.contains("password"), "no password at all: {config}");
    std::fs::write(&app.app.config, config).unwrap();

    let daemon = app.start_daemon().await;
    let intern = "camille.martin@gmail.com";
    app.deliver_valid_reply(intern).await;
    let answer = app.wait_for(intern, 1).remove(0);
    let (subject, _) = crate::mail_helpers::subject_and_text(&answer);
    assert!(subject.to_lowercase().contains("choix"), "the confirmation: {subject}");
    daemon.stop().await;
    let log = std::fs::read_to_string(app.stack.maillog_path()).unwrap();
    assert!(log.contains(&format!("sasl_method=XOAUTH2, sasl_username={BOT}")), "{log}");
    assert!(endpoint.requests.load(Ordering::SeqCst) >= 1);
}

/// A revoked authorization (the token endpoint answers `invalid_grant`)
/// will not heal alone: the referents are told by email, `status` says
/// what to do, and once `choixbot login` has written a good token the
/// daemon reads again and `status` stops saying it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_authorization_is_told_to_the_referents_and_shown_by_status_until_login() {
    use crate::mail_helpers::{paris_time, spawn_mail_app_on, REFERENT};
    let app =
        spawn_mail_app_on(MailStack::builder().oauth2_key(KEY), &paris_time(chrono::Duration::days(2))).await;
    // The endpoint knows only a refresh token that choixbot does not have.
    let endpoint =
        Arc::new(Endpoint { valid_refresh: Mutex::new("rt-given-later".into()), ..Default::default() });
    let token_url = token_endpoint(endpoint.clone()).await;
    let token_file = app
        .app
        .write("oauth2-token.json", r#"{"refresh_token":"rt-revoked","saved_at":"2026-12-01T10:00:00Z"}"#);
    let config = std::fs::read_to_string(&app.app.config).unwrap();
    let password_line = config.lines().find(|line| line.starts_with("password_file")).unwrap().to_string();
    let config = format!(
        "{}\n[oauth2]\nprovider = \"custom\"\nclient_id = \"choixbot-test\"\ntoken_file = \"{}\"\n\
         device_url = \"{token_url}/device\"\ntoken_url = \"{token_url}\"\nscopes = [\"mail\"]\n",
        config.replace(&password_line, "auth = \"oauth2\""),
        token_file.display()
    );
    std::fs::write(&app.app.config, config).unwrap();

    let daemon = app.start_daemon().await;
    let alert = app.wait_for(REFERENT, 1).remove(0);
    let (subject, text) = crate::mail_helpers::subject_and_text(&alert);
    assert!(subject.contains("refuse"), "the alert: {subject}");
    assert!(text.contains("choixbot login"), "the alert says what to do:\n{text}");
    assert!(text.contains("the refresh token was revoked"), "and what the endpoint said:\n{text}");
    app.wait_for_status("the refusal in status", |json| {
        json["mailbox_refused"]["kind"] == "authorization_refused"
    })
    .await;
    let status = app.app.ok(&["status"]);
    assert!(status.contains("THE MAILBOX REFUSES CHOIXBOT") && status.contains("choixbot login"), "{status}");

    // `choixbot login` run again (its result, written as it writes it).
    let fresh = r#"{"refresh_token":"rt-given-later","saved_at":"2026-12-04T10:00:00Z"}"#;
    std::fs::write(&token_file, fresh).unwrap();
    app.wait_for_status("the refusal gone once the mailbox is read", |json| {
        json["mailbox_refused"].is_null()
    })
    .await;
    let intern = "camille.martin@gmail.com";
    app.deliver_valid_reply(intern).await;
    assert_eq!(app.wait_for(intern, 1).len(), 1, "the reply read and answered after the new login");
    daemon.stop().await;
    assert_eq!(app.mailbox(REFERENT).len(), 1, "one alert for the outage, not one per attempt");
}
