//! The command line of SPEC §9: parsing the arguments and running each
//! command. The names, flags and JSON shapes here are a contract that tests
//! outside the project rely on: add, never rename.

pub mod amphi;
mod check;
mod commands;
pub mod follow_up;
mod lease;
mod mail;
mod person;
pub mod report;
pub mod snapshot;
pub mod status;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "choixbot",
    version,
    about = "Runs an internship choice by email, in the place of the referent."
)]
pub struct Cli {
    /// The configuration file.
    #[arg(long, global = true, default_value = "choixbot.toml")]
    pub config: PathBuf,
    /// The session database: sqlite://FILE or postgres://…
    #[arg(long, global = true, env = "DATABASE_URL", default_value = "sqlite://choixbot.db")]
    pub database_url: String,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented choixbot.toml if there is none, and create or
    /// migrate the database.
    Init,
    /// Import posts, the call list (interns) or pre-choices from CSV or XLSX.
    /// A file with any bad row imports nothing.
    Import {
        /// What the file holds.
        kind: ImportKind,
        /// The CSV or XLSX file.
        file: PathBuf,
    },
    /// Send each intern (and proxy) the invitation with their personal reference.
    Invite {
        /// Write the messages as .eml files for review instead of sending them.
        #[arg(long)]
        dry_run: bool,
        /// Where --dry-run writes the .eml files.
        #[arg(long, default_value = "invitations")]
        output: PathBuf,
        /// Send even when IMAP or SMTP does not work as configured (see
        /// choixbot check).
        #[arg(long)]
        force: bool,
    },
    /// The daemon: read the replies, decide, answer, and close at the deadline.
    Run,
    /// Test the IMAP and SMTP settings and the templates, sending nothing:
    /// run it before invite. Exit 0 when everything works, 1 otherwise.
    Check {
        /// Also mail the referents a test message, to see it arrive.
        #[arg(long)]
        send: bool,
    },
    /// Authorize choixbot to use the mailbox with OAuth2 (Microsoft 365,
    /// Outlook.com, Gmail): prints an address and a code to enter there,
    /// then keeps the refresh token in oauth2.token_file (0600).
    Login,
    /// The session at a glance.
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run the allocation on the current wishes and print it.
    Allocate {
        /// Print {"assignments":[…]} as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Close the session now: read the replies still in the mailbox, then
    /// the final allocation, the list to the ARS, results to the interns.
    Close {
        /// Do not read the mailbox first (it cannot be read): the list is
        /// made on the replies already recorded, and says that some may be
        /// missing.
        #[arg(long)]
        without_mailbox: bool,
    },
    /// Write the consolidated list (the file sent to the ARS).
    Export {
        /// csv or xlsx (default: from --output's extension, else csv).
        #[arg(long)]
        format: Option<ExportFormat>,
        /// The file to write (default: liste-ars.csv or liste-ars.xlsx).
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Show what choixbot understands of one email.
    ParseReply {
        /// The raw message (.eml).
        file: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Every message from or for one intern, in order, with its decision and answer.
    Audit {
        /// The intern's (or proxy's) email address.
        email: String,
        /// Print the raw bytes of this stored message (its number in the audit).
        #[arg(long)]
        raw: Option<i64>,
    },
    /// Everything held about one person, as one JSON object (an access request).
    ExportPerson {
        /// The person's email address (an intern, a proxy, any sender).
        email: String,
    },
    /// The virtual amphi: pause it, resume it, or make an intern absent.
    #[command(subcommand)]
    Amphi(amphi::AmphiAction),
    /// Delete the raw emails and the bodies of what was sent, once
    /// `session.retention_days` have passed since the close.
    Purge {
        /// Delete them now, whatever the retention (only after the close).
        #[arg(long)]
        now: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportKind {
    Posts,
    Interns,
    Choices,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Csv,
    Xlsx,
}

/// Runs one command to completion.
pub fn run(cli: Cli) -> crate::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| anyhow::anyhow!("cannot start the async runtime: {error}"))?;
    runtime.block_on(commands::dispatch(cli))
}
