//! choixbot runs a choice of internship posts by email, in the place of the
//! referent who would otherwise check every reply by hand: it invites the
//! interns, reads their replies from a mailbox, validates them against the
//! call list and the open posts, answers each one, and at the deadline sends
//! the consolidated list to the ARS. See `README.md` and `SPEC.md`.
//!
//! The modules are cut by what they do for the user:
//! - [`domain`] — the vocabulary, as validated types;
//! - [`import`] — setting up a session from the ARS's files;
//! - [`allocation`] — who gets which post (pure);
//! - [`amphi`] — the virtual amphi's turns and rules (pure);
//! - [`answer`] — the emails choixbot writes, and their MIME composition;
//! - [`reply`] — understanding what an intern wrote (pure);
//! - [`ars_list`] — the consolidated list for the ARS (pure);
//! - [`decide`] — what a reply means for the session (pure);
//! - [`invite`] — inviting the interns;
//! - [`collect`] — the daemon that reads, decides and answers;
//! - [`outbox`] — sending, with retries;
//! - [`close`] — the deadline, the final list, the results;
//! - [`alert`] — telling the referents what will not heal by itself;
//! - [`clock`] — the one "now", which tests can move;
//! - [`lease`] — one process acts on mail at a time, others stand by;
//! - [`store`] — the session's database;
//! - [`settings`] — `choixbot.toml`;
//! - [`private`] — owner-only files for personal data;
//! - [`web`] — the live page: public posts, the referents' dashboard;
//! - [`cli`] — the commands.

pub mod alert;
pub mod allocation;
pub mod amphi;
pub mod answer;
pub mod ars_list;
pub mod cli;
pub mod clock;
pub mod close;
pub mod collect;
pub mod crash_point;
pub mod decide;
pub mod domain;
pub mod error;
pub mod import;
pub mod invite;
pub mod lease;
pub mod mailbox;
pub mod oauth;
pub mod outbox;
pub mod private;
pub mod reply;
pub mod session;
pub mod settings;
pub mod store;
pub mod synthetic;
pub mod web;

pub use error::{Error, Result};
