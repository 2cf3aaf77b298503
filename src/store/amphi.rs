//! The virtual amphi's rows (SPEC §11): one per call of an intern
//! (`amphi_turns`), what interns said before their turn (`amphi_intents`),
//! who was told their turn is near (`amphi_warned`), and the pause (a
//! session-state key). The rules are `crate::amphi`'s; this is storage.
//!
//! Reads take a connection, so that the daemon reads inside its write
//! transaction (`&mut **tx`) what no one else can change until it commits.

use std::collections::{HashMap, HashSet};

use sqlx::{Any, AnyConnection, Row, Transaction};

use crate::allocation::Status;
use crate::amphi::{How, Intent, Outcome, Settled, Turn};
use crate::domain::{ArsId, Email, Group};

/// The session-state key set while the amphi is paused (its value: since
/// when, ms since the epoch).
pub const PAUSED_AT: &str = "amphi_paused_at";

const COLUMNS: &str = "email, grp, round, called_at, ends_at, settled_at, outcome, ars_id, status, how";

/// Every turn, in the order of the calls.
pub async fn turns(conn: &mut AnyConnection) -> anyhow::Result<Vec<Turn>> {
    let rows =
        sqlx::query(&format!("SELECT {COLUMNS} FROM amphi_turns ORDER BY called_at, grp, round, email"))
            .fetch_all(conn)
            .await?;
    rows.iter().map(turn).collect()
}

/// One intern's turns, oldest first.
pub async fn turns_of(conn: &mut AnyConnection, intern: &Email) -> anyhow::Result<Vec<Turn>> {
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM amphi_turns WHERE email = $1 ORDER BY round"))
        .bind(intern.as_str())
        .fetch_all(conn)
        .await?;
    rows.iter().map(turn).collect()
}

/// One group's turns, in the order of the calls.
pub async fn turns_of_group(conn: &mut AnyConnection, group: &Group) -> anyhow::Result<Vec<Turn>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM amphi_turns WHERE grp = $1 ORDER BY called_at, round, email"
    ))
    .bind(group.as_str())
    .fetch_all(conn)
    .await?;
    rows.iter().map(turn).collect()
}

fn turn(row: &sqlx::any::AnyRow) -> anyhow::Result<Turn> {
    let settled_at: Option<i64> = row.try_get(5)?;
    let settled = match settled_at {
        None => None,
        Some(at) => {
            let outcome: String = row.try_get(6)?;
            let outcome = match outcome.as_str() {
                "chosen" => {
                    let ars_id = ArsId::parse(&row.try_get::<String, _>(7)?).map_err(anyhow::Error::msg)?;
                    let status = match row.try_get::<String, _>(8)?.as_str() {
                        "surnombre" => Status::Surnombre,
                        _ => Status::Assigned,
                    };
                    Outcome::Chosen { ars_id, status }
                }
                "later" => Outcome::Later,
                _ => Outcome::Absent,
            };
            let how = How::parse(&row.try_get::<String, _>(9)?).unwrap_or(How::WhenAbsent);
            Some(Settled { at, outcome, how })
        }
    };
    Ok(Turn {
        intern: Email::parse(&row.try_get::<String, _>(0)?).map_err(anyhow::Error::msg)?,
        group: Group::parse(&row.try_get::<String, _>(1)?).map_err(anyhow::Error::msg)?,
        round: row.try_get(2)?,
        called_at: row.try_get(3)?,
        ends_at: row.try_get(4)?,
        settled,
    })
}

