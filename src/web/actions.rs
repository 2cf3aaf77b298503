//! What a referent can do from the dashboard: send an invitation again,
//! close the session now (after a confirmation), download the list. Every
//! action is a POST with the session's CSRF token.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use tera::Context;
use tracing::{info, warn};

use super::auth::Referent;
use super::pages::failed;
use super::Web;
use crate::ars_list::{self, ListInput};
use crate::cli::snapshot::snapshot;
use crate::close::{self, Closed};

/// A form that carries only the CSRF token.
#[derive(Deserialize)]
pub struct Plain {
    /// The session's CSRF token.
    #[serde(default)]
    csrf: String,
}

/// `POST /referent/intern/{email}/invite`: queues the invitation again,
/// under a new Message-ID (the first one may have been lost or deleted);
/// the daemon's outbox sends it.
pub async fn resend_invitation(
    State(web): State<Web>,
    Referent(session): Referent,
    Path(email): Path<String>,
    Form(form): Form<Plain>,
) -> Response {
    let back = format!("/referent/intern/{}", urlencode(&email));
    if !Web::csrf_ok(&session, &form.csrf) {
        return Redirect::to(&format!("{back}?done=csrf")).into_response();
    }
    match resend(&web, &email).await {
        Ok(true) => {
            info!("an invitation was queued again from the web page");
            Redirect::to(&format!("{back}?done=invited")).into_response()
        }
        Ok(false) => {
            (StatusCode::NOT_FOUND, "Aucun interne de la liste d'appel n'a cette adresse.\n").into_response()
        }
        Err(error) => failed(error),
    }
}

async fn resend(web: &Web, email: &str) -> anyhow::Result<bool> {
    let store = &web.0.store;
    let interns = store.interns().await?;
    let Some(stored) = interns.iter().find(|s| s.intern.email.as_str() == email) else { return Ok(false) };
    let posts = store.posts().await?;
    let again = format!("again at {}", store.now_ms());
    let messages =
        crate::invite::compose_for(&web.0.settings, &web.0.templates, stored, &posts, Some(&again))?;
    crate::invite::queue_all(store, &messages).await?;
    Ok(true)
}

/// `GET /referent/close`: the confirmation step.
pub async fn close_form(State(web): State<Web>, Referent(session): Referent) -> Response {
    let mut context = Context::new();
    match web.heading().await {
        Ok(heading) => context.insert("heading", &heading),
        Err(error) => return failed(error),
    }
    context.insert("csrf", &session.csrf);
    web.render("close.html", &context)
}

/// The close form's fields.
#[derive(Deserialize)]
pub struct CloseForm {
    /// The session's CSRF token.
    #[serde(default)]
    csrf: String,
    /// `oui` when the referent ticked the confirmation.
    #[serde(default)]
    confirm: String,
}

/// `POST /referent/close`: what `choixbot close` does: reads the replies
/// still in the mailbox, then makes the list and queues it with the
/// results; the daemon's outbox sends them.
pub async fn close(
    State(web): State<Web>,
    Referent(session): Referent,
    Form(form): Form<CloseForm>,
) -> Response {
    if !Web::csrf_ok(&session, &form.csrf) {
        return Redirect::to("/referent?done=csrf").into_response();
    }
    if form.confirm != "oui" {
        return Redirect::to("/referent?done=not-confirmed").into_response();
    }
    let inner = &web.0;
    let (settings, store, templates) = (inner.settings.clone(), inner.store.clone(), inner.templates.clone());
    let basis = crate::collect::read_mailbox_now(settings, store, templates, inner.tokens.clone()).await;
    let basis = match basis {
        Ok(basis) => basis,
        Err(error) => {
            warn!("close from the web page: cannot read the mailbox: {error:#}");
            let message = format!(
                "Rien n'a été envoyé : la boîte aux lettres ne peut pas être lue ({error:#}). Corrigez les \
                 réglages IMAP, ou envoyez la liste sans les réponses encore dans la boîte : \
                 choixbot close --without-mailbox\n"
            );
            return (StatusCode::SERVICE_UNAVAILABLE, message).into_response();
        }
    };
    match close::close(&inner.store, &inner.settings, &inner.templates, &basis).await {
        Ok(Closed::Now { queued, assignments }) => {
            info!(queued, assignments, "session closed from the web page");
            Redirect::to("/referent?done=closed").into_response()
        }
        Ok(Closed::Already { .. }) => Redirect::to("/referent?done=already-closed").into_response(),
        Err(error) => failed(error),
    }
}

/// The download form's fields.
#[derive(Deserialize)]
pub struct ListForm {
    /// The session's CSRF token.
    #[serde(default)]
    csrf: String,
    /// `csv` or `xlsx`.
    #[serde(default)]
    format: String,
}

/// `POST /referent/list`: the consolidated list as it stands (what
/// `choixbot export` writes).
pub async fn download_list(
    State(web): State<Web>,
    Referent(session): Referent,
    Form(form): Form<ListForm>,
) -> Response {
    if !Web::csrf_ok(&session, &form.csrf) {
        return Redirect::to("/referent?done=csrf").into_response();
    }
    let settings = &web.0.settings;
    let snapshot = match snapshot(&web.0.store, Some(settings)).await {
        Ok(snapshot) => snapshot,
        Err(error) => return failed(error),
    };
    let input = ListInput {
        session_name: &settings.session.name,
        posts: &snapshot.posts,
        interns: &snapshot.interns,
        allocation: &snapshot.allocation,
    };
    let (bytes, kind, name) = match form.format.as_str() {
        "xlsx" => match ars_list::to_xlsx(input) {
            Ok(bytes) => {
                (bytes, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "liste-ars.xlsx")
            }
            Err(error) => return failed(error),
        },
        _ => (ars_list::to_csv(input), "text/csv; charset=utf-8", "liste-ars.csv"),
    };
    let disposition = format!("attachment; filename=\"{name}\"");
    ([(header::CONTENT_TYPE, kind.to_string()), (header::CONTENT_DISPOSITION, disposition)], bytes)
        .into_response()
}

/// `text` percent-encoded for a path segment (RFC 3986's unreserved
/// characters kept).
fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
