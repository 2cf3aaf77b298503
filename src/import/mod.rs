//! Setting up a session: reading the posts, the call list and pre-choices
//! from the files the ARS and the referents have (CSV exported by Excel, or
//! XLSX), and checking every row before anything is stored (SPEC §4).
//!
//! Pure: reads a file into a [`Table`], then turns a table into domain rows
//! or into the list of every bad row. Storing is the caller's business.
//!
//! The two steps are kept apart on purpose: [`read_table`] only knows about
//! bytes, encodings and separators, and the `parse_*` functions only know
//! about columns and values, so each is tested without the other.

mod choices;
mod columns;
mod delimited;
mod groups;
mod interns;
mod posts;
mod rows;
mod table;
mod workbook;

use std::fmt;
use std::path::Path;

use crate::domain::{Intern, Post, PreChoice};

pub use groups::{align_groups, check_groups, GroupCheck};
pub use posts::ParsedPosts;

/// One bad row (or a file-level problem, with `line` 0 or the header line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based line number in the file as the referent sees it in Excel
    /// (the header is line 1).
    pub line: usize,
    /// What is wrong, in English, naming the offending value.
    pub reason: String,
}

impl RowError {
    pub fn new(line: usize, reason: impl Into<String>) -> Self {
        Self { line, reason: reason.into() }
    }
}

/// `line 7: rank 3 is already used…`, or the bare reason for a problem with
/// the whole file (line 0).
impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            f.write_str(&self.reason)
        } else {
            write!(f, "line {}: {}", self.line, self.reason)
        }
    }
}

/// Why a file imports nothing: every bad row, in line order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} ({} problem(s))", .file, .errors.len())]
pub struct ImportError {
    /// The file as the user named it.
    pub file: String,
    /// Every problem found, in line order.
    pub errors: Vec<RowError>,
}

impl ImportError {
    /// Wraps the bad rows of `file` (from a `parse_*` function).
    pub fn new(file: &Path, errors: Vec<RowError>) -> Self {
        Self { file: file.display().to_string(), errors }
    }

    /// A file that cannot be read at all: one problem, on no particular line.
    pub fn unreadable(file: &Path, reason: impl Into<String>) -> Self {
        Self::new(file, vec![RowError::new(0, reason)])
    }
}

/// A file read as text cells: the header row and the data rows.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// The header cells, trimmed, trailing empty ones dropped.
    pub headers: Vec<String>,
    /// Data rows with their 1-based line numbers (cells trimmed, blank rows
    /// left out, trailing empty cells dropped).
    pub rows: Vec<(usize, Vec<String>)>,
    /// The line of the header row (1 unless blank lines come first), where a
    /// missing column is reported.
    pub header_line: usize,
}

/// Reads a CSV (UTF-8 with or without BOM, or Windows-1252; `;` or `,`) or an
/// XLSX file (first sheet), chosen by content, not only by extension.
pub fn read_table(path: &Path) -> Result<Table, ImportError> {
    let bytes = std::fs::read(path)
        .map_err(|error| ImportError::unreadable(path, format!("cannot read {}: {error}", path.display())))?;
    table::table_from_bytes(&bytes).map_err(|reason| ImportError::unreadable(path, reason))
}

/// The posts of a posts file: one per (ARS number, group), the spellings
/// of one group unified.
pub fn parse_posts(table: &Table) -> Result<ParsedPosts, Vec<RowError>> {
    posts::parse(table)
}

/// The call list: one intern per row.
pub fn parse_interns(table: &Table) -> Result<Vec<Intern>, Vec<RowError>> {
    interns::parse(table)
}

/// Pre-choices are checked against the interns and posts already imported.
/// A row with an email and no ARS number is accepted and gives no pre-choice
/// (a referent's sheet often lists every intern, blank for most).
pub fn parse_choices(
    table: &Table,
    interns: &[Intern],
    posts: &[Post],
) -> Result<Vec<PreChoice>, Vec<RowError>> {
    choices::parse(table, interns, posts)
}
