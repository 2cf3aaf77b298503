//! The rows one batch of replies writes, gathered while the batch is
//! decided and written in a few multi-row statements just before it
//! commits.
//!
//! Why: sqlx runs each SQLite connection on a thread of its own, so every
//! statement is two thread wake-ups, and on a small virtual machine a
//! wake-up costs more than SQLite's work for a row. Recorded one statement
//! at a time, a confirmed reply was four statements (the message, the
//! wishes, their history, the notice), and their hand-offs were over a
//! third of the deciding's CPU (issue 17). Gathered, a batch of 400 replies is a
//! few dozen statements.
//!
//! What it changes, and why it is safe:
//! - **Message ids are reserved up front** ([`BatchRows::reserve`]): the
//!   wishes, the amphi's turns and the answers refer to their message
//!   before it is written. On SQLite, under the write lock the batch holds
//!   (`BEGIN IMMEDIATE`), the ids after the highest one, which are those
//!   SQLite would have given; on PostgreSQL, the sequence's next values.
//!   No constraint refers to `messages`, so the order of the rows within
//!   the transaction does not matter to the database.
//! - **The batch's own reads do not see these rows before the flush.**
//!   What the deciding needs of them it keeps in memory
//!   (`SessionData`, the batch's state); the rest of the batch's
//!   statements touch other tables. A statement that writes one of these
//!   tables directly (a command's `NOTIFS`) must come after
//!   [`BatchRows::flush`], which keeps the writes in the order of the
//!   replies.
//! - **Several writes to one row collapse to their result**: the last
//!   wishes of an intern who wrote twice in the batch (every version stays
//!   in the history), and the notice an intern is left with (see
//!   [`BatchRows::flush`]).

use std::collections::{HashMap, HashSet};

use anyhow::Context;
use sqlx::{Any, Row, Transaction};

use super::{session, Backend, Incoming};
use crate::domain::{ArsId, Email};

/// How many parameters one statement carries at most. sqlx asks SQLite
/// for each parameter's name, which SQLite finds by a linear search, so
/// binding costs the square of a statement's parameters (see
/// `outbox::ROWS_PER_INSERT`); around a hundred it is still negligible.
const PARAMETERS_PER_STATEMENT: usize = 120;

/// The rows of one batch, not written yet.
#[derive(Debug, Default)]
pub struct BatchRows {
    /// Message ids reserved and not handed out yet, in order.
    ids: std::collections::VecDeque<i64>,
    /// The messages, in the order they were recorded.
    messages: Vec<MessageRow>,
    /// Every change of wishes, in order (all go to the history; the last
    /// of each intern to `wishes`).
    wishes: Vec<WishesRow>,
    /// Every change to a notice, in order.
    notices: Vec<(Email, NoticeChange)>,
}

/// An owned [`Incoming`], with its reserved id; each field is the
/// `Incoming` field of the same name (`recorded_at` goes to the column
/// `received_at`, as in `store::record_message`).
#[derive(Debug)]
struct MessageRow {
    id: i64,
    folder: String,
    uidvalidity: i64,
    uid: i64,
    message_id: Option<String>,
    content_hash: String,
    raw: Vec<u8>,
    recorded_at: i64,
    sender: Option<String>,
    kind: String,
    intern_email: Option<String>,
    verdict: String,
    reasons: String,
    internal_date: Option<i64>,
}

/// A change of an intern's wishes.
#[derive(Debug)]
struct WishesRow {
    email: Email,
    /// As stored: the ARS numbers separated by spaces.
    ars_ids: String,
    source: &'static str,
    message_ref: Option<i64>,
    at_ms: i64,
}

/// What a reply does to another intern's notice (`store::notices`).
#[derive(Debug, Clone)]
enum NoticeChange {
    /// `notices::forget`: the pending notice is dropped.
    Forget,
    /// The intern lost `lost`, their provisional post, at `since_ms`. A
    /// notice already pending keeps the post it was first about: the one
    /// the intern last knew they had.
    Displaced { lost: ArsId, since_ms: i64 },
}

