//! Proxies designated by email (SPEC §11, `PROCURATION`): the request
//! waiting for the proxy's `ACCEPTE`, and the proxy in force once the
//! intern's own word replaces the call list's (`Store::interns` reads the
//! one in force).

use anyhow::Context as _;
use sqlx::{Any, Row, Transaction};

use super::Store;
use crate::domain::{Email, Token};

/// A proxy designated by an intern who has not accepted yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingProxy {
    /// The intern who designated them.
    pub intern: Email,
    /// The designated address.
    pub proxy: Email,
    /// The token of the request sent to that address: their `ACCEPTE`
    /// carries it.
    pub token: Token,
    /// When the intern asked (ms since the epoch).
    pub requested_at: i64,
}

/// An intern's proxy as changed by email, for `status` and `audit`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProxyChange {
    /// The intern.
    pub intern: String,
    /// The proxy in force by email (none: revoked, or never accepted).
    pub active: Option<String>,
    /// When it was accepted (ms since the epoch).
    pub accepted_at: Option<i64>,
    /// A designated address that has not accepted yet.
    pub pending: Option<String>,
    /// When it was designated (ms since the epoch).
    pub requested_at: Option<i64>,
    /// Whether the intern's word replaces the call list's proxy (after an
    /// acceptance or a revocation).
    pub overridden: bool,
}

impl Store {
    /// Every request waiting for its proxy's acceptance.
    pub async fn pending_proxies(&self) -> anyhow::Result<Vec<PendingProxy>> {
        let rows = sqlx::query(
            "SELECT email, pending, pending_token, requested_at FROM proxies \
             WHERE pending IS NOT NULL ORDER BY email",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let email = |index: usize| -> anyhow::Result<Email> {
                    Email::parse(&row.try_get::<String, _>(index)?).map_err(anyhow::Error::msg)
                };
                Ok(PendingProxy {
                    intern: email(0)?,
                    proxy: email(1)?,
                    token: Token::parse(&row.try_get::<String, _>(2)?).map_err(anyhow::Error::msg)?,
                    requested_at: row.try_get::<Option<i64>, _>(3)?.unwrap_or_default(),
                })
            })
            .collect()
    }

    /// Every proxy changed by email, by intern.
    pub async fn proxy_changes(&self) -> anyhow::Result<Vec<ProxyChange>> {
        let rows = sqlx::query(
            "SELECT email, active, accepted_at, pending, requested_at, overridden FROM proxies ORDER BY email",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ProxyChange {
                    intern: row.try_get(0)?,
                    active: row.try_get(1)?,
                    accepted_at: row.try_get(2)?,
                    pending: row.try_get(3)?,
                    requested_at: row.try_get(4)?,
                    overridden: row.try_get::<i64, _>(5)? == 1,
                })
            })
            .collect()
    }
}

/// Records that `intern` designated `proxy`, whose request carries `token`.
/// A former request of the same intern is replaced; the proxy in force, if
/// any, stays until the new one accepts.
pub async fn request(
    tx: &mut Transaction<'static, Any>,
    intern: &Email,
    proxy: &Email,
    token: &Token,
    now_ms: i64,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO proxies (email, pending, pending_token, requested_at, changed_at) VALUES ($1, $2, $3, $4, $4) \
         ON CONFLICT (email) DO UPDATE SET pending = excluded.pending, pending_token = excluded.pending_token, \
         requested_at = excluded.requested_at, changed_at = excluded.changed_at",
    )
    .bind(intern.as_str())
    .bind(proxy.as_str())
    .bind(token.as_str())
    .bind(now_ms)
    .execute(&mut **tx)
    .await
    .with_context(|| format!("cannot record the proxy requested by {intern}"))?;
    Ok(())
}

/// Records that `proxy` accepted: from now on they choose for `intern`.
pub async fn accept(
    tx: &mut Transaction<'static, Any>,
    intern: &Email,
    proxy: &Email,
    now_ms: i64,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE proxies SET overridden = 1, active = $2, accepted_at = $3, pending = NULL, \
         pending_token = NULL, changed_at = $3 WHERE email = $1",
    )
    .bind(intern.as_str())
    .bind(proxy.as_str())
    .bind(now_ms)
    .execute(&mut **tx)
    .await
    .with_context(|| format!("cannot record the acceptance of {proxy} for {intern}"))?;
    Ok(())
}

/// Records that `intern` revoked their proxy (and any request waiting).
pub async fn revoke(tx: &mut Transaction<'static, Any>, intern: &Email, now_ms: i64) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO proxies (email, overridden, changed_at) VALUES ($1, 1, $2) \
         ON CONFLICT (email) DO UPDATE SET overridden = 1, active = NULL, accepted_at = NULL, pending = NULL, \
         pending_token = NULL, requested_at = NULL, changed_at = excluded.changed_at",
    )
    .bind(intern.as_str())
    .bind(now_ms)
    .execute(&mut **tx)
    .await
    .with_context(|| format!("cannot record that {intern} revoked their proxy"))?;
    Ok(())
}
