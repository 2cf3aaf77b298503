//! The outbox: every answer choixbot sends goes through it, so a message
//! handed to the SMTP server is never lost nor sent twice (SPEC §7).
//! [`transport`] talks to the SMTP server and classifies what happened;
//! [`worker`] sends what is due and records each outcome, with retries.

pub mod transport;
pub mod worker;