impl BatchRows {
    /// Reserves `count` message ids, in the caller's write transaction
    /// (see the module comment).
    pub async fn reserve(
        tx: &mut Transaction<'static, Any>,
        backend: Backend,
        count: usize,
    ) -> anyhow::Result<Self> {
        let ids = match (backend, count) {
            (_, 0) => Default::default(),
            (Backend::Sqlite, _) => {
                let row =
                    sqlx::query("SELECT COALESCE(MAX(id), 0) FROM messages").fetch_one(&mut **tx).await?;
                let highest: i64 = row.try_get(0)?;
                (1..=count as i64).map(|n| highest + n).collect()
            }
            (Backend::Postgres, _) => sqlx::query(
                "SELECT nextval(pg_get_serial_sequence('messages', 'id')) FROM generate_series(1, $1)",
            )
            .bind(count as i64)
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(|row| row.try_get::<i64, _>(0))
            .collect::<Result<_, _>>()?,
        };
        Ok(Self { ids, ..Default::default() })
    }

    /// Records a message; returns its id.
    pub fn record_message(&mut self, message: &Incoming<'_>) -> anyhow::Result<i64> {
        let id = self.ids.pop_front().context("more messages recorded than ids reserved")?;
        self.messages.push(MessageRow {
            id,
            folder: message.folder.to_string(),
            uidvalidity: message.uidvalidity,
            uid: message.uid,
            message_id: message.message_id.map(str::to_string),
            content_hash: message.content_hash.to_string(),
            raw: message.raw.to_vec(),
            recorded_at: message.recorded_at,
            sender: message.sender.map(str::to_string),
            kind: message.kind.to_string(),
            intern_email: message.intern_email.map(str::to_string),
            verdict: message.verdict.to_string(),
            reasons: message.reasons.to_string(),
            internal_date: message.internal_date,
        });
        Ok(id)
    }

    /// `store::set_wishes` for a reply (`SOURCE_EMAIL`): the intern's
    /// wishes, and a line of their history.
    pub fn set_wishes(&mut self, email: &Email, wishes: &[ArsId], message_ref: i64, at_ms: i64) {
        self.wishes.push(WishesRow {
            email: email.clone(),
            ars_ids: session::encode_wishes(wishes),
            source: session::SOURCE_EMAIL,
            message_ref: Some(message_ref),
            at_ms,
        });
    }

    /// `notices::forget`: drops the notice pending for `intern`.
    pub fn forget_notice(&mut self, intern: &Email) {
        self.notices.push((intern.clone(), NoticeChange::Forget));
    }

    /// Records that `intern` lost `lost`, their provisional post (see
    /// [`NoticeChange::Displaced`]).
    pub fn displaced(&mut self, intern: &Email, lost: &ArsId, since_ms: i64) {
        self.notices.push((intern.clone(), NoticeChange::Displaced { lost: lost.clone(), since_ms }));
    }

    /// Writes what was gathered, and empties it (the reserved ids left
    /// stay reserved).
    ///
    /// The notices: applied one by one, a `Forget` clears the pending
    /// notice and a `Displaced` sets it unless one is pending. So an
    /// intern ends with the first loss after their last `Forget` (their
    /// row cleared first), or, without a `Forget`, with the pending notice
    /// they had or else their first loss: one `UPDATE` for those cleared,
    /// then one upsert for the losses, give that same result.
    pub async fn flush(&mut self, tx: &mut Transaction<'static, Any>) -> anyhow::Result<()> {
        let messages = std::mem::take(&mut self.messages);
        for chunk in messages.chunks(rows_per_statement(14)) {
            insert_messages(tx, chunk).await.context("cannot record the messages")?;
        }
        let wishes = std::mem::take(&mut self.wishes);
        for chunk in wishes.chunks(rows_per_statement(5)) {
            insert_history(tx, chunk).await.context("cannot record the wishes' history")?;
        }
        // The last wishes of each intern: one row may not be upserted twice
        // in one statement on PostgreSQL.
        let mut seen = HashSet::new();
        let mut latest: Vec<&WishesRow> = wishes.iter().rev().filter(|row| seen.insert(&row.email)).collect();
        latest.reverse();
        for chunk in latest.chunks(rows_per_statement(5)) {
            upsert_wishes(tx, chunk).await.context("cannot store the wishes")?;
        }
        let notices = std::mem::take(&mut self.notices);
        let (cleared, losses) = collapse(&notices);
        for chunk in cleared.chunks(PARAMETERS_PER_STATEMENT) {
            forget_notices(tx, chunk).await.context("cannot drop the notices answered")?;
        }
        for chunk in losses.chunks(rows_per_statement(3)) {
            record_losses(tx, chunk).await.context("cannot record the displacements")?;
        }
        Ok(())
    }
}

