//! The pages: the public one, the referents' dashboard, one intern's
//! history, a raw message, and the event streams that keep them live.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use futures::Stream;
use serde::Deserialize;
use tera::{Context, Tera};
use tracing::warn;

use super::auth::{Referent, Session};
use super::view::{self, Heading};
use super::Web;
use crate::cli::report;
use crate::cli::snapshot::snapshot;

/// The pages, compiled in: `[web]` has no template directory to get wrong.
const PAGES: [(&str, &str); 8] = [
    ("base.html", include_str!("../../templates/web/base.html")),
    ("deadline.html", include_str!("../../templates/web/deadline.html")),
    ("nav.html", include_str!("../../templates/web/nav.html")),
    ("public.html", include_str!("../../templates/web/public.html")),
    ("login.html", include_str!("../../templates/web/login.html")),
    ("dashboard.html", include_str!("../../templates/web/dashboard.html")),
    ("intern.html", include_str!("../../templates/web/intern.html")),
    ("close.html", include_str!("../../templates/web/close.html")),
];

/// How many interns the dashboard lists at most; a search narrows it.
const ROWS: usize = 300;

/// The pages, parsed; autoescaping is on for every one (`.html`).
pub fn load() -> crate::Result<Tera> {
    let mut tera = Tera::default();
    tera.add_raw_templates(PAGES)
        .map_err(|error| anyhow::anyhow!("the web pages do not parse: {error:?}"))?;
    Ok(tera)
}

/// `GET /static/live.js` and `GET /static/style.css`.
pub async fn script() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], include_str!("../../templates/web/live.js"))
        .into_response()
}

pub async fn style() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], include_str!("../../templates/web/style.css"))
        .into_response()
}

/// A failure to read the session: said plainly, without details that
/// could hold personal data (those go to the log).
pub fn failed(error: impl std::fmt::Display) -> Response {
    warn!("the web page failed: {error:#}");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "La session ne peut pas être lue pour l'instant ; réessayez dans un moment.\n",
    )
        .into_response()
}

impl Web {
    /// Renders `page`, or says why not.
    pub fn render(&self, page: &str, context: &Context) -> Response {
        match self.0.pages.render(page, context) {
            Ok(html) => Html(html).into_response(),
            Err(error) => failed(format!("cannot render {page}: {error:?}")),
        }
    }

    /// The session's heading, now.
    pub async fn heading(&self) -> crate::Result<Heading> {
        let session = &self.0.settings.session;
        let closed = self.0.store.state(crate::close::CLOSED_AT).await?.is_some();
        let tz = session.timezone;
        let now = self.0.store.clock().now();
        // The amphi has no deadline to count down to: its turns are on the
        // referents' dashboard.
        let deadline = self.0.settings.amphi().is_none().then_some(session.deadline);
        Ok(Heading::new(&session.name, deadline, tz, now, closed))
    }

    /// The login page, with a message.
    pub fn login_page(&self, status: StatusCode, error: Option<&str>) -> Response {
        let mut context = Context::new();
        // The session's name only: nothing of its state before a login.
        let session = &self.0.settings.session;
        let now = self.0.store.clock().now();
        context.insert("heading", &Heading::new(&session.name, None, session.timezone, now, false));
        context.insert("error", &error);
        let mut response = self.render("login.html", &context);
        *response.status_mut() = status;
        response
    }

    /// The public page for the current mark, rendered once per mark and
    /// minute (the time left changes with the minute).
    async fn public_html(&self) -> crate::Result<Arc<String>> {
        let now = self.0.store.clock().now();
        let key = format!("{}@{}", self.0.changes.borrow().as_str(), now.timestamp() / 60);
        if let Some((cached, html)) = self.0.public.lock().expect("the page cache's lock").as_ref() {
            if *cached == key && !key.starts_with('@') {
                return Ok(html.clone());
            }
        }
        let snapshot = snapshot(&self.0.store, Some(&self.0.settings)).await?;
        let heading = self.heading().await?;
        let mut context = Context::new();
        context.insert("groups", &view::posts_by_group(&snapshot));
        // Names only once the list is made: the seed's platform publishes
        // the assignments, never the wishes of an open session.
        let published = if heading.closed { view::published(&snapshot) } else { Vec::new() };
        context.insert("published", &published);
        context.insert("heading", &heading);
        context.insert("events", "/events");
        let html = Arc::new(
            self.0
                .pages
                .render("public.html", &context)
                .map_err(|e| anyhow::anyhow!("cannot render: {e:?}"))?,
        );
        *self.0.public.lock().expect("the page cache's lock") = Some((key, html.clone()));
        Ok(html)
    }

