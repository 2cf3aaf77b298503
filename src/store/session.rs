//! The set-up of a session in the database: posts, the call list with each
//! intern's token, and the current wishes with their history.

use std::collections::HashMap;

use anyhow::Context;
use sqlx::{Any, Row, Transaction};

use super::Store;
use crate::domain::{ArsId, ChoiceType, Email, Group, Intern, Post, PreChoice, Rank, Token};

/// What an import replaced, for the message the referent reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replaced {
    /// Rows there were before.
    pub previous: u64,
    /// Rows there are now.
    pub now: u64,
}

/// An intern with the personal reference of their invitation.
#[derive(Debug, Clone)]
pub struct StoredIntern {
    /// The intern as imported.
    pub intern: Intern,
    /// Their token (created at import, kept across re-imports).
    pub token: Token,
}

/// Where a list of wishes came from.
pub const SOURCE_IMPORT: &str = "import";
pub const SOURCE_EMAIL: &str = "email";

impl Store {
    async fn count(&self, table: &str) -> anyhow::Result<u64> {
        let row = sqlx::query(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(self.pool()).await?;
        Ok(row.try_get::<i64, _>(0)? as u64)
    }

    /// Replaces every post with `posts`, in one transaction.
    pub async fn replace_posts(&self, posts: &[Post]) -> anyhow::Result<Replaced> {
        let previous = self.count("posts").await?;
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM posts").execute(&mut *tx).await?;
        for (position, post) in posts.iter().enumerate() {
            sqlx::query(
                "INSERT INTO posts (ars_id, grp, places, hospital, service, city, position) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(post.ars_id.as_str())
            .bind(post.group.as_str())
            .bind(i64::from(post.places))
            .bind(&post.hospital)
            .bind(&post.service)
            .bind(&post.city)
            .bind(position as i64)
            .execute(&mut *tx)
            .await
            .with_context(|| format!("cannot store post {} ({})", post.ars_id, post.group))?;
        }
        bump_revision(&mut tx).await?;
        self.commit(tx).await?;
        Ok(Replaced { previous, now: posts.len() as u64 })
    }

    /// Every post, in import order.
    pub async fn posts(&self) -> anyhow::Result<Vec<Post>> {
        let rows = sqlx::query(
            "SELECT ars_id, grp, places, hospital, service, city FROM posts ORDER BY position, ars_id, grp",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Post {
                    ars_id: ArsId::parse(&row.try_get::<String, _>(0)?).map_err(anyhow::Error::msg)?,
                    group: Group::parse(&row.try_get::<String, _>(1)?).map_err(anyhow::Error::msg)?,
                    places: row.try_get::<i64, _>(2)? as u32,
                    hospital: row.try_get(3)?,
                    service: row.try_get(4)?,
                    city: row.try_get(5)?,
                })
            })
            .collect()
    }

