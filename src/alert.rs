//! Telling the referents, by email, what will not heal by itself: the
//! mailbox refused choixbot (a password, a certificate, a folder), or the
//! deadline has passed and the list is held because the mailbox cannot be
//! read. A WARN line in a log that nobody reads at midnight is not enough.
//!
//! Each alert goes through the outbox like any email, with a Message-ID
//! derived from what it is about, so that deciding it again (a restart, two
//! loops of the supervisor) queues nothing new:
//! - a refusal: once per outage (the outage is recorded in the session
//!   state until the mailbox can be read again);
//! - a held close: at once, then once an hour while it lasts.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tracing::{error, info};

use crate::answer::{french, subject, AlertContext, Outgoing, Purpose, SessionFacts, Templates};
use crate::close::Held;
use crate::mailbox::Refusal;
use crate::settings::Settings;
use crate::store::{self, Store};

/// The session-state key of a refusal already told (its value: the kind
/// and the start of the outage).
const REFUSAL_TOLD: &str = "alert_refusal";

/// The session-state key of the refusal in force, as `status` shows it
/// (a [`RefusalInForce`] in JSON), until the mailbox can be read again.
const REFUSAL_IN_FORCE: &str = "mailbox_refusal";

/// The mailbox's refusal in force, recorded for `status` and the web page.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RefusalInForce {
    /// [`Refusal::kind`].
    pub kind: String,
    /// The start of the outage (milliseconds since the epoch).
    pub since_ms: i64,
    /// The refusal, in full.
    pub error: String,
    /// What to do about it ([`Refusal::remedy`]).
    pub remedy: String,
}

impl RefusalInForce {
    /// The refusal in force, if the mailbox refuses choixbot now.
    pub async fn read(store: &Store) -> anyhow::Result<Option<Self>> {
        let Some(json) = store.state(REFUSAL_IN_FORCE).await? else { return Ok(None) };
        Ok(serde_json::from_str(&json).ok())
    }
}

/// How often a held close is told again.
const HELD_REPEAT_MS: i64 = 3_600_000;

/// Words and queues the alerts.
#[derive(Clone)]
pub struct Alerts {
    /// The session database (and its clock).
    store: Store,
    /// The configuration: the referents, the From address.
    settings: Arc<Settings>,
    /// The loaded templates.
    templates: Arc<Templates>,
}

impl Alerts {
    pub fn new(store: Store, settings: Arc<Settings>, templates: Arc<Templates>) -> Self {
        Self { store, settings, templates }
    }

    /// Tells the referents once that the mailbox refused choixbot (for the
    /// outage that began at `since`). Returns whether an alert was queued.
    pub async fn mailbox_refused(&self, refusal: &Refusal, since: DateTime<Utc>) -> anyhow::Result<bool> {
        let told = format!("{}|{}", refusal.kind(), since.timestamp_millis());
        if self.store.state(REFUSAL_TOLD).await?.as_deref() == Some(told.as_str()) {
            return Ok(false);
        }
        let in_force = RefusalInForce {
            kind: refusal.kind().to_string(),
            since_ms: since.timestamp_millis(),
            error: refusal.to_string(),
            remedy: refusal.remedy().to_string(),
        };
        let mut tx = self.store.begin_write().await?;
        let json = serde_json::to_string(&in_force).expect("a refusal serialises");
        store::set_state(&mut tx, REFUSAL_IN_FORCE, &json).await?;
        self.store.commit(tx).await?;
        let context = self.context(false, since, &refusal.to_string(), Some(refusal.remedy_in_french()))?;
        let seed = format!("refusal|{}|{told}", self.settings.session.name);
        let what = "la boîte de réception refuse choixbot";
        let queued = self.queue(&seed, what, &context, Some(&told)).await?;
        if queued {
            error!(%refusal, "the mailbox refused choixbot: the referents are told by email");
        }
        Ok(queued)
    }

    /// Forgets a refusal once the mailbox can be read again: the next one
    /// is a new outage, told again.
    pub async fn mailbox_readable(&self) -> anyhow::Result<()> {
        if self.store.state(REFUSAL_TOLD).await?.is_some()
            || self.store.state(REFUSAL_IN_FORCE).await?.is_some()
        {
            let mut tx = self.store.begin_write().await?;
            sqlx::query("DELETE FROM session_state WHERE key = $1 OR key = $2")
                .bind(REFUSAL_TOLD)
                .bind(REFUSAL_IN_FORCE)
                .execute(&mut *tx)
                .await?;
            self.store.commit(tx).await?;
        }
        Ok(())
    }

    /// Tells the referents that the list is held: at once, then every
    /// hour. `refusal` adds what to change, when it is known.
    pub async fn close_held(&self, held: &Held, refusal: Option<&Refusal>) -> anyhow::Result<bool> {
        let since = held.unreadable_since().unwrap_or_else(|| self.store.clock().now());
        let remedy = refusal.map(Refusal::remedy_in_french);
        let context = self.context(true, since, &held.error, remedy)?;
        let hour = (self.store.now_ms() - held.held_at).max(0) / HELD_REPEAT_MS;
        let seed = format!("held|{}|{}|{hour}", self.settings.session.name, held.held_at);
        let queued = self.queue(&seed, "LA LISTE EST RETENUE", &context, None).await?;
        if queued {
            error!(error = %held.error, "the list is held: the mailbox cannot be read; the referents are told by email");
        }
        Ok(queued)
    }

    fn context(
        &self,
        held: bool,
        since: DateTime<Utc>,
        error: &str,
        remedy: Option<&str>,
    ) -> anyhow::Result<AlertContext> {
        let session = SessionFacts::from_settings(&self.settings);
        let tz = self.settings.session.timezone;
        Ok(AlertContext {
            session,
            held,
            since: french::instant_in_words(since, tz),
            error: error.to_string(),
            remedy: remedy.map(str::to_string),
        })
    }

    /// Queues the alert to every referent (`told`: the refusal to record
    /// in the same transaction). Returns whether it was new.
    async fn queue(
        &self,
        seed: &str,
        what: &str,
        context: &AlertContext,
        told: Option<&str>,
    ) -> anyhow::Result<bool> {
        let referents = self.settings.session.referents.clone();
        if referents.is_empty() {
            error!("{what}: no referent to tell (session.referents is empty): {}", context.error);
            return Ok(false);
        }
        let rendered = self.templates.alert(context)?;
        let subject = subject::alert(&self.settings.session.name, what);
        let mail = &self.settings.mail;
        let mut outgoing = Outgoing::from_rendered(Purpose::Alert, seed, mail, subject, rendered)?;
        outgoing.to = referents;
        let queued = crate::outbox::queued(&outgoing, None, None, mail)?;
        let mut tx = self.store.begin_write().await?;
        let new = store::outbox::queue(&mut tx, &queued, self.store.now_ms()).await?;
        if let Some(told) = told {
            store::set_state(&mut tx, REFUSAL_TOLD, told).await?;
        }
        self.store.commit(tx).await?;
        if new {
            info!(purpose = "alert", "alert queued to the referents");
        }
        Ok(new)
    }
}
