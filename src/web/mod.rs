//! The live page of `[web]`: a public page of the posts and the places left
//! (`/`), and the referents' dashboard (`/referent`), served by
//! `choixbot run` beside its mail work.
//!
//! The page only reads the database, through its own connections, and
//! never holds a lock the mail work waits for: on SQLite a reader does not
//! block the writer (WAL), on PostgreSQL never. Its actions write what a
//! command would: an invitation queued for the outbox, or the close.
//! Browsers learn of changes by server-sent events, fed by one task that
//! reads [`Store::page_mark`] every second for every client at once.

mod actions;
mod auth;
mod pages;
mod serve;
mod view;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::routing::{get, post};
use axum::Router;
use secrecy::SecretString;
use tokio::sync::watch;
use tracing::warn;

use crate::answer::Templates;
use crate::settings::{Settings, WebSettings};
use crate::store::Store;

pub use serve::serve;

/// How often the page looks for changes.
const LOOK: Duration = Duration::from_secs(1);

/// What every request handler shares; cheap to clone.
#[derive(Clone)]
pub struct Web(Arc<Inner>);

/// The page's state.
struct Inner {
    /// The configuration.
    settings: Arc<Settings>,
    /// `[web]`, resolved.
    web: WebSettings,
    /// The session database (unfenced: the page writes nothing the lease guards).
    store: Store,
    /// The email templates, for the invitations and the close.
    templates: Arc<Templates>,
    /// The OAuth2 access tokens, for reading the mailbox before a close.
    tokens: Option<Arc<crate::oauth::TokenSource>>,
    /// The pages.
    pages: tera::Tera,
    /// The referents' password.
    password: SecretString,
    /// The open sessions and the refused logins.
    sessions: auth::Sessions,
    /// The last [`Store::page_mark`] read.
    changes: watch::Receiver<String>,
    /// The public page, rendered for one mark: a crowd of phones reloading
    /// after a reply costs one rendering.
    public: Mutex<Option<(String, Arc<String>)>>,
}

impl Web {
    /// Checks the password and the pages; starts following the changes
    /// until `stopping`.
    pub fn new(
        settings: Arc<Settings>,
        web: WebSettings,
        store: Store,
        templates: Arc<Templates>,
        stopping: watch::Receiver<bool>,
    ) -> crate::Result<Self> {
        let password = web.password()?;
        let pages = pages::load()?;
        let tokens = crate::collect::token_source(&settings, store.clock().clone())?;
        let (mark, changes) = watch::channel(String::new());
        tokio::spawn(follow_changes(store.clone(), mark, stopping));
        let inner = Inner {
            settings,
            web,
            store,
            templates,
            tokens,
            pages,
            password,
            sessions: auth::Sessions::default(),
            changes,
            public: Mutex::new(None),
        };
        Ok(Self(Arc::new(inner)))
    }

    /// Every URL of the page.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/", get(pages::public))
            .route("/static/live.js", get(pages::script))
            .route("/static/style.css", get(pages::style))
            .route("/events", get(pages::public_events))
            .route("/login", get(auth::login_form).post(auth::login))
            .route("/logout", post(auth::logout))
            .route("/referent", get(pages::dashboard))
            .route("/referent/events", get(pages::referent_events))
            .route("/referent/intern/{email}", get(pages::intern))
            .route("/referent/intern/{email}/invite", post(actions::resend_invitation))
            .route("/referent/message/{id}", get(pages::raw_message))
            .route("/referent/close", get(actions::close_form).post(actions::close))
            .route("/referent/list", post(actions::download_list))
            .with_state(self.clone())
    }
}

/// Reads the page's mark every [`LOOK`] and publishes it when it changes.
/// A database error is logged and tried again: the page shows the last
/// state it read, and the mail work does not depend on it.
async fn follow_changes(store: Store, mark: watch::Sender<String>, mut stopping: watch::Receiver<bool>) {
    let mut failing = false;
    loop {
        match store.page_mark().await {
            Ok(now) => {
                failing = false;
                mark.send_if_modified(|last| {
                    let changed = *last != now;
                    *last = now;
                    changed
                });
            }
            Err(error) if !failing => {
                failing = true;
                warn!("the web page cannot read the session: {error:#}");
            }
            Err(_) => {}
        }
        tokio::select! {
            _ = tokio::time::sleep(LOOK) => {}
            _ = stopping.wait_for(|stopping| *stopping) => return,
        }
    }
}