    /// An event stream that says "update" at each change of the mark.
    fn events(&self) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
        let mut changes = self.0.changes.clone();
        // The page was rendered with what is current: only what follows is news.
        changes.borrow_and_update();
        let stream = futures::stream::unfold(changes, |mut changes| async move {
            changes.changed().await.ok()?;
            changes.borrow_and_update();
            Some((Ok(Event::default().event("update").data("changed")), changes))
        });
        Sse::new(stream).keep_alive(KeepAlive::default())
    }
}

/// `GET /`: the posts and the places left, for everyone (`public = true`).
pub async fn public(State(web): State<Web>) -> Response {
    if !web.0.web.public {
        return Redirect::to("/referent").into_response();
    }
    match web.public_html().await {
        Ok(html) => Html(html.as_str().to_string()).into_response(),
        Err(error) => failed(error),
    }
}

/// `GET /events`: the public page's changes.
pub async fn public_events(State(web): State<Web>) -> Response {
    if !web.0.web.public {
        return StatusCode::NOT_FOUND.into_response();
    }
    web.events().into_response()
}

/// `GET /referent/events`: an event within a second or two of every
/// decision, import, send or close.
pub async fn referent_events(State(web): State<Web>, _: Referent) -> Response {
    web.events().into_response()
}

/// The dashboard's query: a search, a group, and what was just done.
#[derive(Deserialize, Default)]
pub struct DashboardQuery {
    /// A part of a name or an address to look for.
    #[serde(default)]
    q: String,
    /// One group (DES) only; empty for all.
    #[serde(default)]
    group: String,
    /// What an action just did (see [`flash`]).
    #[serde(default)]
    done: String,
}

/// `GET /referent`: everything `status` says, and the interns.
pub async fn dashboard(
    State(web): State<Web>,
    Referent(session): Referent,
    Query(query): Query<DashboardQuery>,
) -> Response {
    match dashboard_context(&web, &query, &session).await {
        Ok(context) => web.render("dashboard.html", &context),
        Err(error) => failed(error),
    }
}

async fn dashboard_context(web: &Web, query: &DashboardQuery, session: &Session) -> crate::Result<Context> {
    let settings = &web.0.settings;
    let tz = settings.session.timezone;
    let (snapshot, status) = crate::cli::status::read(&web.0.store, Some(settings)).await?;
    let last = web.0.store.last_messages().await?;
    let mut rows = view::intern_rows(&snapshot, &last, &query.q, &query.group);
    let hidden = rows.len().saturating_sub(ROWS);
    rows.truncate(ROWS);
    let rows: Vec<_> = rows
        .into_iter()
        .map(|row| {
            let mut value = serde_json::to_value(&row).expect("a row serialises");
            if let Some(last) = &row.last {
                value["last_at"] = view::local(last.received_at, tz).into();
                value["last_reasons"] = view::reasons_in_words(&last.reasons).into();
                value["last_verdict"] = view::verdict_in_words(&last.verdict).into();
            }
            value
        })
        .collect();
    let mut context = Context::new();
    context.insert("heading", &web.heading().await?);
    context.insert("close_text", &status.close.to_text());
    context.insert("lease_text", &status.lease.to_text());
    context.insert("status", &status);
    context.insert("rows", &rows);
    context.insert("hidden", &hidden);
    context.insert("query", &query.q);
    context.insert("group", &query.group);
    context.insert("flash", &flash(&query.done));
    context.insert("csrf", &session.csrf);
    context.insert("events", "/referent/events");
    Ok(context)
}

