//! The call list ("liste d'appel"): who chooses, in which group, in which
//! order, from which address, and who may choose for them.
//!
//! Beyond each cell's own validity, the list as a whole must hold together
//! (SPEC §4, seed 000): a rank is used once per group, an email once in the
//! session, and a proxy address serves one intern only, since a reply from
//! that address must name one intern without doubt.

use std::collections::HashMap;

use crate::domain::{ChoiceType, Email, Group, Intern, Rank};

use super::columns::{locate, Column, EMAIL};
use super::rows::{cell, Problems};
use super::{RowError, Table};

const COLUMNS: [Column; 7] = [
    Column { name: "rank", aliases: &["rang", "classement"], required: true },
    Column { name: "last_name", aliases: &["nom", "nom de famille"], required: true },
    Column { name: "first_name", aliases: &["prénom"], required: true },
    Column { name: "group", aliases: &["DES", "groupe", "spécialité"], required: true },
    EMAIL,
    Column { name: "choice_type", aliases: &["type de choix"], required: false },
    Column {
        name: "proxy_email",
        aliases: &["procuration", "email procuration", "courriel procuration", "mail procuration"],
        required: false,
    },
];

/// Where earlier rows used a value, to name the first user in a duplicate.
#[derive(Default)]
struct Seen {
    /// (group, rank) → line.
    ranks: HashMap<(Group, Rank), usize>,
    /// Intern email → (line, name).
    emails: HashMap<Email, (usize, String)>,
    /// Proxy email → (line, name of the intern it serves).
    proxies: HashMap<Email, (usize, String)>,
}

pub(super) fn parse(table: &Table) -> Result<Vec<Intern>, Vec<RowError>> {
    let columns = locate(table, &COLUMNS)?;
    let mut problems = Problems::default();
    if table.rows.is_empty() {
        problems.push(table.header_line, "no intern below the header row");
    }
    let mut seen = Seen::default();
    let mut interns = Vec::with_capacity(table.rows.len());
    for (line, cells) in &table.rows {
        if let Some(intern) = parse_row(*line, cells, &columns, &mut problems) {
            if check_unique(*line, &intern, &mut seen, &mut problems) {
                interns.push(intern);
            }
        }
    }
    problems.finish(interns)
}

/// One row on its own: each cell valid.
fn parse_row(
    line: usize,
    cells: &[String],
    columns: &[Option<usize>],
    problems: &mut Problems,
) -> Option<Intern> {
    let text = |column: usize| cell(cells, columns[column]);
    let rank = problems.check(line, Rank::parse(text(0)));
    let last_name = problems.check(line, required_name(text(1), "last name (nom)"));
    let first_name = problems.check(line, required_name(text(2), "first name (prénom)"));
    let group = problems.check(line, Group::parse(text(3)));
    let email = problems.check(line, parse_email(text(4), "email"));
    let choice_type = problems.check(line, ChoiceType::parse(text(5)));
    let proxy_email = match text(6) {
        "" => Some(None),
        proxy => problems.check(line, parse_email(proxy, "proxy email").map(Some)),
    };
    Some(Intern {
        rank: rank?,
        last_name: last_name?,
        first_name: first_name?,
        group: group?,
        email: email?,
        choice_type: choice_type?,
        proxy_email: proxy_email?,
    })
}

