//! `choixbot run`: the daemon that collects the replies. Three tasks share
//! one shutdown signal:
//! - the mailbox loop ([`daemon`]) fetches, decides and records each reply
//!   ([`process`]), queuing its answers ([`answers`]);
//! - the outbox worker sends what is queued;
//! - the deadline task closes the session when the time comes.
//!
//! Shutdown (SIGTERM, Ctrl-C) is passed in as a future, so that tests can
//! stop the daemon exactly when they want. Each task finishes the step it is
//! in (a transaction, a send) and returns.

mod answers;
mod authentication;
mod daemon;
mod process;
mod session;

use std::future::Future;
use std::sync::Arc;

use secrecy::ExposeSecret;
use tracing::{error, info};

pub use answers::Answers;
pub use process::{Processed, Processor};
pub use session::SessionData;

use crate::answer::Templates;
use crate::close::{self, Closed};
use crate::outbox::{transport::SmtpTransport, worker::Worker};
use crate::settings::Settings;
use crate::store::Store;

/// Everything the daemon runs with.
#[derive(Clone)]
pub struct Daemon {
    /// The configuration.
    pub settings: Arc<Settings>,
    /// The session database.
    pub store: Store,
    /// The loaded, checked templates.
    pub templates: Arc<Templates>,
    /// The outbox worker (its SMTP pool and retry policy).
    pub worker: Worker,
}

impl Daemon {
    /// Prepares the daemon: checks the secrets and builds the SMTP pool.
    /// Connecting to the IMAP server is the loop's job (and retried).
    pub fn new(settings: Arc<Settings>, store: Store, templates: Arc<Templates>) -> crate::Result<Self> {
        let transport = SmtpTransport::new(&settings.smtp, settings.smtp.credentials()?)?;
        let worker = outbox_worker(&settings, store.clone(), transport)?;
        Ok(Self { settings, store, templates, worker })
    }

    /// Runs until `shutdown` completes.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> crate::Result<()> {
        let password = self.settings.imap.password()?;
        let wake = Arc::new(tokio::sync::Notify::new());
        let answers = Answers::new(self.templates.clone(), self.settings.clone())?;
        let mut processor =
            Processor::new(self.store.clone(), self.settings.clone(), answers, wake.clone()).await?;
        let (stop, stopped) = tokio::sync::watch::channel(false);

        let worker = self.worker.clone();
        let (worker_wake, worker_stop) = (wake.clone(), stopped.clone());
        let outbox = tokio::spawn(async move { worker.run(&worker_wake, worker_stop).await });
        let deadline = tokio::spawn(self.clone().close_at_deadline(wake.clone(), stopped.clone()));
        let settings = self.settings.clone();
        let mailbox = async move {
            daemon::run(&settings.imap, password.expose_secret(), &mut processor, stopped).await;
        };
        info!("choixbot is running; the deadline is {}", self.settings.session.deadline);
        tokio::select! {
            _ = mailbox => {}
            _ = shutdown => info!("shutting down"),
        }
        let _ = stop.send(true);
        let _ = outbox.await;
        let _ = deadline.await;
        Ok(())
    }

    /// Closes the session when the deadline comes. A close that fails (the
    /// database out of reach, a template error) is tried again every 30 s
    /// until it succeeds or the daemon stops: the list must leave.
    async fn close_at_deadline(
        self,
        wake: Arc<tokio::sync::Notify>,
        mut stopped: tokio::sync::watch::Receiver<bool>,
    ) {
        let Ok(deadline) = self.settings.session.deadline_utc() else { return };
        if !close::wait_for_deadline(deadline, stopped.clone()).await {
            return;
        }
        loop {
            match close::close(&self.store, &self.settings, &self.templates).await {
                Ok(Closed::Now { queued, .. }) => {
                    info!(queued, "deadline reached: session closed, the list and the results are queued");
                    wake.notify_one();
                    return;
                }
                Ok(Closed::Already { at }) => {
                    info!("the session was already closed at {at}");
                    return;
                }
                Err(error) => {
                    error!("cannot close the session at the deadline: {error:#}; trying again in 30 s")
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(std::time::Duration::from_secs(30)) => {}
                _ = stopped.changed() => return,
            }
        }
    }
}

/// The outbox worker with the configured send rate.
pub fn outbox_worker(settings: &Settings, store: Store, transport: SmtpTransport) -> crate::Result<Worker> {
    let envelope_from = settings.mail.from_address().map_err(crate::Error::bad_input)?.to_string();
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
