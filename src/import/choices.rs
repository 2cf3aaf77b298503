//! Pre-choices: wishes collected another way before the session (seed 002,
//! scenario 1), checked against the call list and the posts already
//! imported, exactly as a reply would be: a known intern, posts open to that
//! intern's group, no post twice.
//!
//! Two layouts are accepted, because referents build these sheets by hand:
//! numbered columns (`choix 1`, `choix 2`…) or one column holding the
//! numbers separated by spaces, commas or semicolons.

use std::collections::{HashMap, HashSet};

use crate::domain::{ArsId, Email, Group, Intern, Post, PreChoice};

use super::columns::{locate, numbered, twice, Column, EMAIL};
use super::rows::{cell, Problems};
use super::{RowError, Table};

/// The one-column layout.
const LIST: Column = Column { name: "choices", aliases: &["choix", "vœux", "wishes"], required: false };
/// The numbered layout: `choice1`, `choix 1`, `vœu 1`, `vœux 1`, `wish 1`.
/// "voeux" before "voeu", so the longer stem is tried first.
const STEMS: [&str; 5] = ["choice", "choix", "voeux", "voeu", "wish"];

/// Where the wishes of a row are.
enum Layout {
    /// Column indices in preference order.
    Numbered(Vec<usize>),
    /// The index of the one column.
    List(usize),
}

/// What the rows are checked against.
struct Session<'a> {
    /// Interns by their own email.
    interns: HashMap<&'a Email, &'a Intern>,
    /// Interns by their proxy's email, to say why a proxy's address is wrong.
    proxies: HashMap<&'a Email, &'a Intern>,
    /// (ARS number, group) of every post opening.
    open: HashSet<(&'a ArsId, &'a Group)>,
    /// Every ARS number, open to any group.
    numbers: HashSet<&'a ArsId>,
}

pub(super) fn parse(
    table: &Table,
    interns: &[Intern],
    posts: &[Post],
) -> Result<Vec<PreChoice>, Vec<RowError>> {
    let (email_col, layout) = columns(table)?;
    let session = Session {
        interns: interns.iter().map(|intern| (&intern.email, intern)).collect(),
        proxies: interns.iter().filter_map(|i| Some((i.proxy_email.as_ref()?, i))).collect(),
        open: posts.iter().map(|post| (&post.ars_id, &post.group)).collect(),
        numbers: posts.iter().map(|post| &post.ars_id).collect(),
    };
    let mut problems = Problems::default();
    let mut first_line: HashMap<Email, usize> = HashMap::new();
    let mut choices = Vec::new();
    for (line, cells) in &table.rows {
        let line = *line;
        let intern = find_intern(cell(cells, email_col), &session, &mut problems, line);
        if let Some(intern) = intern {
            if let Some(first) = first_line.get(&intern.email) {
                problems
                    .push(line, format!("intern {} already has pre-choices on line {first}", intern.email));
            } else {
                first_line.insert(intern.email.clone(), line);
            }
        }
        let wishes = parse_wishes(&wish_texts(cells, &layout), intern, &session, &mut problems, line);
        if let (Some(intern), false) = (intern, wishes.is_empty()) {
            choices.push(PreChoice { email: intern.email.clone(), wishes });
        }
    }
    problems.finish(choices)
}

/// The email column and the wishes' layout, or why the header will not do.
fn columns(table: &Table) -> Result<(Option<usize>, Layout), Vec<RowError>> {
    let located = locate(table, &[EMAIL, LIST]);
    let mut errors = located.as_ref().err().cloned().unwrap_or_default();
    let (email_col, list_col) = match &located {
        Ok(found) => (found[0], found[1]),
        Err(_) => (None, None),
    };
    let numbered = numbered(table, &STEMS);
    for pair in numbered.windows(2) {
        if pair[0].0 == pair[1].0 {
            errors.push(twice(table, &format!("choice{}", pair[0].0), &[pair[0].1, pair[1].1]));
        }
    }
    let layout = match (list_col, numbered.is_empty()) {
        (Some(list), true) => Some(Layout::List(list)),
        (None, false) => Some(Layout::Numbered(numbered.iter().map(|&(_, index)| index).collect())),
        (Some(list), false) => {
            let reason = format!(
                "column {:?} and numbered columns such as {:?} both hold choices: keep one layout",
                table.headers[list], table.headers[numbered[0].1]
            );
            errors.push(RowError::new(table.header_line, reason));
            None
        }
        (None, true) => {
            let reason = "missing the choices: numbered columns \"choice1\", \"choice2\"… (or \"choix 1\", \
                          \"vœu 1\"…), or one column \"choices\" (or \"choix\", \"vœux\")";
            errors.push(RowError::new(table.header_line, reason));
            None
        }
    };
    match layout {
        Some(layout) if errors.is_empty() => Ok((email_col, layout)),
        _ => Err(errors),
    }
}

/// The intern a row is for, or the reason there is none.
fn find_intern<'a>(
    text: &str,
    session: &Session<'a>,
    problems: &mut Problems,
    line: usize,
) -> Option<&'a Intern> {
    if text.is_empty() {
        problems.push(line, "empty email");
        return None;
    }
    let email = problems.check(line, Email::parse(text).map_err(|reason| format!("email: {reason}")))?;
    if let Some(intern) = session.interns.get(&email) {
        return Some(intern);
    }
    let reason = match session.proxies.get(&email) {
        Some(intern) => format!(
            "{email} is the proxy of {} ({}), not an intern: give the intern's own email",
            intern.full_name(),
            intern.email
        ),
        None => format!("no intern with email {email} on the call list"),
    };
    problems.push(line, reason);
    None
}

/// The non-empty texts of the wishes, in preference order.
fn wish_texts<'c>(cells: &'c [String], layout: &Layout) -> Vec<&'c str> {
    match layout {
        Layout::Numbered(columns) => {
            columns.iter().map(|&i| cell(cells, Some(i))).filter(|text| !text.is_empty()).collect()
        }
        Layout::List(column) => cell(cells, Some(*column))
            .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
            .filter(|text| !text.is_empty())
            .collect(),
    }
}

/// The wishes as ARS numbers, each open to the intern's group, none twice.
fn parse_wishes(
    texts: &[&str],
    intern: Option<&Intern>,
    session: &Session,
    problems: &mut Problems,
    line: usize,
) -> Vec<ArsId> {
    // Each wish with its 1-based position among the row's texts.
    let mut wishes: Vec<(ArsId, usize)> = Vec::with_capacity(texts.len());
    for (index, text) in texts.iter().enumerate() {
        let position = index + 1;
        let Some(ars_id) = problems.check(line, ArsId::parse(text)) else { continue };
        if let Some((_, earlier)) = wishes.iter().find(|(wish, _)| *wish == ars_id) {
            let reason = format!("post {ars_id} is listed twice (choices {earlier} and {position})");
            problems.push(line, reason);
        }
        if let Some(intern) = intern {
            let group = &intern.group;
            if !session.open.contains(&(&ars_id, group)) {
                let reason = if session.numbers.contains(&ars_id) {
                    format!("post {ars_id} is not open to group {group}")
                } else {
                    format!("post {ars_id} is not open to group {group}: no post has that number")
                };
                problems.push(line, reason);
            }
        }
        wishes.push((ars_id, position));
    }
    wishes.into_iter().map(|(ars_id, _)| ars_id).collect()
}

#[cfg(test)]
#[path = "choices_tests.rs"]
mod tests;
