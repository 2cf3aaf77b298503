//! Waiting for the next change in the selected folder: IDLE when the server
//! offers it, else a sleep of `poll_seconds` followed by a NOOP.
//!
//! Two traps of async-imap 0.10 (read in its source) shape this code:
//! - `Handle::wait_with_timeout` restarts its timer on every server line,
//!   and Dovecot sends `* OK Still here` every two minutes, so its timeout
//!   would never fire; the IDLE is bounded here by an absolute
//!   `tokio::time::timeout` instead, which is what keeps it under the
//!   29 minutes after which RFC 2177 lets a server drop an idle client.
//! - When the connection closes, the wait reports `ManualInterrupt`, the
//!   same as a deliberate stop; since we never stop it by hand, here it
//!   means the connection was lost. The `StopSource` is kept alive for the
//!   whole wait: dropping it would end the wait at once.

use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use async_imap::extensions::idle::IdleResponse;

use super::connect::within;
use super::Mailbox;

/// The longest single IDLE: below the 29 minutes of RFC 2177.
const LONGEST_IDLE: Duration = Duration::from_secs(28 * 60);

/// Why [`Mailbox::wait_for_change`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// The server announced a change (a new message, most likely).
    Changed,
    /// The time was up with no announcement (IDLE), or the polling interval
    /// passed (no IDLE: the server is not asked, so fetch anyway).
    TimedOut,
}

impl Mailbox {
    /// Waits at most `max` (the caller passes 25 minutes or less) for a
    /// change in the selected folder. After it returns, fetch the UIDs
    /// above the last one seen, whatever the reason.
    pub async fn wait_for_change(&mut self, max: Duration) -> Result<Wake> {
        self.wait_for_change_or(max, std::future::pending()).await
    }

    /// [`Mailbox::wait_for_change`], ended early (as timed out, the IDLE
    /// closed properly with DONE) when `interrupt` completes: the daemon
    /// stops waiting at the deadline, to read the folder up to it.
    pub async fn wait_for_change_or(
        &mut self,
        max: Duration,
        interrupt: impl std::future::Future<Output = ()>,
    ) -> Result<Wake> {
        if self.drain_unsolicited() {
            // New mail announced after an earlier command: no need to wait.
            self.pending_change = false;
            return Ok(Wake::Changed);
        }
        if self.capabilities.idle {
            self.idle(max.min(LONGEST_IDLE), interrupt).await
        } else {
            self.poll(max, interrupt).await
        }
    }

    async fn poll(
        &mut self,
        max: Duration,
        interrupt: impl std::future::Future<Output = ()>,
    ) -> Result<Wake> {
        tokio::select! {
            _ = tokio::time::sleep(self.poll_interval.min(max)) => {}
            _ = interrupt => {}
        }
        let timeout = self.timeout;
        within(timeout, "NOOP", self.session()?.noop()).await?;
        let changed = self.drain_unsolicited();
        self.pending_change = false;
        Ok(if changed { Wake::Changed } else { Wake::TimedOut })
    }

    async fn idle(
        &mut self,
        max: Duration,
        interrupt: impl std::future::Future<Output = ()>,
    ) -> Result<Wake> {
        let (timeout, silence) = (self.timeout, self.idle_silence);
        let address = self.address.clone();
        // IDLE consumes the session; it comes back with DONE. If anything in
        // between fails, the session stays `None` and the caller reconnects.
        let session =
            self.session.take().ok_or_else(|| anyhow!("the IMAP connection to {address} was lost"))?;
        let mut handle = session.idle();
        within(timeout, "IDLE", handle.init()).await?;
        let outcome = {
            // The inner timer restarts on every server line: it fires only
            // after `idle_silence` without a word, which is how a connection
            // that died without a FIN (packets dropped) is noticed: the IDLE
            // ends as timed out and the DONE below fails within `timeout`.
            // The outer, absolute timer keeps the IDLE under 29 minutes.
            // Dropping the stop source is async-imap's way to end the wait
            // early: it then reports `ManualInterrupt`, and only then is
            // that ours rather than a closed connection.
            let (wait, stop) = handle.wait_with_timeout(silence.min(max + timeout));
            let mut stop = Some(stop);
            tokio::pin!(wait, interrupt);
            tokio::time::timeout(max, async {
                loop {
                    tokio::select! {
                        result = &mut wait => break (result, stop.is_none()),
                        _ = &mut interrupt, if stop.is_some() => stop = None,
                    }
                }
            })
            .await
        };
        let wake = match outcome {
            Err(_elapsed) => Wake::TimedOut,
            Ok((Ok(IdleResponse::ManualInterrupt), true)) => Wake::TimedOut,
            Ok((result, _)) => match result {
                Ok(IdleResponse::NewData(_)) => Wake::Changed,
                Ok(IdleResponse::Timeout) => Wake::TimedOut,
                Ok(IdleResponse::ManualInterrupt) => {
                    bail!("the IMAP server {address} closed the connection during IDLE")
                }
                Err(error) => return Err(anyhow!(error).context(format!("IDLE on {address} failed"))),
            },
        };
        let session = within(timeout, "DONE (end of IDLE)", handle.done()).await?;
        self.session = Some(session);
        // Responses read while ending the IDLE count as a change too.
        let changed = self.drain_unsolicited();
        self.pending_change = false;
        Ok(if changed { Wake::Changed } else { wake })
    }
}
