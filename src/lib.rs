//! choixbot runs a choice of internship posts by email, in the place of the
//! referent who would otherwise check every reply by hand: it invites the
//! interns, reads their replies from a mailbox, validates them against the
//! call list and the open posts, answers each one, and at the deadline sends
//! the consolidated list to the ARS. See `README.md` and `SPEC.md`.
//!
//! The modules are cut by what they do for the user:
//! - [`domain`]: the vocabulary, as validated types;
//! - [`import`]: setting up a session from the ARS's files;
//! - [`allocation`]: who gets which post (pure);
//! - [`reply`]: understanding what an intern wrote (pure);
//! - [`ars_list`]: the consolidated list for the ARS (pure);
//! - [`store`]: the session's database;
//! - [`settings`]: `choixbot.toml`;
//! - [`cli`]: the commands.

pub mod allocation;
pub mod ars_list;
pub mod cli;
pub mod domain;
pub mod error;
pub mod import;
pub mod mailbox;
pub mod outbox;
pub mod reply;
pub mod settings;
pub mod store;

pub use error::{Error, Result};