/// How many rows of `columns` parameters a statement carries.
fn rows_per_statement(columns: usize) -> usize {
    (PARAMETERS_PER_STATEMENT / columns).max(1)
}

/// `($1, $2), ($3, $4)` for `rows` rows of `columns` parameters.
fn values(rows: usize, columns: usize) -> String {
    let row = |r: usize| {
        let parameters: Vec<String> = (1..=columns).map(|c| format!("${}", r * columns + c)).collect();
        format!("({})", parameters.join(", "))
    };
    (0..rows).map(row).collect::<Vec<_>>().join(", ")
}

/// A loss of a provisional post, as recorded in `notices`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Loss<'a> {
    intern: &'a Email,
    lost: &'a ArsId,
    since_ms: i64,
}

/// The notice changes, reduced to who is cleared and then who is
/// recorded as displaced (see [`BatchRows::flush`]), each intern once, in
/// the order they first appear.
fn collapse(changes: &[(Email, NoticeChange)]) -> (Vec<&Email>, Vec<Loss<'_>>) {
    let mut order: Vec<&Email> = Vec::new();
    // Per intern: whether cleared, and the first loss since the last clear.
    let mut state: HashMap<&Email, (bool, Option<Loss<'_>>)> = HashMap::new();
    for (intern, change) in changes {
        let entry = state.entry(intern).or_insert_with(|| {
            order.push(intern);
            (false, None)
        });
        match change {
            NoticeChange::Forget => *entry = (true, None),
            NoticeChange::Displaced { lost, since_ms } => {
                entry.1.get_or_insert(Loss { intern, lost, since_ms: *since_ms });
            }
        }
    }
    let cleared = order.iter().copied().filter(|intern| state[intern].0).collect();
    let losses = order.iter().filter_map(|intern| state[intern].1).collect();
    (cleared, losses)
}

async fn insert_messages(tx: &mut Transaction<'static, Any>, rows: &[MessageRow]) -> anyhow::Result<()> {
    let sql = format!(
        "INSERT INTO messages (id, folder, uidvalidity, uid, message_id, content_hash, raw, received_at, sender, \
         kind, intern_email, verdict, reasons, internal_date) VALUES {}",
        values(rows.len(), 14)
    );
    let mut query = sqlx::query(&sql);
    for row in rows {
        query = query
            .bind(row.id)
            .bind(row.folder.as_str())
            .bind(row.uidvalidity)
            .bind(row.uid)
            .bind(row.message_id.as_deref())
            .bind(row.content_hash.as_str())
            .bind(row.raw.as_slice())
            .bind(row.recorded_at)
            .bind(row.sender.as_deref())
            .bind(row.kind.as_str())
            .bind(row.intern_email.as_deref())
            .bind(row.verdict.as_str())
            .bind(row.reasons.as_str())
            .bind(row.internal_date);
    }
    query.execute(&mut **tx).await?;
    Ok(())
}

async fn insert_history(tx: &mut Transaction<'static, Any>, rows: &[WishesRow]) -> anyhow::Result<()> {
    let sql = format!(
        "INSERT INTO wish_history (email, ars_ids, source, message_ref, recorded_at) VALUES {}",
        values(rows.len(), 5)
    );
    bind_wishes(sqlx::query(&sql), rows.iter()).execute(&mut **tx).await?;
    Ok(())
}

async fn upsert_wishes(tx: &mut Transaction<'static, Any>, rows: &[&WishesRow]) -> anyhow::Result<()> {
    let sql = format!(
        "INSERT INTO wishes (email, ars_ids, source, message_ref, updated_at) VALUES {} \
         ON CONFLICT (email) DO UPDATE SET ars_ids = excluded.ars_ids, source = excluded.source, \
         message_ref = excluded.message_ref, updated_at = excluded.updated_at",
        values(rows.len(), 5)
    );
    bind_wishes(sqlx::query(&sql), rows.iter().copied()).execute(&mut **tx).await?;
    Ok(())
}

type AnyQuery<'q> = sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>;

fn bind_wishes<'q>(mut query: AnyQuery<'q>, rows: impl Iterator<Item = &'q WishesRow>) -> AnyQuery<'q> {
    for row in rows {
        query = query
            .bind(row.email.as_str())
            .bind(row.ars_ids.as_str())
            .bind(row.source)
            .bind(row.message_ref)
            .bind(row.at_ms);
    }
    query
}

async fn forget_notices(tx: &mut Transaction<'static, Any>, interns: &[&Email]) -> anyhow::Result<()> {
    let parameters: Vec<String> = (1..=interns.len()).map(|n| format!("${n}")).collect();
    let sql = format!(
        "UPDATE notices SET lost_ars_id = NULL, pending_since = NULL WHERE email IN ({})",
        parameters.join(", ")
    );
    let mut query = sqlx::query(&sql);
    for intern in interns {
        query = query.bind(intern.as_str());
    }
    query.execute(&mut **tx).await?;
    Ok(())
}

/// [`NoticeChange::Displaced`] for many interns.
async fn record_losses(tx: &mut Transaction<'static, Any>, losses: &[Loss<'_>]) -> anyhow::Result<()> {
    let sql = format!(
        "INSERT INTO notices (email, lost_ars_id, pending_since) VALUES {} \
         ON CONFLICT (email) DO UPDATE SET lost_ars_id = COALESCE(notices.lost_ars_id, excluded.lost_ars_id), \
         pending_since = COALESCE(notices.pending_since, excluded.pending_since)",
        values(losses.len(), 3)
    );
    let mut query = sqlx::query(&sql);
    for loss in losses {
        query = query.bind(loss.intern.as_str()).bind(loss.lost.as_str()).bind(loss.since_ms);
    }
    query.execute(&mut **tx).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(name: &str) -> Email {
        Email::parse(&format!("{name}@exemple.fr")).unwrap()
    }

    fn ars(id: &str) -> ArsId {
        ArsId::parse(id).unwrap()
    }

    #[test]
    fn values_numbers_the_parameters_row_after_row() {
        assert_eq!(values(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(values(1, 1), "($1)");
    }

    #[test]
    fn a_notice_keeps_the_first_loss_after_the_last_clear() {
        let (a, b, c) = (email("a"), email("b"), email("c"));
        let changes = vec![
            (a.clone(), NoticeChange::Displaced { lost: ars("1"), since_ms: 1 }),
            (b.clone(), NoticeChange::Forget),
            (a.clone(), NoticeChange::Forget),
            (a.clone(), NoticeChange::Displaced { lost: ars("2"), since_ms: 2 }),
            (a.clone(), NoticeChange::Displaced { lost: ars("3"), since_ms: 3 }),
            (c.clone(), NoticeChange::Displaced { lost: ars("4"), since_ms: 4 }),
            (c.clone(), NoticeChange::Displaced { lost: ars("5"), since_ms: 5 }),
        ];
        let (cleared, losses) = collapse(&changes);
        assert_eq!(cleared, vec![&a, &b]);
        let losses: Vec<(&str, &str, i64)> =
            losses.iter().map(|loss| (loss.intern.as_str(), loss.lost.as_str(), loss.since_ms)).collect();
        assert_eq!(losses, vec![("a@exemple.fr", "2", 2), ("c@exemple.fr", "4", 4)]);
    }

    #[test]
    fn a_loss_followed_by_a_clear_leaves_nothing_pending() {
        let a = email("a");
        let changes = vec![
            (a.clone(), NoticeChange::Displaced { lost: ars("1"), since_ms: 1 }),
            (a.clone(), NoticeChange::Forget),
        ];
        let (cleared, losses) = collapse(&changes);
        assert_eq!(cleared, vec![&a]);
        assert!(losses.is_empty());
    }
}