/// What an action just did, said on the page it leads back to.
pub fn flash(done: &str) -> Option<&'static str> {
    match done {
        "invited" => Some("L'invitation est dans la file d'envoi : elle part dans quelques secondes."),
        "closed" => Some("Le choix est clos : la liste à l'ARS et les résultats sont dans la file d'envoi."),
        "already-closed" => Some("Le choix était déjà clos : rien de nouveau n'a été envoyé."),
        "csrf" => Some("Le formulaire a expiré : recommencez depuis cette page."),
        "not-confirmed" => Some("Rien n'a été fait : cochez la confirmation pour clore."),
        _ => None,
    }
}

/// `GET /referent/intern/{email}`: `audit` in HTML.
pub async fn intern(
    State(web): State<Web>,
    Referent(session): Referent,
    Path(email): Path<String>,
    Query(query): Query<DashboardQuery>,
) -> Response {
    match intern_context(&web, &email, &session, &query.done).await {
        Ok(Some(context)) => web.render("intern.html", &context),
        Ok(None) => {
            (StatusCode::NOT_FOUND, "Aucun interne de la liste d'appel n'a cette adresse.\n").into_response()
        }
        Err(error) => failed(error),
    }
}

async fn intern_context(
    web: &Web,
    email: &str,
    session: &Session,
    done: &str,
) -> crate::Result<Option<Context>> {
    let store = &web.0.store;
    let settings = &web.0.settings;
    let tz = settings.session.timezone;
    let snapshot = snapshot(store, Some(settings)).await?;
    // Searched by the address first: only the matching rows are worded.
    let Some(row) =
        view::intern_rows(&snapshot, &HashMap::new(), email, "").into_iter().find(|r| r.email == email)
    else {
        return Ok(None);
    };
    let messages: Vec<_> = store
        .audit_messages(email)
        .await?
        .into_iter()
        .map(|m| {
            serde_json::json!({
                "id": m.id, "at": view::local(m.internal_date.unwrap_or(m.received_at), tz),
                "sender": m.sender, "kind": m.kind, "verdict": view::verdict_in_words(&m.verdict),
                "reasons": view::reasons_in_words(&m.reasons),
            })
        })
        .collect();
    let outbox: Vec<_> = store
        .audit_outbox(email)
        .await?
        .into_iter()
        .map(|o| {
            serde_json::json!({
                "at": view::local(o.sent_at.unwrap_or(o.created_at), tz), "purpose": o.purpose,
                "recipients": o.recipients, "status": o.status, "error": o.last_error,
            })
        })
        .collect();
    let address = crate::domain::Email::parse(email).map_err(crate::Error::bad_input)?;
    let proxies = store.proxy_changes().await?;
    let proxy = proxies.iter().find(|p| p.intern == email || p.active.as_deref() == Some(email));
    let commands_text = report::commands_audit(proxy, &store.notice_state(&address).await?);
    let mut context = Context::new();
    context.insert("heading", &web.heading().await?);
    context.insert("intern", &row);
    context.insert("messages", &messages);
    context.insert("outbox", &outbox);
    context.insert("commands_text", &commands_text);
    context.insert("csrf", &session.csrf);
    context.insert("flash", &flash(done));
    context.insert("events", "/referent/events");
    Ok(Some(context))
}

/// `GET /referent/message/{id}`: a received message as it came, as plain
/// text that the browser neither runs nor guesses the type of.
pub async fn raw_message(State(web): State<Web>, _: Referent, Path(id): Path<i64>) -> Response {
    match web.0.store.raw_message(id).await {
        Ok(Some(raw)) if raw.is_empty() => (
            StatusCode::GONE,
            "Ce message a été effacé après la durée de conservation ; sa date et sa décision restent.\n",
        )
            .into_response(),
        Ok(Some(raw)) => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], raw).into_response(),
        Ok(None) => (StatusCode::NOT_FOUND, "Aucun message n'a ce numéro.\n").into_response(),
        Err(error) => failed(error),
    }
}
