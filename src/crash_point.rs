//! Test hooks: `kill -9` at a precise step of the daemon, and a message
//! that cannot be processed.
//!
//! The fault suite must prove that a crash at any step loses nothing and
//! decides nothing twice (SPEC §7). Killing the process from outside cannot
//! aim at "after the commit, before the move"; this can. When the
//! environment variable `CHOIXBOT_CRASH_AT` names a step, the daemon calls
//! [`std::process::abort`] when it reaches that step: no destructor runs, no
//! buffer is flushed, exactly as with SIGKILL. Unset (always, outside the
//! tests), it does nothing.

use once_cell::sync::Lazy;

/// The variable that names the step to crash at.
pub const VARIABLE: &str = "CHOIXBOT_CRASH_AT";

/// The hooks' variables, read once: `fails_on` is asked for every fetched
/// message, and the environment of a running daemon does not change.
static CRASH_AT: Lazy<Option<String>> = Lazy::new(|| std::env::var(VARIABLE).ok());
/// The marker of [`FAIL_VARIABLE`], when set and not empty.
static FAIL_ON: Lazy<Option<String>> =
    Lazy::new(|| std::env::var(FAIL_VARIABLE).ok().filter(|marker| !marker.is_empty()));

/// The steps that can be named: `after_fetch`, `after_commit`,
/// `after_send` (the SMTP server accepted an answer, not yet marked sent),
/// `before_move`, and in the close `close_before_commit` (every email
/// worded and inserted, not committed) and `close_after_commit`.
pub fn reached(step: &str) {
    if CRASH_AT.as_deref() == Some(step) {
        eprintln!("{VARIABLE}={step}: aborting as asked");
        std::process::abort();
    }
}

/// The variable naming a marker: a fetched message whose bytes contain it
/// fails to be processed, as a message that trips an unforeseen error
/// would. The fault suite uses it to prove that one such message does not
/// stop the daemon.
pub const FAIL_VARIABLE: &str = "CHOIXBOT_FAIL_ON";

/// Whether processing `raw` must fail (only ever with [`FAIL_VARIABLE`]
/// set).
pub fn fails_on(raw: &[u8]) -> bool {
    FAIL_ON.as_deref().is_some_and(|marker| raw.windows(marker.len()).any(|w| w == marker.as_bytes()))
}
