//! The retention of personal data after the close (`[session]
//! retention_days`, 90 by default): once that many days have passed since
//! the close, the raw messages and the bodies of what was sent are deleted
//! (`Store::purge_bodies`). The daemon does it when the time comes;
//! `choixbot purge` does it at once if the time has come, and
//! `choixbot purge --now` does it at once after the close, whatever the
//! retention. Nothing is purged before the close: the replies are the
//! evidence of the choice until the list has left.

use chrono::{DateTime, Utc};
use tracing::{info, warn};

use crate::settings::Settings;
use crate::store::{Purged, Store};

/// Where the retention stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retention {
    /// The session is not closed: nothing may be purged.
    Open,
    /// Closed; the bodies are kept until then.
    KeptUntil(DateTime<Utc>),
    /// Closed, and the retention has passed: purge.
    Due,
}

/// Where the retention stands now, by the store's clock.
pub async fn retention(store: &Store, settings: &Settings) -> anyhow::Result<Retention> {
    let Some(closed) = closed_at(store).await? else { return Ok(Retention::Open) };
    let until = closed + chrono::Duration::days(i64::from(settings.session.retention_days));
    Ok(if store.clock().now() >= until { Retention::Due } else { Retention::KeptUntil(until) })
}

/// When the session was closed, if it was.
pub async fn closed_at(store: &Store) -> anyhow::Result<Option<DateTime<Utc>>> {
    let at = store.state(super::CLOSED_AT).await?;
    Ok(at.and_then(|at| DateTime::parse_from_rfc3339(&at).ok()).map(|at| at.with_timezone(&Utc)))
}

/// The daemon's part: waits until the retention has passed, then purges.
/// Returns when it has purged, or on shutdown. An error is logged and the
/// purge tried again an hour later.
pub async fn purge_when_due(
    store: Store,
    settings: std::sync::Arc<Settings>,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    const LOOK_AGAIN: std::time::Duration = std::time::Duration::from_secs(3600);
    let clock = store.clock().clone();
    loop {
        match retention(&store, &settings).await {
            Ok(Retention::Due) => match store.purge_bodies().await {
                Ok(purged) => {
                    info!(
                        messages = purged.messages,
                        sent = purged.sent,
                        "retention passed: the bodies of the emails are deleted"
                    );
                    if purged.still_pending == 0 {
                        return;
                    }
                }
                Err(error) => warn!("cannot purge after the retention: {error:#}; trying again in an hour"),
            },
            Ok(Retention::KeptUntil(until)) => {
                if !clock.sleep_until(until, stopped.clone()).await {
                    return;
                }
                continue;
            }
            Ok(Retention::Open) => {}
            Err(error) => warn!("cannot read the retention: {error:#}"),
        }
        tokio::select! {
            _ = tokio::time::sleep(LOOK_AGAIN) => {}
            _ = clock.moved() => {}
            _ = stopped.changed() => return,
        }
    }
}

/// `choixbot purge`: purges if the retention has passed; says until when
/// otherwise.
pub async fn purge_if_due(store: &Store, settings: &Settings) -> anyhow::Result<Result<Purged, Retention>> {
    match retention(store, settings).await? {
        Retention::Due => Ok(Ok(store.purge_bodies().await?)),
        other => Ok(Err(other)),
    }
}
