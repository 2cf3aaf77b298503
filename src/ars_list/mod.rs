//! The consolidated list sent to the ARS at the deadline (SPEC §8): per group,
//! in rank order, who gets which post, the absent and unassigned interns, then
//! the vacant posts. Rendered as CSV (for Excel), XLSX and a plain-text
//! summary for the body of the email. Pure: bytes in memory, no I/O.

use crate::allocation::Allocation;
use crate::domain::{Intern, Post};

/// Everything the list is made from.
#[derive(Debug, Clone, Copy)]
pub struct ListInput<'a> {
    pub session_name: &'a str,
    pub posts: &'a [Post],
    pub interns: &'a [Intern],
    pub allocation: &'a Allocation,
}

/// `;`-separated, UTF-8 with a BOM, CRLF line ends: what Excel opens
/// correctly by double click.
pub fn to_csv(input: ListInput<'_>) -> Vec<u8> {
    let _ = input;
    todo!()
}

pub fn to_xlsx(input: ListInput<'_>) -> anyhow::Result<Vec<u8>> {
    let _ = input;
    todo!()
}

/// A readable summary in French for the body of the email to the ARS.
pub fn summary(input: ListInput<'_>) -> String {
    let _ = input;
    todo!()
}