/// Records a call.
pub async fn call(tx: &mut Transaction<'static, Any>, turn: &Turn) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO amphi_turns (email, grp, round, called_at, ends_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(turn.intern.as_str())
    .bind(turn.group.as_str())
    .bind(turn.round)
    .bind(turn.called_at)
    .bind(turn.ends_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Settles the turn (`intern`, `round`) unless it is settled already;
/// true when this call settled it. A turn is never settled twice.
pub async fn settle(
    tx: &mut Transaction<'static, Any>,
    intern: &Email,
    round: i64,
    settled: &Settled,
    message_ref: Option<i64>,
) -> anyhow::Result<bool> {
    let (ars_id, status) = match &settled.outcome {
        Outcome::Chosen { ars_id, status } => {
            let status = if *status == Status::Surnombre { "surnombre" } else { "assigned" };
            (Some(ars_id.as_str()), Some(status))
        }
        _ => (None, None),
    };
    let done = sqlx::query(
        "UPDATE amphi_turns SET settled_at = $1, outcome = $2, ars_id = $3, status = $4, how = $5, message_ref = $6 \
         WHERE email = $7 AND round = $8 AND settled_at IS NULL",
    )
    .bind(settled.at)
    .bind(settled.outcome.name())
    .bind(ars_id)
    .bind(status)
    .bind(settled.how.name())
    .bind(message_ref)
    .bind(intern.as_str())
    .bind(round)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Moves the end of every running turn on by `by_ms` (a pause's length).
pub async fn extend_open_turns(tx: &mut Transaction<'static, Any>, by_ms: i64) -> anyhow::Result<u64> {
    let done = sqlx::query("UPDATE amphi_turns SET ends_at = ends_at + $1 WHERE settled_at IS NULL")
        .bind(by_ms)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected())
}

/// What each intern said before their turn.
pub async fn intents(conn: &mut AnyConnection) -> anyhow::Result<HashMap<Email, Intent>> {
    let rows = sqlx::query("SELECT email, intent FROM amphi_intents").fetch_all(conn).await?;
    rows.iter()
        .filter_map(|row| {
            let email = row.try_get::<String, _>(0).map_err(anyhow::Error::from);
            let intent = row.try_get::<String, _>(1).ok().and_then(|name| Intent::parse(&name));
            intent.map(|intent| Ok((Email::parse(&email?).map_err(anyhow::Error::msg)?, intent)))
        })
        .collect()
}

/// Records what `intern` said (the latest word counts).
pub async fn set_intent(
    tx: &mut Transaction<'static, Any>,
    intern: &Email,
    intent: Intent,
    at: i64,
    message_ref: Option<i64>,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO amphi_intents (email, intent, at, message_ref) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (email) DO UPDATE SET intent = excluded.intent, at = excluded.at, message_ref = excluded.message_ref",
    )
    .bind(intern.as_str())
    .bind(intent.name())
    .bind(at)
    .bind(message_ref)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Forgets what `intern` said (they sent a list after `ABSENT`: they choose).
pub async fn clear_intent(tx: &mut Transaction<'static, Any>, intern: &Email) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM amphi_intents WHERE email = $1")
        .bind(intern.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The (intern, round) told their turn is near.
pub async fn warned(conn: &mut AnyConnection) -> anyhow::Result<HashSet<(String, i64)>> {
    let rows = sqlx::query("SELECT email, round FROM amphi_warned").fetch_all(conn).await?;
    rows.iter().map(|row| Ok((row.try_get::<String, _>(0)?, row.try_get::<i64, _>(1)?))).collect()
}

/// Records that `intern` was told their turn `round` is near.
pub async fn set_warned(
    tx: &mut Transaction<'static, Any>,
    intern: &Email,
    round: i64,
    at: i64,
) -> anyhow::Result<()> {
    sqlx::query("INSERT INTO amphi_warned (email, round, at) VALUES ($1, $2, $3) ON CONFLICT (email, round) DO NOTHING")
        .bind(intern.as_str())
        .bind(round)
        .bind(at)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Since when the amphi is paused (ms), if it is.
pub async fn paused_since(conn: &mut AnyConnection) -> anyhow::Result<Option<i64>> {
    let value: Option<String> = sqlx::query_scalar("SELECT value FROM session_state WHERE key = $1")
        .bind(PAUSED_AT)
        .fetch_optional(conn)
        .await?;
    Ok(value.and_then(|text| text.parse().ok()))
}

/// Ends the pause.
pub async fn unpause(tx: &mut Transaction<'static, Any>) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM session_state WHERE key = $1").bind(PAUSED_AT).execute(&mut **tx).await?;
    Ok(())
}