    /// Replaces the call list with `interns`, in one transaction. Tokens are
    /// kept for interns already known by their email and created for the
    /// others, so invitations already sent stay valid.
    pub async fn replace_interns(&self, interns: &[Intern]) -> anyhow::Result<Replaced> {
        let previous = self.count("interns").await?;
        let known_tokens = self.tokens_by_email().await?;
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM interns").execute(&mut *tx).await?;
        for intern in interns {
            sqlx::query(
                "INSERT INTO interns (email, grp, rank, last_name, first_name, choice_type, proxy_email) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(intern.email.as_str())
            .bind(intern.group.as_str())
            .bind(i64::from(intern.rank.get()))
            .bind(&intern.last_name)
            .bind(&intern.first_name)
            .bind(intern.choice_type.as_str())
            .bind(intern.proxy_email.as_ref().map(|e| e.as_str().to_string()))
            .execute(&mut *tx)
            .await
            .with_context(|| format!("cannot store intern {}", intern.email))?;
            if !known_tokens.contains_key(&intern.email) {
                sqlx::query("INSERT INTO tokens (email, token, created_at) VALUES ($1, $2, $3)")
                    .bind(intern.email.as_str())
                    .bind(Token::generate().as_str())
                    .bind(self.now_ms())
                    .execute(&mut *tx)
                    .await?;
            }
        }
        bump_revision(&mut tx).await?;
        self.commit(tx).await?;
        Ok(Replaced { previous, now: interns.len() as u64 })
    }

    async fn tokens_by_email(&self) -> anyhow::Result<HashMap<Email, Token>> {
        let rows = sqlx::query("SELECT email, token FROM tokens").fetch_all(self.pool()).await?;
        rows.iter()
            .map(|row| {
                let email = Email::parse(&row.try_get::<String, _>(0)?).map_err(anyhow::Error::msg)?;
                let token = Token::parse(&row.try_get::<String, _>(1)?).map_err(anyhow::Error::msg)?;
                Ok((email, token))
            })
            .collect()
    }

    /// The call list with tokens, by group then rank. Each intern's proxy
    /// is the one in force: the call list's, unless the intern designated
    /// or revoked one by email since (`store::proxies`).
    pub async fn interns(&self) -> anyhow::Result<Vec<StoredIntern>> {
        let rows = sqlx::query(
            "SELECT i.email, i.grp, i.rank, i.last_name, i.first_name, i.choice_type, \
             CASE WHEN p.overridden = 1 THEN p.active ELSE i.proxy_email END, t.token \
             FROM interns i JOIN tokens t ON t.email = i.email LEFT JOIN proxies p ON p.email = i.email \
             ORDER BY i.grp, i.rank",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(stored_intern).collect()
    }

    /// The tokens of addresses no longer on the call list: issued with an
    /// invitation, then retired when a re-import removed the intern or
    /// changed their address. They come back to life if the address is
    /// imported again (tokens are kept by address).
    pub async fn retired_tokens(&self) -> anyhow::Result<Vec<Token>> {
        let rows = sqlx::query("SELECT token FROM tokens WHERE email NOT IN (SELECT email FROM interns)")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| Token::parse(&row.try_get::<String, _>(0)?).map_err(anyhow::Error::msg))
            .collect()
    }

    /// The revision of the session's set-up: it changes with every import
    /// of posts, interns or pre-choices, so that a running daemon knows
    /// when to read the session again.
    pub async fn revision(&self) -> anyhow::Result<Option<String>> {
        revision(self.pool()).await
    }

    /// The interns alone, without tokens.
    pub async fn intern_list(&self) -> anyhow::Result<Vec<Intern>> {
        Ok(self.interns().await?.into_iter().map(|stored| stored.intern).collect())
    }

    /// Replaces the imported pre-choices. Wishes an intern already sent by
    /// email are newer than any file and are kept: those interns are
    /// returned so the referent is told.
    pub async fn replace_prechoices(&self, choices: &[PreChoice]) -> anyhow::Result<(Replaced, Vec<Email>)> {
        let previous = sqlx::query("SELECT COUNT(*) FROM wishes WHERE source = $1")
            .bind(SOURCE_IMPORT)
            .fetch_one(self.pool())
            .await?
            .try_get::<i64, _>(0)? as u64;
        let by_email: Vec<String> = sqlx::query("SELECT email FROM wishes WHERE source = $1")
            .bind(SOURCE_EMAIL)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|row| row.try_get::<String, _>(0))
            .collect::<Result<_, _>>()?;
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM wishes WHERE source = $1").bind(SOURCE_IMPORT).execute(&mut *tx).await?;
        let mut kept = Vec::new();
        let mut stored = 0;
        for choice in choices {
            if by_email.iter().any(|email| email == choice.email.as_str()) {
                kept.push(choice.email.clone());
                continue;
            }
            set_wishes(&mut tx, &choice.email, &choice.wishes, SOURCE_IMPORT, None, self.now_ms()).await?;
            stored += 1;
        }
        bump_revision(&mut tx).await?;
        self.commit(tx).await?;
        Ok((Replaced { previous, now: stored }, kept))
    }

    /// The current wishes of every intern who has some.
    pub async fn wishes(&self) -> anyhow::Result<HashMap<Email, Vec<ArsId>>> {
        let rows = sqlx::query("SELECT email, ars_ids FROM wishes").fetch_all(self.pool()).await?;
        rows.iter()
            .map(|row| {
                let email = Email::parse(&row.try_get::<String, _>(0)?).map_err(anyhow::Error::msg)?;
                Ok((email, decode_wishes(&row.try_get::<String, _>(1)?)?))
            })
            .collect()
    }

