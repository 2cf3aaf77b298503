//! A test hook that simulates `kill -9` at a precise step of the daemon.
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
