//! The outbox: every answer choixbot sends goes through it, so a message
//! handed to the SMTP server is never lost nor sent twice (SPEC §7).
//! [`transport`] talks to the SMTP server and classifies what happened;
//! [`worker`] sends what is due and records each outcome, with retries;
//! [`pipeline`] keeps the sends going while the outcomes are recorded, and
//! `record` records them: the worker drives both, neither knows it;
//! [`probe`] is `choixbot check`'s look at the server, which sends nothing.

mod pinned;
mod pipeline;
pub mod probe;
mod record;
pub mod transport;
pub mod worker;

use crate::answer::Outgoing;
use crate::domain::Email;
use crate::settings::MailSettings;
use crate::store::outbox::Queued;

/// An outgoing email as an outbox row: its bytes composed once (lettre
/// stamps a Date, so only the Message-ID is stable across compositions),
/// its envelope recipients (To and Cc), and what it is about.
pub fn queued(
    outgoing: &Outgoing,
    intern: Option<&Email>,
    answers_message: Option<i64>,
    mail: &MailSettings,
) -> anyhow::Result<Queued> {
    Ok(Queued {
        message_id: outgoing.message_id.clone(),
        purpose: outgoing.purpose.as_str().to_string(),
        intern_email: intern.map(|e| e.as_str().to_string()),
        answers_message,
        recipients: outgoing.to.iter().chain(&outgoing.cc).map(|e| e.as_str().to_string()).collect(),
        raw: outgoing.to_bytes(mail)?,
    })
}
