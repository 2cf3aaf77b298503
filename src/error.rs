//! The failures a command can end with, and the exit code of each (SPEC §9):
//! 0 success, 1 runtime failure, 2 bad usage or bad input.

use std::fmt;

/// A command's failure. `main` turns it into a message on stderr and an exit
/// code in one place.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The user asked for something that cannot be done as asked: a missing
    /// or invalid configuration, a bad argument, a file with bad rows.
    /// Exit code 2.
    #[error("{0}")]
    BadInput(String),
    /// An import refused with every bad row listed. Exit code 2.
    #[error("{0}")]
    Import(#[from] crate::import::ImportError),
    /// Anything else: a server that cannot be reached, a disk error…
    /// Exit code 1.
    #[error(transparent)]
    Runtime(#[from] anyhow::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn bad_input(message: impl fmt::Display) -> Self {
        Self::BadInput(message.to_string())
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            Self::BadInput(_) | Self::Import(_) => 2,
            Self::Runtime(_) => 1,
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(error: sqlx::Error) -> Self {
        Self::Runtime(anyhow::Error::new(error).context("database error"))
    }
}