/// The row against the rows above it. True when the intern may be kept.
fn check_unique(line: usize, intern: &Intern, seen: &mut Seen, problems: &mut Problems) -> bool {
    let before = problems.len();
    let name = intern.full_name();
    let key = (intern.group.clone(), intern.rank);
    if let Some(first) = seen.ranks.get(&key) {
        let (rank, group) = (intern.rank, &intern.group);
        problems.push(line, format!("rank {rank} is already used in group {group} by line {first}"));
    } else {
        seen.ranks.insert(key, line);
    }
    if let Some((first, other)) = seen.emails.get(&intern.email) {
        problems.push(line, format!("email {} is already used by line {first} ({other})", intern.email));
    } else {
        seen.emails.insert(intern.email.clone(), (line, name.clone()));
    }
    if let Some(proxy) = &intern.proxy_email {
        if *proxy == intern.email {
            problems.push(line, format!("proxy email {proxy} is the intern's own email"));
        } else if let Some((first, other)) = seen.proxies.get(proxy) {
            problems.push(
                line,
                format!("proxy email {proxy} already serves {other} on line {first}: one proxy per intern"),
            );
        } else {
            seen.proxies.insert(proxy.clone(), (line, name));
        }
    }
    problems.len() == before
}

fn required_name(text: &str, what: &str) -> Result<String, String> {
    if text.is_empty() {
        return Err(format!("empty {what}"));
    }
    Ok(text.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn parse_email(text: &str, what: &str) -> Result<Email, String> {
    if text.is_empty() {
        return Err(format!("empty {what}"));
    }
    Email::parse(text).map_err(|reason| format!("{what}: {reason}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADERS: [&str; 7] = ["Rang", "Nom", "Prénom", "DES", "Courriel", "Type de choix", "Procuration"];

    fn table(rows: &[[&str; 7]]) -> Table {
        Table {
            headers: HEADERS.iter().map(|h| h.to_string()).collect(),
            rows: rows
                .iter()
                .enumerate()
                .map(|(i, r)| (i + 2, r.iter().map(|c| c.to_string()).collect()))
                .collect(),
            header_line: 1,
        }
    }

    fn reasons(rows: &[[&str; 7]]) -> Vec<(usize, String)> {
        parse(&table(rows)).unwrap_err().into_iter().map(|e| (e.line, e.reason)).collect()
    }

    #[test]
    fn reads_a_valid_call_list() {
        let interns = parse(&table(&[
            ["1", "Dupont", "Jean", "Pédiatrie", "Jean.Dupont@Gmail.com", "", ""],
            ["1", "Martin", "Léa", "Psychiatrie", "lea@free.fr", "Surnombre validant", "mere@orange.fr"],
        ]))
        .unwrap();
        assert_eq!(interns[0].email.as_str(), "jean.dupont@gmail.com");
        assert_eq!(interns[0].choice_type, ChoiceType::Classique);
        assert_eq!(interns[1].choice_type, ChoiceType::SurnombreValidant);
        assert_eq!(interns[1].proxy_email.as_ref().unwrap().as_str(), "mere@orange.fr");
    }

    #[test]
    fn duplicates_name_the_first_line() {
        let found = reasons(&[
            ["3", "Dupont", "Jean", "Pédiatrie", "a@x.fr", "", "p@x.fr"],
            ["3", "Martin", "Léa", "Pédiatrie", "A@x.fr", "", "p@x.fr"],
            ["4", "Petit", "Noé", "Pédiatrie", "n@x.fr", "", "n@x.fr"],
        ]);
        assert_eq!(
            found,
            [
                (3, "rank 3 is already used in group Pédiatrie by line 2".to_string()),
                (3, "email a@x.fr is already used by line 2 (Jean Dupont)".to_string()),
                (
                    3,
                    "proxy email p@x.fr already serves Jean Dupont on line 2: one proxy per intern"
                        .to_string()
                ),
                (4, "proxy email n@x.fr is the intern's own email".to_string()),
            ]
        );
    }

    #[test]
    fn every_bad_cell_of_a_row_is_reported() {
        let found = reasons(&[["zéro", "", "Jean", "", "jean@", "au hasard", "pas une adresse"]]);
        let lines: Vec<usize> = found.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, [2; 6]);
        assert!(found[0].1.contains("\"zéro\""));
        assert!(found[3].1.contains("\"jean@\""));
        assert!(found[4].1.contains("\"au hasard\""));
        assert!(found[5].1.starts_with("proxy email: "));
    }
}
