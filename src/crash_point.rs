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

/// The variable that names the step to crash at.
pub const VARIABLE: &str = "CHOIXBOT_CRASH_AT";

/// The steps that can be named: `after_fetch`, `after_commit`,
/// `after_send` (the SMTP server accepted an answer, not yet marked sent)
/// and `before_move`.
pub fn reached(step: &str) {
    if std::env::var(VARIABLE).is_ok_and(|wanted| wanted == step) {
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
    std::env::var(FAIL_VARIABLE)
        .is_ok_and(|marker| !marker.is_empty() && raw.windows(marker.len()).any(|w| w == marker.as_bytes()))
}
