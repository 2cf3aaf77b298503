//! `choixbot run`: the daemon that collects the replies. Five tasks share
//! one shutdown signal:
//! - the mailbox loop ([`daemon`]) fetches, decides and records each reply
//!   ([`process`]), queuing its answers ([`answers`]), and says how the
//!   mailbox is ([`Reading`]): readable or not, and read up to the deadline;
//! - the outbox worker sends what is queued;
//! - the supervisor ([`Daemon::supervise`]) tells the referents what will
//!   not heal by itself and, at the deadline, closes the session once the
//!   mailbox has been read up to it, or holds the list while it cannot be;
//! - the notice task sends the displacement notices when they are due
//!   ([`notices`]);
//! - the retention task deletes the emails' bodies `retention_days` after
//!   the close (`close::retention`).
//!
//! They run only while this process holds the session's lease: another
//! `choixbot run` on the same session waits as a standby (`crate::lease`).
//!
//! Shutdown (SIGTERM, Ctrl-C) is passed in as a future, so that tests can
//! stop the daemon exactly when they want. Each task finishes the step it is
//! in (a transaction, a send) and returns.

mod daemon;
mod notices;
mod process;

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use tracing::{error, info, warn};

pub use crate::answer::replies::Answers;
pub use crate::session::SessionData;
pub use daemon::{Reading, Unreadable, BATCH, DRAIN_GRACE};
pub use process::{Processed, Processor, TURN_GRACE_MS};

use crate::alert::Alerts;
use crate::answer::Templates;
use crate::close::{self, Basis, Closed};
use crate::lease;
use crate::oauth::TokenSource;
use crate::outbox::{transport::SmtpTransport, worker::Worker};
use crate::settings::Settings;
use crate::store::Store;

/// How often the supervisor looks again past the deadline while the list
/// waits (a close to retry, an hourly alert due).
const LOOK_AGAIN: Duration = Duration::from_secs(30);

/// Everything the daemon runs with.
#[derive(Clone)]
pub struct Daemon {
    /// The configuration.
    pub settings: Arc<Settings>,
    /// The session database, and the clock everything reads.
    pub store: Store,
    /// The loaded, checked templates.
    pub templates: Arc<Templates>,
    /// The outbox worker (its SMTP pool and retry policy).
    pub worker: Worker,
    /// The OAuth2 access tokens, when IMAP or SMTP logs in with one.
    pub tokens: Option<Arc<TokenSource>>,
    /// The deadline, resolved once.
    deadline: DateTime<Utc>,
}

impl Daemon {
    /// Prepares the daemon: checks the secrets and builds the SMTP pool.
    /// Connecting to the IMAP server is the loop's job (and retried).
    pub fn new(settings: Arc<Settings>, store: Store, templates: Arc<Templates>) -> crate::Result<Self> {
        let tokens = token_source(&settings, store.clock().clone())?;
        let transport = SmtpTransport::for_settings(&settings.smtp, tokens.as_ref())?;
        let worker = outbox_worker(&settings, store.clone(), transport)?;
        let deadline = settings.session.deadline;
        Ok(Self { settings, store, templates, worker, tokens, deadline })
    }

    /// Runs until `shutdown` completes: as the session's active daemon
    /// while it holds the lease, as a standby while another process does
    /// (`crate::lease`).
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> crate::Result<()> {
        // Refuse to start without a password at all; it is read again at
        // each connection, so that a referent can fix a wrong one. (With
        // OAuth2 the token file is read at each connection too.)
        if self.settings.imap.auth == crate::settings::Auth::Password {
            self.settings.imap.password()?;
        }
        let (stop, stopping) = watch::channel(false);
        let serving = self.serve(stopping);
        tokio::pin!(serving);
        tokio::select! {
            result = &mut serving => return result,
            _ = shutdown => info!("shutting down"),
        }
        let _ = stop.send(true);
        serving.await
    }

