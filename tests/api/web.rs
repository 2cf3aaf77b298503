//! The `[web]` page of `choixbot run`, against the real binary, Dovecot and
//! Postfix: in Debian's Chromium (headless, driven through chromedriver
//! with fantoccini) for what a person sees, and over plain HTTP for what
//! the page must refuse.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::mail_helpers::{paris_time, spawn_mail_app, terminate, MailApp, PLAIN_INTERNS};

pub(crate) const PASSWORD: &str = "un mot de passe de référent";

/// A session with a `[web]` page and `choixbot run` serving it.
struct WebApp {
    /// The session and its mail stack.
    mail: MailApp,
    /// `choixbot run`.
    daemon: Child,
    /// `http://127.0.0.1:PORT` (or `https://localhost:PORT`).
    base: String,
}

impl Drop for WebApp {
    fn drop(&mut self) {
        let _ = terminate(&mut self.daemon);
    }
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Waits (up to 60 s) until something accepts connections on `port`.
pub(crate) async fn wait_for_port(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(Instant::now() < deadline, "{what} never listened on port {port}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Starts a session whose config has `[web]` with `extra` lines, imports
/// `interns` (a CSV of the call list) when given, and starts `choixbot run`.
async fn spawn_web_app(extra: &[&str], interns: Option<&str>) -> WebApp {
    let mail = spawn_mail_app(&paris_time(chrono::Duration::days(2))).await;
    if let Some(interns) = interns {
        let path = mail.app.write("interns-web.csv", interns);
        mail.app.ok(&["import", "interns", path.to_str().unwrap()]);
    }
    let port = free_port();
    let password = mail.app.write("web-password", PASSWORD);
    let mut edits = vec![
        format!("listen = \"127.0.0.1:{port}\""),
        format!("password_file = \"{}\"", password.display()),
        "password_env = \"CHOIXBOT_TEST_UNSET_WEB_PASSWORD\"".to_string(),
    ];
    let mut base = format!("http://127.0.0.1:{port}");
    for line in extra {
        if let Some(listen) = line.strip_prefix("listen = ") {
            edits[0] = format!("listen = {}", listen.replace("PORT", &port.to_string()));
            base = format!("https://localhost:{port}");
        } else {
            edits.push(line.to_string());
        }
    }
    let edits: Vec<(&str, &str)> = edits.iter().map(|line| ("web", line.as_str())).collect();
    mail.write_config_with(&paris_time(chrono::Duration::days(2)), &edits);
    let daemon = mail.spawn_daemon_process_with(&[]);
    let app = WebApp { mail, daemon, base };
    wait_for_port(port, &format!("choixbot run's web page\n{}", app.mail.daemon_logs())).await;
    app
}

/// Chromium, headless, through Debian's chromedriver.
pub(crate) struct Browser {
    /// The WebDriver session.
    client: Client,
    /// chromedriver.
    driver: Child,
    /// Chromium's profile, thrown away after the test.
    _profile: tempfile::TempDir,
}

impl Browser {
    pub(crate) async fn start() -> Browser {
        // The WebDriver client's TLS (unused on the loopback) wants a provider.
        let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start chromedriver: install Debian's chromium and chromium-driver (scripts/install-test-deps.sh)");
        wait_for_port(port, "chromedriver").await;
        let profile = tempfile::tempdir().unwrap();
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--no-first-run", "--disable-quic", format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        });
        let capabilities = capabilities.as_object().unwrap().clone();
        let client = ClientBuilder::rustls()
            .expect("a TLS connector for the WebDriver client")
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("chromedriver cannot start Chromium (/usr/bin/chromium)");
        Browser { client, driver, _profile: profile }
    }

    pub(crate) async fn stop(mut self) {
        let _ = self.client.close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }

    /// The text of the element at `css` (found again if the page's live
    /// part was swapped in between).
    async fn text(&self, css: &str) -> String {
        self.wait_for_text(css, &format!("an element {css}"), |_| true).await
    }

    /// Waits (up to 30 s) until the text at `css` satisfies `done`.
    pub(crate) async fn wait_for_text(&self, css: &str, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                if let Ok(text) = element.text().await {
                    if done(&text) {
                        return text;
                    }
                }
            }
            if Instant::now() > deadline {
                panic!("never reached: {what}\n{}", self.client.source().await.unwrap_or_default());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Logs in through the form.
    pub(crate) async fn log_in(&self, base: &str) {
        self.client.goto(&format!("{base}/login")).await.unwrap();
        self.client.find(Locator::Css("#password")).await.unwrap().send_keys(PASSWORD).await.unwrap();
        self.client.find(Locator::Css("form.login button")).await.unwrap().click().await.unwrap();
        self.wait_for_text("h2", "the dashboard after the login", |t| t.contains("Places par DES")).await;
    }
}

/// The first post of the sample's group, its places, and how many are left
/// on the public page.
async fn post_cell(browser: &Browser, ars: &str) -> (String, String) {
    let row = format!("tr[data-group='Médecine générale'][data-ars='{ars}']");
    (browser.text(&format!("{row} td:nth-child(5)")).await, browser.text(&format!("{row} td.left")).await)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_public_page_shows_the_places_left_and_follows_a_reply_without_a_reload() {
    let web = spawn_web_app(&["public = true"], None).await;
    let post = web.mail.posts_of(PLAIN_INTERNS[0]).await.remove(0);
    let browser = Browser::start().await;
    browser.client.goto(&format!("{}/", web.base)).await.unwrap();
    let (places, left) = post_cell(&browser, &post).await;
    assert_eq!(places, "2", "the sample opens 2 places on {post}");
    assert_eq!(left, "2", "nobody has chosen yet");
    let body = browser.client.source().await.unwrap();
    assert!(
        body.contains("Semestre d'essai") && body.contains("il reste"),
        "the session and the time left:\n{body}"
    );
    assert!(!body.contains('@'), "no address on the public page:\n{body}");
    // A mark that a reload would wipe out.
    browser.client.execute("window.notReloaded = true; return true;", vec![]).await.unwrap();
    // live.js marks the body once its event stream is open.
    browser.wait_for_text("body[data-live='yes']", "the page's event stream open", |_| true).await;

    web.mail.deliver_valid_reply(PLAIN_INTERNS[0]).await;
    let row = format!("tr[data-group='Médecine générale'][data-ars='{post}'] td.left");
    browser.wait_for_text(&row, "one place taken on the public page", |left| left == "1").await;
    let kept = browser.client.execute("return window.notReloaded === true;", vec![]).await.unwrap();
    assert_eq!(kept, json!(true), "the page changed without a reload");
    let body = browser.client.source().await.unwrap();
    assert!(!body.contains(PLAIN_INTERNS[0]) && !body.contains("Martin"), "no name while open:\n{body}");
    browser.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_referent_logs_in_sees_an_interns_wishes_and_opens_their_audit() {
    let web = spawn_web_app(&[], None).await;
    let raw = web.mail.deliver_valid_reply(PLAIN_INTERNS[1]).await;
    web.mail.wait_until_settled(1).await;
    let post = web.mail.posts_of(PLAIN_INTERNS[1]).await.remove(0);
    let browser = Browser::start().await;
    browser.log_in(&web.base).await;
    let row = format!("tr[data-email='{}']", PLAIN_INTERNS[1]);
    assert_eq!(browser.text(&format!("{row} td.wishes")).await, post);
    let line = browser.text(&row).await;
    assert!(
        line.contains("confirmé") && line.contains(&format!("vœux : {post}")),
        "the last decision: {line}"
    );
    assert!(!line.contains('{'), "in words, not JSON: {line}");
    browser.client.find(Locator::Css(&format!("{row} a"))).await.unwrap().click().await.unwrap();
    browser.wait_for_text("h2", "the intern's page", |t| t.contains("Bernard")).await;
    assert_eq!(browser.text("strong.wishes").await, post);
    assert!(browser.text("table.audit").await.contains("confirmé"), "the audit lists the reply");
    browser.client.find(Locator::LinkText("message brut")).await.unwrap().click().await.unwrap();
    let shown = browser.wait_for_text("body", "the raw message", |t| t.contains("Subject:")).await;
    let token = web.mail.token(PLAIN_INTERNS[1]).await;
    assert!(
        shown.contains(token.as_str()) && raw.contains(token.as_str()),
        "the raw message as received:\n{shown}"
    );
    browser.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_name_with_a_script_tag_renders_as_text() {
    let interns =
        std::fs::read_to_string(crate::helpers::samples_dir().join("interns.csv")).unwrap().replace(
            "Bernard;Lucas",
            "<script>window.pwned = 1</script>;<img src=x onerror=\"window.pwned = 2\">",
        );
    let web = spawn_web_app(&[], Some(&interns)).await;
    let browser = Browser::start().await;
    browser.log_in(&web.base).await;
    let row = format!("tr[data-email='{}']", PLAIN_INTERNS[1]);
    let name = browser.text(&format!("{row} td:nth-child(3)")).await;
    assert!(name.contains("<script>window.pwned = 1</script>"), "the name shown as written: {name:?}");
    assert!(name.contains("<img src=x"), "the first name shown as written: {name:?}");
    let pwned = browser.client.execute("return typeof window.pwned;", vec![]).await.unwrap();
    assert_eq!(pwned, json!("undefined"), "nothing of the name ran");
    browser.stop().await;
}

/// A plain HTTP client that keeps no cookie by itself.
fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// [`http`] from another loopback address: another client.
fn client_from(address: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(std::net::IpAddr::from(address))
        .build()
        .unwrap()
}

/// Logs in; returns the session cookie (`name=value`) and its attributes.
async fn log_in(base: &str) -> (String, String) {
    let response = http().post(format!("{base}/login")).form(&[("password", PASSWORD)]).send().await.unwrap();
    assert_eq!(response.status(), 303, "the right password is taken");
    let set_cookie = response.headers()["set-cookie"].to_str().unwrap().to_string();
    (set_cookie.split(';').next().unwrap().to_string(), set_cookie)
}

#[tokio::test(flavor = "multi_thread")]
async fn logged_out_no_page_shows_an_address() {
    let web = spawn_web_app(&["public = true"], None).await;
    web.mail.deliver_valid_reply(PLAIN_INTERNS[0]).await;
    web.mail.wait_until_settled(1).await;
    let client = http();
    let intern = PLAIN_INTERNS[0].replace('@', "%40");
    let gets = [
        "/",
        "/login",
        "/referent",
        &format!("/referent/intern/{intern}"),
        "/referent/message/1",
        "/referent/close",
    ];
    for path in gets {
        let response = client.get(format!("{}{path}", web.base)).send().await.unwrap();
        let status = response.status().as_u16();
        let body = response.text().await.unwrap();
        assert!(!body.contains('@'), "GET {path} ({status}) shows an address:\n{body}");
        if path.starts_with("/referent") {
            assert!([303, 401, 403].contains(&status), "GET {path} answers {status} without a login");
        }
    }
    let events = client.get(format!("{}/referent/events", web.base)).send().await.unwrap();
    assert_eq!(events.status(), 401);
    for path in ["/referent/close", "/referent/list", &format!("/referent/intern/{intern}/invite")] {
        let response =
            client.post(format!("{}{path}", web.base)).form(&[("confirm", "oui")]).send().await.unwrap();
        let status = response.status().as_u16();
        assert_eq!(status, 401, "POST {path} without a login");
        assert!(!response.text().await.unwrap().contains('@'));
    }
    let status = web.mail.status_json();
    assert!(status["closed_at"].is_null(), "nothing was closed without a login");

    // The same pages in the browser, following every redirect.
    let browser = Browser::start().await;
    for path in gets {
        browser.client.goto(&format!("{}{path}", web.base)).await.unwrap();
        let page = browser.client.source().await.unwrap();
        assert!(!page.contains('@'), "{path} in the browser shows an address:\n{page}");
        let at = browser.client.current_url().await.unwrap();
        if path.starts_with("/referent") {
            assert_eq!(at.path(), "/login", "{path} leads to the login page");
        }
    }
    browser.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_eleventh_login_attempt_is_refused_even_with_the_password() {
    let web = spawn_web_app(&[], None).await;
    // Ten wrong passwords typed in the browser's form…
    let browser = Browser::start().await;
    for attempt in 1..=10 {
        browser.client.goto(&format!("{}/login", web.base)).await.unwrap();
        browser.client.find(Locator::Css("#password")).await.unwrap().send_keys("devine").await.unwrap();
        browser.client.find(Locator::Css("form.login button")).await.unwrap().click().await.unwrap();
        let said =
            browser.wait_for_text("p.error", &format!("wrong password {attempt} refused"), |_| true).await;
        assert!(said.contains("erroné"), "attempt {attempt}: {said}");
    }
    // …then the right one, in the browser: refused.
    browser.client.goto(&format!("{}/login", web.base)).await.unwrap();
    browser.client.find(Locator::Css("#password")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    browser.client.find(Locator::Css("form.login button")).await.unwrap().click().await.unwrap();
    let said = browser.wait_for_text("p.error", "the 11th attempt refused", |t| t.contains("Trop")).await;
    assert!(said.contains("15 minutes"), "{said}");
    browser.stop().await;
    // The same over HTTP from another address, with the status codes.
    let client = client_from([127, 0, 0, 3]);
    for attempt in 1..=10 {
        let response =
            client.post(format!("{}/login", web.base)).form(&[("password", "devine")]).send().await.unwrap();
        assert_eq!(response.status(), 401, "wrong password {attempt}");
    }
    let eleventh =
        client.post(format!("{}/login", web.base)).form(&[("password", PASSWORD)]).send().await.unwrap();
    assert_eq!(eleventh.status(), 429, "the 11th attempt from the same client");
    assert!(eleventh.headers().get("set-cookie").is_none());
    // Another client (another loopback address) is not refused.
    let other = client_from([127, 0, 0, 2]);
    let response =
        other.post(format!("{}/login", web.base)).form(&[("password", PASSWORD)]).send().await.unwrap();
    assert_eq!(response.status(), 303);
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain HTTP on the loopback: {cookie}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_referent_events_follow_decisions_and_the_actions_need_their_token() {
    let web = spawn_web_app(&["public = true"], None).await;
    let (cookie, _) = log_in(&web.base).await;
    let client = http();
    let dashboard =
        client.get(format!("{}/referent", web.base)).header("cookie", &cookie).send().await.unwrap();
    let page = dashboard.text().await.unwrap();
    let csrf = page.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();

    // An event within seconds of a decision.
    let mut events =
        client.get(format!("{}/referent/events", web.base)).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    web.mail.deliver_valid_reply(PLAIN_INTERNS[2]).await;
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !seen.contains("event: update") {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, events.chunk()).await {
            Ok(Ok(Some(chunk))) => seen.push_str(&String::from_utf8_lossy(&chunk)),
            other => panic!("no update event after a decision ({other:?}); got {seen:?}"),
        }
    }
    drop(events);

    // Without the form's token, nothing is queued.
    let intern = PLAIN_INTERNS[2].replace('@', "%40");
    let invite = format!("{}/referent/intern/{intern}/invite", web.base);
    let before = invitations(&web.mail, PLAIN_INTERNS[2]).await;
    let forged =
        client.post(&invite).header("cookie", &cookie).form(&[("csrf", "forged")]).send().await.unwrap();
    assert_eq!(
        forged.headers()["location"].to_str().unwrap(),
        format!("/referent/intern/{intern}?done=csrf")
    );
    assert_eq!(invitations(&web.mail, PLAIN_INTERNS[2]).await, before, "a forged form queues nothing");
    let sent = client.post(&invite).header("cookie", &cookie).form(&[("csrf", &csrf)]).send().await.unwrap();
    assert_eq!(sent.status(), 303);
    assert_eq!(
        invitations(&web.mail, PLAIN_INTERNS[2]).await,
        before + 1,
        "the invitation queued again, as a new message"
    );

    // The list, as it stands.
    let list = client
        .post(format!("{}/referent/list", web.base))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str()), ("format", "csv")])
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), 200);
    assert!(list.headers()["content-disposition"].to_str().unwrap().contains("liste-ars.csv"));
    assert!(list.text().await.unwrap().contains("Dubois"), "the list names the intern");

    // Closing wants the confirmation, then closes; the public page then
    // publishes the assignments.
    let close = format!("{}/referent/close", web.base);
    let unconfirmed =
        client.post(&close).header("cookie", &cookie).form(&[("csrf", &csrf)]).send().await.unwrap();
    assert_eq!(unconfirmed.headers()["location"], "/referent?done=not-confirmed");
    assert!(web.mail.status_json()["closed_at"].is_null());
    let confirmed = client
        .post(&close)
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str()), ("confirm", "oui")])
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.headers()["location"], "/referent?done=closed");
    assert!(web.mail.status_json()["closed_at"].is_string(), "closed from the page");
    let public = client.get(format!("{}/", web.base)).send().await.unwrap().text().await.unwrap();
    assert!(
        public.contains("Affectations") && public.contains("Dubois"),
        "the assignments after the close:\n{public}"
    );
    assert!(!public.contains('@'), "names, never addresses:\n{public}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_page_is_served_over_https_with_a_self_signed_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("web.crt"), dir.path().join("web.key"));
    let status = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .expect("openssl");
    assert!(status.success());
    let web = spawn_web_app(
        &[
            "listen = \"0.0.0.0:PORT\"",
            &format!("cert_file = \"{}\"", cert.display()),
            &format!("key_file = \"{}\"", key.display()),
        ],
        None,
    )
    .await;
    // Without the certificate as a root, the client refuses the server.
    assert!(http().get(format!("{}/login", web.base)).send().await.is_err(), "a self-signed certificate");
    let trusting = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .add_root_certificate(reqwest::Certificate::from_pem(&std::fs::read(&cert).unwrap()).unwrap())
        .build()
        .unwrap();
    let response =
        trusting.post(format!("{}/login", web.base)).form(&[("password", PASSWORD)]).send().await.unwrap();
    assert_eq!(response.status(), 303);
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("Secure") && cookie.contains("HttpOnly"), "{cookie}");
}

/// How many invitations to `email` are in the outbox.
async fn invitations(app: &MailApp, email: &str) -> usize {
    let store = app.app.store().await;
    store.audit_outbox(email).await.unwrap().iter().filter(|o| o.purpose == "invitation").count()
}
