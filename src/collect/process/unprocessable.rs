//! The last resort of a batch that failed: its messages one at a time, and
//! a message that fails on its own recorded as `unprocessable` instead of
//! holding up every later reply.
//!
//! Nothing known makes a message fail (the parser never panics, every text
//! is bounded), but "the daemon never stops because of one message" must
//! not rest on that: without this, the daemon would fetch the same batch
//! and fail again, forever, and no later reply would be answered.

use anyhow::Context as _;
use tracing::error;

use super::{kind_name, Processed, Processor};
use crate::mailbox::Fetched;
use crate::reply;
use crate::store::{self, Incoming};

/// The verdict of a message that failed to be processed twice on its own
/// (`status` counts them under this name).
const UNPROCESSABLE: &str = "unprocessable";

impl Processor {
    /// Each message in its own transaction, tried twice (a passing hiccup
    /// of the database is not the message's fault). A message that still
    /// fails is recorded as `unprocessable`, raw bytes and error kept for
    /// the audit, with no answer; the referent sees it in `status`.
    ///
    /// If even that record fails, the error goes up: then the database
    /// itself is in trouble, and the daemon reconnects and tries later, as
    /// for any outage. So a database that is down never gets messages
    /// marked unprocessable, except in the unlucky instant it comes back
    /// between the second attempt and the record.
    pub(super) async fn one_at_a_time(
        &mut self,
        folder: &str,
        uidvalidity: i64,
        fetched: &[Fetched],
    ) -> anyhow::Result<Vec<Processed>> {
        let mut results = Vec::new();
        for message in fetched {
            let one = std::slice::from_ref(message);
            let mut outcome = self.attempt(folder, uidvalidity, one).await;
            if outcome.is_err() {
                outcome = self.attempt(folder, uidvalidity, one).await;
            }
            match outcome {
                Ok(processed) => results.extend(processed),
                Err(error) if store::lease::is_lease_error(&error) => return Err(error),
                Err(error) => {
                    error!(uid = message.uid, error = %format!("{error:#}"), "a message could not be processed: recorded as unprocessable");
                    self.record_unprocessable(folder, uidvalidity, message, &error).await?;
                }
            }
        }
        Ok(results)
    }

    /// Records `message` as `unprocessable` and advances the position past it.
    async fn record_unprocessable(
        &self,
        folder: &str,
        uidvalidity: i64,
        message: &Fetched,
        error: &anyhow::Error,
    ) -> anyhow::Result<()> {
        let parsed = reply::parse(&message.raw, &self.session.known);
        let reasons = serde_json::json!({ "error": format!("{error:#}") }).to_string();
        let incoming = Incoming {
            folder,
            uidvalidity,
            uid: i64::from(message.uid),
            message_id: None,
            content_hash: &reply::content_hash(&message.raw),
            raw: &message.raw,
            sender: parsed.sender.as_ref().map(|s| s.as_str()),
            kind: kind_name(parsed.kind),
            intern_email: None,
            verdict: UNPROCESSABLE,
            reasons: &reasons,
            internal_date: message.received.map(|at| at.timestamp_millis()),
            recorded_at: self.store.now_ms(),
        };
        let mut tx = self.store.begin_write().await?;
        store::record_message(&mut tx, &incoming).await?;
        self.advance(&mut tx, folder, uidvalidity, incoming.uid).await?;
        self.store.commit(tx).await.context("cannot record an unprocessable message")
    }
}
