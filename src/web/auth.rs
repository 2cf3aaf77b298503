//! The referents' login: one shared password, checked in constant time; a
//! random session cookie (HttpOnly, SameSite=Strict, Secure over TLS); a
//! CSRF token per session for every action; and a client that guesses
//! wrong [`MAX_FAILURES`] times is refused for [`BLOCKED`].
//!
//! Sessions live in memory: a restart of `choixbot run` logs the referents
//! out, which is the safe side.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::{DateTime, Duration, Utc};
use secrecy::ExposeSecret;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tracing::info;

use super::Web;

/// The session cookie's name.
const COOKIE: &str = "choixbot_session";
/// Wrong passwords from one client before it is refused.
pub const MAX_FAILURES: u32 = 10;
/// How long a client is refused after [`MAX_FAILURES`] wrong passwords;
/// also the window in which they count.
const BLOCKED: Duration = Duration::minutes(15);
/// How long a login lasts.
const SESSION: Duration = Duration::hours(12);

/// The open sessions and the wrong passwords, by client.
#[derive(Default)]
pub struct Sessions(Mutex<Ledger>);

/// What [`Sessions`] guards.
#[derive(Default)]
struct Ledger {
    /// Session token → the session.
    open: HashMap<String, Session>,
    /// Client address → its wrong passwords.
    failures: HashMap<IpAddr, Failures>,
}

/// One referent's login.
#[derive(Clone)]
pub struct Session {
    /// The token every form of this session carries.
    pub csrf: String,
    /// When the login ends.
    expires: DateTime<Utc>,
}

/// A client's wrong passwords.
struct Failures {
    /// How many, within [`BLOCKED`] of each other.
    count: u32,
    /// The last one.
    last: DateTime<Utc>,
}

impl Sessions {
    /// Whether `client` is refused now.
    fn blocked(&self, client: IpAddr, now: DateTime<Utc>) -> bool {
        let mut state = self.0.lock().expect("the sessions' lock");
        state.failures.retain(|_, failures| now - failures.last < BLOCKED);
        state.failures.get(&client).is_some_and(|failures| failures.count >= MAX_FAILURES)
    }

    /// Counts a wrong password from `client`.
    fn failed(&self, client: IpAddr, now: DateTime<Utc>) {
        let mut state = self.0.lock().expect("the sessions' lock");
        let failures = state.failures.entry(client).or_insert(Failures { count: 0, last: now });
        failures.count += 1;
        failures.last = now;
    }

    /// Opens a session for a referent who gave the password; returns its
    /// token.
    fn open(&self, client: IpAddr, now: DateTime<Utc>) -> String {
        let mut state = self.0.lock().expect("the sessions' lock");
        state.failures.remove(&client);
        state.open.retain(|_, session| session.expires > now);
        let token = random_token();
        state.open.insert(token.clone(), Session { csrf: random_token(), expires: now + SESSION });
        token
    }

    /// The session of this token, if it is open.
    fn find(&self, token: &str, now: DateTime<Utc>) -> Option<Session> {
        let state = self.0.lock().expect("the sessions' lock");
        state.open.get(token).filter(|session| session.expires > now).cloned()
    }

    /// Ends the session of this token.
    fn close(&self, token: &str) {
        self.0.lock().expect("the sessions' lock").open.remove(token);
    }
}

/// 32 random bytes, in hex.
fn random_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// Equal in constant time: the digests are compared, so neither the
/// length nor the first differing byte shows in the time taken.
fn same_secret(given: &str, expected: &str) -> bool {
    let given = Sha256::digest(given.as_bytes());
    let expected = Sha256::digest(expected.as_bytes());
    given.ct_eq(&expected).into()
}

impl Web {
    /// The referent's session, from the request's cookie.
    pub fn session(&self, headers: &HeaderMap) -> Option<Session> {
        let token = cookie(headers)?;
        self.0.sessions.find(&token, self.0.store.clock().now())
    }

    /// Whether `given` is the CSRF token of `session`.
    pub fn csrf_ok(session: &Session, given: &str) -> bool {
        same_secret(given, &session.csrf)
    }

    /// The client's address: the peer's, or the one the reverse proxy on
    /// this machine names last in `X-Forwarded-For`.
    fn client(&self, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
        if self.0.web.behind_proxy {
            let forwarded =
                headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).next_back();
            if let Some(ip) = forwarded.and_then(|v| v.rsplit(',').next()).and_then(|v| v.trim().parse().ok())
            {
                return ip;
            }
        }
        peer.ip()
    }
}