    /// A value of the session's small key-value state.
    pub async fn state(&self, key: &str) -> anyhow::Result<Option<String>> {
        let row = sqlx::query("SELECT value FROM session_state WHERE key = $1")
            .bind(key)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|row| row.try_get(0)).transpose()?)
    }
}

/// The session-state key marking the imports (see [`Store::revision`]).
const REVISION: &str = "revision";

/// The current revision (`None` before any import), read through
/// `executor`: the pool, or a transaction that must see a consistent
/// session.
pub async fn revision<'e>(
    executor: impl sqlx::Executor<'e, Database = Any>,
) -> anyhow::Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT value FROM session_state WHERE key = $1")
        .bind(REVISION)
        .fetch_optional(executor)
        .await?)
}

/// Marks an import inside its transaction with a value never used before
/// (the instant and a random number), not a counter: two imports racing
/// on PostgreSQL could both read the same counter and write the same next
/// value, and a daemon that loaded between them would miss the second.
async fn bump_revision(tx: &mut Transaction<'static, Any>) -> anyhow::Result<()> {
    // Only ever compared for equality: the wall clock is as good as any.
    let value = format!("{}-{:016x}", chrono::Utc::now().timestamp_millis(), rand::random::<u64>());
    set_state(tx, REVISION, &value).await
}

/// Sets an intern's current wishes and records them in the history, inside
/// the caller's transaction.
pub async fn set_wishes(
    tx: &mut Transaction<'static, Any>,
    email: &Email,
    wishes: &[ArsId],
    source: &str,
    message_ref: Option<i64>,
    now_ms: i64,
) -> anyhow::Result<()> {
    let encoded = encode_wishes(wishes);
    let now = now_ms;
    sqlx::query(
        "INSERT INTO wishes (email, ars_ids, source, message_ref, updated_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (email) DO UPDATE SET ars_ids = excluded.ars_ids, source = excluded.source, \
         message_ref = excluded.message_ref, updated_at = excluded.updated_at",
    )
    .bind(email.as_str())
    .bind(&encoded)
    .bind(source)
    .bind(message_ref)
    .bind(now)
    .execute(&mut **tx)
    .await
    .with_context(|| format!("cannot store the wishes of {email}"))?;
    sqlx::query(
        "INSERT INTO wish_history (email, ars_ids, source, message_ref, recorded_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(email.as_str())
    .bind(&encoded)
    .bind(source)
    .bind(message_ref)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Sets a value of the session state inside the caller's transaction.
pub async fn set_state(tx: &mut Transaction<'static, Any>, key: &str, value: &str) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO session_state (key, value) VALUES ($1, $2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(key)
    .bind(value)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Wishes are stored as ARS numbers separated by single spaces (an ARS
/// number never holds a space).
pub(super) fn encode_wishes(wishes: &[ArsId]) -> String {
    wishes.iter().map(ArsId::as_str).collect::<Vec<_>>().join(" ")
}

fn decode_wishes(text: &str) -> anyhow::Result<Vec<ArsId>> {
    text.split_whitespace().map(|id| ArsId::parse(id).map_err(anyhow::Error::msg)).collect()
}

fn stored_intern(row: &sqlx::any::AnyRow) -> anyhow::Result<StoredIntern> {
    let text = |index: usize| row.try_get::<String, _>(index);
    let intern = Intern {
        email: Email::parse(&text(0)?).map_err(anyhow::Error::msg)?,
        group: Group::parse(&text(1)?).map_err(anyhow::Error::msg)?,
        rank: Rank::new(row.try_get::<i64, _>(2)? as u32).map_err(anyhow::Error::msg)?,
        last_name: text(3)?,
        first_name: text(4)?,
        choice_type: ChoiceType::parse(&text(5)?).map_err(anyhow::Error::msg)?,
        proxy_email: row
            .try_get::<Option<String>, _>(6)?
            .map(|email| Email::parse(&email))
            .transpose()
            .map_err(anyhow::Error::msg)?,
    };
    let token = Token::parse(&text(7)?).map_err(anyhow::Error::msg)?;
    Ok(StoredIntern { intern, token })
}