    /// Takes the lease (waiting as a standby while another process holds
    /// it), works while it holds it, and waits again if it loses it, until
    /// `stopping`. A clean stop gives the lease up, for a standby to take
    /// over at once.
    async fn serve(self, mut stopping: watch::Receiver<bool>) -> crate::Result<()> {
        let me = lease::identity();
        let store = self.store.clone().unfenced();
        let mut lost = false;
        while let Some(held) = lease::wait_for(&store, &me, &mut stopping, lost).await {
            info!(
                epoch = held.epoch(),
                "this choixbot run holds the session's lease: it reads the mailbox and sends"
            );
            let fenced = held.store();
            let term = Daemon {
                store: fenced.clone(),
                worker: Worker { store: fenced, ..self.worker.clone() },
                ..self.clone()
            };
            let (lease_lost, mut stop) = (held.lost(), stopping.clone());
            term.work(async move {
                tokio::select! {
                    _ = lease_lost => {}
                    _ = stop.wait_for(|stopping| *stopping) => {}
                }
            })
            .await?;
            if *stopping.borrow() {
                held.release().await;
                break;
            }
            warn!(
                "this choixbot run lost the session's lease: it acts on no more mail, and waits as a standby"
            );
            lost = true;
        }
        if let Err(error) = store.forget_daemon(&me).await {
            warn!("{error:#}");
        }
        Ok(())
    }

    /// The active daemon's work, until `stop` completes.
    async fn work(self, stop_working: impl Future<Output = ()>) -> crate::Result<()> {
        let wake = Arc::new(tokio::sync::Notify::new());
        let answers = Answers::new(self.templates.clone(), self.settings.clone())?;
        let mut processor =
            Processor::new(self.store.clone(), self.settings.clone(), answers.clone(), wake.clone()).await?;
        let (stop, stopped) = watch::channel(false);
        let (reading, read) = watch::channel(Reading::default());

        let worker = self.worker.clone();
        let (worker_wake, worker_stop) = (wake.clone(), stopped.clone());
        let paused = Arc::new(AtomicBool::new(false));
        let outbox_paused = paused.clone();
        let outbox = tokio::spawn(async move { worker.run(&worker_wake, worker_stop, &outbox_paused).await });
        let supervisor = tokio::spawn(self.clone().supervise(read, wake.clone(), paused, stopped.clone()));
        let retention = tokio::spawn(close::retention::purge_when_due(
            self.store.clone(),
            self.settings.clone(),
            stopped.clone(),
        ));
        let notices = tokio::spawn(notices::send_when_due(
            self.store.clone(),
            self.settings.clone(),
            answers,
            self.deadline,
            wake.clone(),
            stopped.clone(),
        ));
        let (settings, tokens) = (self.settings.clone(), self.tokens.clone());
        let mailbox = async move {
            daemon::run(&settings.imap, tokens.as_deref(), &mut processor, &reading, stopped).await;
        };
        info!("choixbot is running; the deadline is {}", self.settings.session.deadline);
        tokio::select! {
            _ = mailbox => {}
            _ = stop_working => {}
        }
        let _ = stop.send(true);
        let _ = outbox.await;
        let _ = supervisor.await;
        let _ = retention.await;
        let _ = notices.await;
        Ok(())
    }

    /// Looks at the mailbox's reading whenever it changes, at the deadline,
    /// and every [`LOOK_AGAIN`] after it, until the session is closed.
    ///
    /// Between the deadline and the close, while the mailbox is being read
    /// up to the deadline, the outbox is `paused`: the list waits for that
    /// reading, and the answers can wait for the list. Measured on the
    /// benchmark's 5,000 replies waiting at the deadline, sending the
    /// answers meanwhile took the two cores the reading needed.
    async fn supervise(
        self,
        mut read: watch::Receiver<Reading>,
        wake: Arc<tokio::sync::Notify>,
        paused: Arc<AtomicBool>,
        mut stopped: watch::Receiver<bool>,
    ) {
        let alerts = Alerts::new(self.store.clone(), self.settings.clone(), self.templates.clone());
        let clock = self.store.clock().clone();
        let mut refused = false;
        loop {
            let reading = read.borrow_and_update().clone();
            let past = clock.now() >= self.deadline || reading.amphi_over;
            // Until the close is made (the look below makes it once the
            // folder is drained), unless the mailbox cannot be read: then
            // the close is held, and the answers go on leaving.
            let draining = past && reading.unreadable.is_none();
            paused.store(draining, Ordering::SeqCst);
            let done = self.look(&alerts, &reading, past, &mut refused).await;
            if done.as_ref().is_ok_and(|closed| *closed) || done.is_err() {
                paused.store(false, Ordering::SeqCst);
            }
            wake.notify_one();
            match done {
                Ok(true) => return,
                Ok(false) => {}
                Err(error) => {
                    error!("at the deadline: {error:#}; trying again in {} s", LOOK_AGAIN.as_secs())
                }
            }
            tokio::select! {
                changed = read.changed() => if changed.is_err() {
                    return; // the mailbox loop has ended: the daemon is stopping
                },
                _ = clock.sleep_until(self.deadline, stopped.clone()), if !past => {}
                _ = tokio::time::sleep(LOOK_AGAIN), if past => {}
                _ = clock.moved(), if past => {}
                _ = stopped.changed() => return,
            }
        }
    }

