//! Setting up a session: reading the posts, the call list and pre-choices
//! from the files the ARS and the referents have (CSV exported by Excel, or
//! XLSX), and checking every row before anything is stored (SPEC §4).
//!
//! Pure: reads a file into a [`Table`], then turns a table into domain rows
//! or into the list of every bad row. Storing is the caller's business.

use std::path::Path;

use crate::domain::{Intern, Post, PreChoice};

/// One bad row (or a file-level problem, with `line` 0 or the header line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based line number in the file as the referent sees it in Excel
    /// (the header is line 1).
    pub line: usize,
    pub reason: String,
}

/// Why a file imports nothing: every bad row, in line order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} ({} problem(s))", .file, .errors.len())]
pub struct ImportError {
    pub file: String,
    pub errors: Vec<RowError>,
}

/// A file read as text cells: the header row and the data rows.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub headers: Vec<String>,
    /// Data rows with their 1-based line numbers.
    pub rows: Vec<(usize, Vec<String>)>,
}

/// Reads a CSV (UTF-8 with or without BOM, or Windows-1252; `;` or `,`) or an
/// XLSX file (first sheet), chosen by content, not only by extension.
pub fn read_table(path: &Path) -> Result<Table, ImportError> {
    let _ = path;
    todo!("import: filled in by the foundation work")
}

pub fn parse_posts(table: &Table) -> Result<Vec<Post>, Vec<RowError>> {
    let _ = table;
    todo!()
}

pub fn parse_interns(table: &Table) -> Result<Vec<Intern>, Vec<RowError>> {
    let _ = table;
    todo!()
}

/// Pre-choices are checked against the interns and posts already imported.
pub fn parse_choices(
    table: &Table,
    interns: &[Intern],
    posts: &[Post],
) -> Result<Vec<PreChoice>, Vec<RowError>> {
    let _ = (table, interns, posts);
    todo!()
}
