//! `status` read from the database: what the terminal prints and the
//! referents' web page shows are the same facts, read in one place.

use super::report::{CloseStatus, MailboxRefused, Status};
use super::snapshot::{snapshot, Snapshot};
use crate::settings::Settings;
use crate::store::Store;
use crate::Result;

/// The session now, and everything `status` says of it. Without a
/// configuration, the deadline is unknown and the supernumerary cap is 1.
pub async fn read(store: &Store, settings: Option<&Settings>) -> Result<(Snapshot, Status)> {
    let snapshot = snapshot(store, settings).await?;
    let status = Status {
        deadline: settings.map(|s| s.session.deadline_written.clone()),
        closed_at: store.state(crate::close::CLOSED_AT).await?,
        groups: super::report::group_status(&snapshot),
        mail: store.mail_counts().await?,
        outbox: store.outbox_counts().await?,
        failed: store.outbox_failures().await?,
        follow_up: super::follow_up::FollowUp::read(store, &snapshot.interns).await?,
        close: close_status(store, settings).await?,
        lease: super::lease::LeaseStatus::read(store, session_tz(settings)).await?,
        proxies: store.proxy_changes().await?,
        notices: store.notice_counts().await?,
        mailbox_refused: mailbox_refused(store, session_tz(settings)).await?,
        amphi: super::amphi::AmphiStatus::read(store, settings).await?,
    };
    Ok((snapshot, status))
}

/// The session's time zone (Paris without a configuration).
pub fn session_tz(settings: Option<&Settings>) -> chrono_tz::Tz {
    settings.map_or(chrono_tz::Europe::Paris, |s| s.session.timezone)
}

/// Where the close stands: the deadline by the store's clock, the hold and
/// the basis recorded by the daemon or `choixbot close`.
async fn close_status(store: &Store, settings: Option<&Settings>) -> Result<CloseStatus> {
    use crate::answer::french::{deadline_in_words, instant_in_words};
    let tz = session_tz(settings);
    // An amphi has no deadline: it ends when every group is done.
    let deadline = settings.filter(|s| s.amphi().is_none()).map(|s| s.session.deadline);
    let closed_at = store.state(crate::close::CLOSED_AT).await?;
    let closed = closed_at
        .as_deref()
        .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok())
        .map(|at| instant_in_words(at.with_timezone(&chrono::Utc), tz));
    let held = crate::close::held::held(store).await?;
    let deadline_passed = deadline.is_some_and(|d| store.clock().now() >= d);
    Ok(CloseStatus {
        deadline: deadline.map(|d| deadline_in_words(d, tz)),
        deadline_passed,
        // Recorded by the daemon, by its clock, once the deadline passed.
        held: held.is_some() && closed_at.is_none(),
        unreadable_since: held.as_ref().and_then(|h| h.unreadable_since()).map(|at| instant_in_words(at, tz)),
        error: held.map(|h| h.error),
        basis: store.state(crate::close::CLOSE_BASIS).await?,
        closed,
    })
}

/// The refusal the daemon recorded, if the mailbox refuses choixbot now.
async fn mailbox_refused(store: &Store, tz: chrono_tz::Tz) -> Result<Option<MailboxRefused>> {
    let Some(refusal) = crate::alert::RefusalInForce::read(store).await? else { return Ok(None) };
    let since = crate::answer::french::ms_in_words(refusal.since_ms, tz);
    Ok(Some(MailboxRefused { kind: refusal.kind, since, error: refusal.error, remedy: refusal.remedy }))
}
