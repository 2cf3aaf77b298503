//! The commands that send or read mail: `invite`, `run`, `close`, `audit`.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use crate::answer::Templates;
use crate::close::{self, Closed};
use crate::collect::{self, Daemon};
use crate::outbox::{transport::SmtpTransport, worker::Worker};
use crate::settings::Settings;
use crate::store::Store;
use crate::{invite, lease, Error, Result};

/// Settings, database and templates: what every mail command needs.
struct Session {
    /// The configuration.
    settings: Arc<Settings>,
    /// The session database.
    store: Store,
    /// The templates, checked: choixbot refuses to start with a template
    /// that does not render.
    templates: Arc<Templates>,
    /// The OAuth2 access tokens, when IMAP or SMTP logs in with one: one
    /// source for the command's reading and sending.
    tokens: Option<Arc<crate::oauth::TokenSource>>,
}

async fn open(config: &Path, database_url: &str) -> Result<Session> {
    let settings = Arc::new(Settings::load(config)?);
    let templates = Templates::load(settings.mail.templates_dir.as_deref())
        .and_then(|templates| templates.check().map(|()| templates))
        .map_err(|error| Error::bad_input(format!("{error:#}")))?;
    let store = Store::connect(database_url).await?;
    let tokens = collect::token_source(&settings, store.clock().clone())?;
    Ok(Session { settings, store, templates: Arc::new(templates), tokens })
}

fn worker(session: &Session, store: Store) -> Result<Worker> {
    let transport = SmtpTransport::for_settings(&session.settings.smtp, session.tokens.as_ref())?;
    collect::outbox_worker(&session.settings, store, transport)
}

/// Sends what is queued, holding the session's lease (`crate::lease`)
/// while it does. When a `choixbot run` holds it, the sending is left to
/// that daemon: two processes sending one outbox would send its rows twice.
async fn send_queued(session: &Session, what: &str) -> Result<()> {
    match lease::take_for_command(&session.store, &lease::identity()).await? {
        Ok(held) => {
            let sent = send_with_progress(&worker(session, held.store())?, what).await;
            held.release().await;
            sent
        }
        Err(holder) => {
            println!(
                "choixbot on {} (pid {}) is acting on the session's mail: it sends {what} (choixbot status shows them leave).",
                holder.host, holder.pid
            );
            Ok(())
        }
    }
}

pub async fn invite(
    config: &Path,
    database_url: &str,
    dry_run: bool,
    force: bool,
    output: &Path,
) -> Result<()> {
    let session = open(config, database_url).await?;
    let interns = session.store.interns().await?;
    if interns.is_empty() {
        return Err(Error::bad_input(
            "no interns: import the call list first (choixbot import interns FILE)",
        ));
    }
    let deadline = session.settings.session.deadline;
    if !dry_run && session.store.clock().now() >= deadline {
        let tz = session.settings.session.timezone;
        return Err(Error::bad_input(format!(
            "the deadline, {}, has passed: nothing was sent. Interns invited now could only be told that the \
             session is closed. Set [session] deadline in {} to the real deadline (local time, {tz}).",
            crate::answer::french::deadline_in_words(deadline, tz),
            config.display()
        )));
    }
    if !dry_run && !force {
        super::check::before_invite(&session.settings).await?;
    }
    let posts = session.store.posts().await?;
    let messages = invite::compose_all(&session.settings, &session.templates, &interns, &posts)?;
    if dry_run {
        invite::write_dry_run(output, &messages)?;
        println!(
            "Wrote {} invitation(s) to {} for review; nothing was sent.",
            messages.len(),
            output.display()
        );
        return Ok(());
    }
    let (queued, total) = invite::queue_all(&session.store, &messages).await?;
    println!("{total} invitation(s): {queued} newly queued, {} queued before.", total - queued);
    send_queued(&session, "the invitations").await
}

/// Drains the outbox with a progress bar. What cannot be sent now stays
/// queued for `choixbot run`.
async fn send_with_progress(worker: &Worker, what: &str) -> Result<()> {
    let pending = worker.store.due(i64::MAX).await?.len() as u64;
    let bar = ProgressBar::new(pending);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta} left)")
            .expect("a valid progress template")
            .progress_chars("=> "),
    );
    bar.set_message(format!("sending {what}"));
    let mut total = crate::outbox::worker::Sent::default();
    loop {
        let sent = worker.try_execute_task(20).await?;
        if sent.attempted() == 0 {
            break;
        }
        bar.inc(sent.attempted() as u64);
        total.accepted += sent.accepted;
        total.deferred += sent.deferred;
        total.failed += sent.failed;
    }
    bar.finish_and_clear();
    println!(
        "Sent {}; {} to retry later (choixbot run retries them); {} failed (see choixbot status).",
        total.accepted, total.deferred, total.failed
    );
    Ok(())
}