/// The session cookie's value, if the request has one.
fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
}

/// A request of a logged-in referent: the handlers of `/referent` take it,
/// and never run without it.
pub struct Referent(pub Session);

impl axum::extract::FromRequestParts<Web> for Referent {
    /// Without a valid session: the login page for a page, 401 for an
    /// action or the event stream. Neither says anything of the session.
    type Rejection = Response;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, web: &Web) -> Result<Self, Response> {
        if let Some(session) = web.session(&parts.headers) {
            return Ok(Referent(session));
        }
        let page = parts.method == axum::http::Method::GET && !parts.uri.path().ends_with("/events");
        Err(if page {
            Redirect::to("/login").into_response()
        } else {
            (StatusCode::UNAUTHORIZED, "Connectez-vous d'abord : /login\n").into_response()
        })
    }
}

/// `GET /login`.
pub async fn login_form(State(web): State<Web>) -> Response {
    web.login_page(StatusCode::OK, None)
}

/// The login form's fields.
#[derive(Deserialize)]
pub struct LoginForm {
    /// The referents' password.
    #[serde(default)]
    password: String,
}

/// `POST /login`: opens a session, or says why not.
pub async fn login(
    State(web): State<Web>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let now = web.0.store.clock().now();
    let client = web.client(peer, &headers);
    if web.0.sessions.blocked(client, now) {
        info!(%client, "web login refused: too many wrong passwords");
        let message = format!(
            "Trop de mots de passe erronés depuis cette adresse : réessayez dans {} minutes.",
            BLOCKED.num_minutes()
        );
        return web.login_page(StatusCode::TOO_MANY_REQUESTS, Some(&message));
    }
    if !same_secret(&form.password, web.0.password.expose_secret()) {
        web.0.sessions.failed(client, now);
        info!(%client, "web login: wrong password");
        return web.login_page(StatusCode::UNAUTHORIZED, Some("Mot de passe erroné."));
    }
    let token = web.0.sessions.open(client, now);
    let secure = if web.0.web.tls() || web.0.web.behind_proxy { "; Secure" } else { "" };
    let cookie = format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        SESSION.num_seconds()
    );
    let mut response = Redirect::to("/referent").into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("an ASCII cookie"));
    response
}

/// The logout form's fields.
#[derive(Deserialize)]
pub struct CsrfForm {
    /// The session's CSRF token.
    #[serde(default)]
    pub csrf: String,
}

/// `POST /logout`.
pub async fn logout(State(web): State<Web>, headers: HeaderMap, Form(form): Form<CsrfForm>) -> Response {
    if let (Some(session), Some(token)) = (web.session(&headers), cookie(&headers)) {
        if Web::csrf_ok(&session, &form.csrf) {
            web.0.sessions.close(&token);
        }
    }
    let mut response = Redirect::to("/login").into_response();
    let expired = format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    response
        .headers_mut()
        .insert(header::SET_COOKIE, HeaderValue::from_str(&expired).expect("an ASCII cookie"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_eleventh_attempt_is_refused_and_a_later_one_is_not() {
        let sessions = Sessions::default();
        let client: IpAddr = "192.0.2.7".parse().unwrap();
        let now = Utc::now();
        for _ in 0..MAX_FAILURES {
            assert!(!sessions.blocked(client, now));
            sessions.failed(client, now);
        }
        assert!(sessions.blocked(client, now));
        assert!(!sessions.blocked("192.0.2.8".parse().unwrap(), now), "another client is not refused");
        assert!(!sessions.blocked(client, now + BLOCKED), "refused for a while, not for ever");
    }

    #[test]
    fn a_session_ends_when_it_expires_or_is_closed() {
        let sessions = Sessions::default();
        let now = Utc::now();
        let token = sessions.open("127.0.0.1".parse().unwrap(), now);
        assert!(sessions.find(&token, now).is_some());
        assert!(sessions.find(&token, now + SESSION).is_none());
        sessions.close(&token);
        assert!(sessions.find(&token, now).is_none());
        assert!(sessions.find("not a token", now).is_none());
    }

    #[test]
    fn secrets_compare_exactly() {
        assert!(same_secret("mot de passe", "mot de passe"));
        assert!(!same_secret("mot de passe ", "mot de passe"));
        assert!(!same_secret("", "mot de passe"));
    }
}