    /// One look: alerts for a refusal, and past the deadline the close or
    /// the hold. Returns true once the session is closed.
    async fn look(
        &self,
        alerts: &Alerts,
        reading: &Reading,
        past: bool,
        refused: &mut bool,
    ) -> anyhow::Result<bool> {
        match &reading.unreadable {
            Some(Unreadable { refusal: Some(refusal), since, .. }) => {
                alerts.mailbox_refused(refusal, *since).await?;
                *refused = true;
            }
            None if *refused => {
                alerts.mailbox_readable().await?;
                *refused = false;
            }
            _ => {}
        }
        if !past {
            return Ok(false);
        }
        if let Some(at) = self.store.state(close::CLOSED_AT).await? {
            info!("the session was already closed at {at}");
            return Ok(true);
        }
        if let Some((folder, position)) = &reading.drained {
            let basis = Basis::Mailbox { folder: folder.clone(), position: *position };
            match close::close(&self.store, &self.settings, &self.templates, &basis).await? {
                Closed::Now { queued, .. } => {
                    info!(queued, basis = %basis.describe(), "deadline reached: session closed, the list and the results are queued")
                }
                Closed::Already { at } => info!("the session was already closed at {at}"),
            }
            return Ok(true);
        }
        if let Some(unreadable) = &reading.unreadable {
            if let Some(held) = close::hold(&self.store, unreadable.since, &unreadable.error).await? {
                alerts.close_held(&held, unreadable.refusal.as_ref()).await?;
            }
        }
        Ok(false)
    }
}

/// Reads the mailbox up to its last message now, deciding and answering
/// each reply (the answers are queued), and returns the basis of a close:
/// `choixbot close` reads the replies still waiting before it makes the
/// list.
///
/// `tokens` is the caller's [`token_source`]: a command that then sends
/// shares it with its outbox, and refreshes once.
pub async fn read_mailbox_now(
    settings: Arc<Settings>,
    store: Store,
    templates: Arc<Templates>,
    tokens: Option<Arc<TokenSource>>,
) -> anyhow::Result<Basis> {
    let wake = Arc::new(tokio::sync::Notify::new());
    let answers = Answers::new(templates, settings.clone())?;
    let mut processor = Processor::new(store, settings.clone(), answers, wake).await?;
    let (folder, position) =
        daemon::read_up_to_now(&settings.imap, tokens.as_deref(), &mut processor).await?;
    Ok(Basis::Mailbox { folder, position })
}

/// The token source, when IMAP or SMTP logs in with OAuth2.
pub fn token_source(
    settings: &Settings,
    clock: crate::clock::Clock,
) -> crate::Result<Option<Arc<TokenSource>>> {
    let Some(oauth2) = settings.authorization() else { return Ok(None) };
    let tokens =
        TokenSource::new(oauth2, clock).map_err(|error| crate::Error::bad_input(format!("{error:#}")))?;
    Ok(Some(Arc::new(tokens)))
}

/// The outbox worker with the configured send rate.
pub fn outbox_worker(settings: &Settings, store: Store, transport: SmtpTransport) -> crate::Result<Worker> {
    let envelope_from = settings.mail.from_address.clone().to_string();
    Ok(Worker {
        store,
        transport,
        envelope_from,
        retry: crate::outbox::worker::RetryPolicy {
            first_delay: std::time::Duration::from_secs(settings.smtp.retry_first_seconds),
            max_delay: std::time::Duration::from_secs(settings.smtp.retry_max_seconds),
            ..Default::default()
        },
        concurrency: if settings.mail.max_per_minute > 0 {
            1
        } else {
            crate::outbox::transport::SEND_CONCURRENCY
        },
        min_interval: (settings.mail.max_per_minute > 0)
            .then(|| std::time::Duration::from_secs(60) / settings.mail.max_per_minute),
    })
}