pub async fn run(config: &Path, database_url: &str) -> Result<()> {
    let session = open(config, database_url).await?;
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let page = match &session.settings.web {
        Some(web) => Some(start_web_page(&session, web.clone(), stopping).await?),
        None => None,
    };
    let daemon = Daemon::new(session.settings, session.store, session.templates)?;
    let ran = daemon.run(shutdown_signal()).await;
    let _ = stop.send(true);
    if let Some(page) = page {
        match page.await {
            Ok(Err(error)) => tracing::warn!("the web page stopped: {error:#}"),
            Err(error) => tracing::warn!("the web page's task failed: {error}"),
            Ok(Ok(())) => {}
        }
    }
    ran
}

/// Starts the `[web]` page on its own task, beside the daemon: the mail
/// work never waits for a web request, and a standby serves the page too.
/// The address is taken first, so that a port in use is said at once.
async fn start_web_page(
    session: &Session,
    settings: crate::settings::WebSettings,
    stopping: tokio::sync::watch::Receiver<bool>,
) -> Result<tokio::task::JoinHandle<Result<()>>> {
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|error| Error::bad_input(format!("web: cannot listen on {}: {error}", settings.listen)))?;
    let (store, templates) = (session.store.clone(), session.templates.clone());
    let web = crate::web::Web::new(session.settings.clone(), settings, store, templates, stopping.clone())?;
    Ok(tokio::spawn(crate::web::serve(web, listener, stopping)))
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}

/// `choixbot close`: reads the replies still in the mailbox, then closes.
/// With `without_mailbox`, closes at once on what is recorded, and the
/// list says that replies may be missing.
pub async fn close(config: &Path, database_url: &str, without_mailbox: bool) -> Result<()> {
    let session = open(config, database_url).await?;
    let basis = if session.store.state(close::CLOSED_AT).await?.is_some() {
        None
    } else if without_mailbox {
        let held = close::held::held(&session.store).await?;
        Some(close::Basis::WithoutMailbox { unreadable_since: held.and_then(|h| h.unreadable_since()) })
    } else {
        let read = collect::read_mailbox_now(
            session.settings.clone(),
            session.store.clone(),
            session.templates.clone(),
            session.tokens.clone(),
        );
        Some(read.await.map_err(|error| {
            anyhow::anyhow!(
                "cannot read the mailbox before closing: {error:#}\nNothing was sent. Fix the IMAP settings \
                 (choixbot status shows the error), or send the list without the replies still in the \
                 mailbox: choixbot close --without-mailbox"
            )
        })?)
    };
    let closed = match &basis {
        Some(basis) => close::close(&session.store, &session.settings, &session.templates, basis).await?,
        None => Closed::Already { at: session.store.state(close::CLOSED_AT).await?.unwrap_or_default() },
    };
    match closed {
        Closed::Now { queued, assignments } => {
            println!("Session closed: {assignments} intern(s) allocated, {queued} email(s) queued (the list to the ARS, the results).");
        }
        Closed::Already { at } => println!("The session was already closed at {at}; nothing new was queued."),
    }
    send_queued(&session, "the list and the results").await
}

pub async fn audit(database_url: &str, email: &str, raw: Option<i64>) -> Result<()> {
    let store = Store::connect(database_url).await?;
    if let Some(id) = raw {
        let bytes = store
            .raw_message(id)
            .await?
            .ok_or_else(|| Error::bad_input(format!("no stored message {id}")))?;
        if bytes.is_empty() {
            return Err(Error::bad_input(format!(
                "message {id} was deleted after the retention (choixbot purge); its date and decision stay in the audit"
            )));
        }
        use std::io::Write;
        std::io::stdout().write_all(&bytes).context("cannot write to stdout")?;
        return Ok(());
    }
    let address = crate::domain::Email::parse(email).map_err(Error::bad_input)?;
    let messages = store.audit_messages(address.as_str()).await?;
    let outbox = store.audit_outbox(address.as_str()).await?;
    print!("{}", super::report::audit(&address, &messages, &outbox));
    let proxies = store.proxy_changes().await?;
    let proxy = proxies
        .iter()
        .find(|p| p.intern == address.as_str() || p.active.as_deref() == Some(address.as_str()));
    print!("{}", super::report::commands_audit(proxy, &store.notice_state(&address).await?));
    let mut conn = store.pool().acquire().await.map_err(anyhow::Error::from)?;
    let turns = crate::store::amphi::turns_of(&mut conn, &address).await?;
    print!("{}", super::amphi::audit(&turns));
    Ok(())
}
