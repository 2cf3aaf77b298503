//! The posts file: which posts the ARS opens to which group, with how many
//! places. One row per (ARS number, group); the same ARS number may appear
//! once per group it is open to.

use std::collections::HashMap;

use crate::domain::{normalize_key, ArsId, Group, Post};

use super::columns::{locate, Column};
use super::rows::{cell, Problems};
use super::{RowError, Table};

const COLUMNS: [Column; 6] = [
    Column {
        name: "ars_id",
        aliases: &["n° ARS", "numero ARS", "n ARS", "no ARS", "num ARS", "ARS"],
        required: true,
    },
    Column { name: "group", aliases: &["DES", "groupe", "spécialité"], required: true },
    Column {
        name: "places",
        aliases: &["nombre de postes", "postes", "nb postes", "nombre de places", "nb places"],
        required: false,
    },
    Column { name: "hospital", aliases: &["hôpital", "établissement"], required: false },
    Column { name: "service", aliases: &[], required: false },
    Column { name: "city", aliases: &["ville"], required: false },
];

/// The posts of a file, and the spellings of a group it unified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedPosts {
    /// One per (ARS number, group).
    pub posts: Vec<Post>,
    /// `(spelling, the file's spelling used instead, rows)`: see
    /// [`unify_spellings`].
    pub respelled: Vec<(Group, Group, usize)>,
}

pub(super) fn parse(table: &Table) -> Result<ParsedPosts, Vec<RowError>> {
    let [ars_col, group_col, places_col, hospital_col, service_col, city_col] =
        <[Option<usize>; 6]>::try_from(locate(table, &COLUMNS)?).expect("one index per column");
    let mut problems = Problems::default();
    if table.rows.is_empty() {
        problems.push(table.header_line, "no post below the header row");
    }
    let mut rows = Vec::with_capacity(table.rows.len());
    for (line, cells) in &table.rows {
        let line = *line;
        let ars_id = problems.check(line, ArsId::parse(cell(cells, ars_col)));
        let group = problems.check(line, Group::parse(cell(cells, group_col)));
        let places = problems.check(line, parse_places(cell(cells, places_col)));
        let (Some(ars_id), Some(group), Some(places)) = (ars_id, group, places) else { continue };
        let text = |col| cell(cells, col).to_string();
        let post = Post {
            ars_id,
            group,
            places,
            hospital: text(hospital_col),
            service: text(service_col),
            city: text(city_col),
        };
        rows.push((line, post));
    }
    let respelled = unify_spellings(rows.iter_mut().map(|(_, post)| &mut post.group));
    let mut posts = Vec::with_capacity(rows.len());
    // (ARS number, group) → line of its first row.
    let mut seen: HashMap<(ArsId, Group), usize> = HashMap::new();
    for (line, post) in rows {
        let key = (post.ars_id.clone(), post.group.clone());
        if let Some(first) = seen.get(&key) {
            problems.push(line, format!("post {} is already open to group {} on line {first}", key.0, key.1));
            continue;
        }
        seen.insert(key, line);
        posts.push(post);
    }
    problems.finish(ParsedPosts { posts, respelled })
}

/// Within one file, the spellings of a group that differ only in case,
/// accents, spaces or punctuation ("Cardiologie", "cardiologie ",
/// "CARDIOLOGIE") are one group: each takes the file's most frequent
/// spelling of it (the first one, on a tie). Left as two groups, each
/// would hold part of the posts, and an intern would be offered only one
/// part. Returns what was respelled, for the import to say so: two groups
/// that really are different must differ by more than that.
pub(super) fn unify_spellings<'a>(groups: impl Iterator<Item = &'a mut Group>) -> Vec<(Group, Group, usize)> {
    let mut groups: Vec<&mut Group> = groups.collect();
    // key → spelling → (rows, first position)
    let mut spellings: HashMap<String, HashMap<Group, (usize, usize)>> = HashMap::new();
    for (position, group) in groups.iter().enumerate() {
        let entry = spellings.entry(normalize_key(group.as_str())).or_default();
        entry.entry((**group).clone()).or_insert((0, position)).0 += 1;
    }
    let chosen: HashMap<&String, &Group> = spellings
        .iter()
        .map(|(key, variants)| {
            let best = variants.iter().max_by_key(|(_, (rows, first))| (*rows, std::cmp::Reverse(*first)));
            (key, best.expect("a key has a spelling").0)
        })
        .collect();
    let mut respelled: std::collections::BTreeMap<(Group, Group), usize> = Default::default();
    for group in groups.iter_mut() {
        let to = chosen[&normalize_key(group.as_str())];
        if **group != *to {
            *respelled.entry(((**group).clone(), to.clone())).or_default() += 1;
            **group = to.clone();
        }
    }
    respelled.into_iter().map(|((from, to), rows)| (from, to, rows)).collect()
}

/// "nombre de postes": a whole number of at least 1, or 1 when empty. A
/// trailing `.0` is what a number cell becomes after a round trip through
/// some spreadsheet exports, so it is accepted.
fn parse_places(text: &str) -> Result<u32, String> {
    if text.is_empty() {
        return Ok(1);
    }
    let digits = text.strip_suffix(".0").unwrap_or(text);
    match digits.parse::<u32>() {
        Ok(places) if places >= 1 => Ok(places),
        _ => Err(format!("places {text:?} is not a positive whole number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(headers: &[&str], rows: &[&[&str]]) -> Table {
        let strings = |cells: &[&str]| cells.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        Table {
            headers: strings(headers),
            rows: rows.iter().enumerate().map(|(i, cells)| (i + 2, strings(cells))).collect(),
            header_line: 1,
        }
    }

    #[test]
    fn reads_french_headers_and_defaults_places_to_one() {
        let t = table(
            &["N° ARS", "DES", "Nombre de postes", "Hôpital", "Service", "Ville", "Commentaire"],
            &[&["4521", "Pédiatrie", "2", "Necker", "Néonatologie", "Paris", "x"], &["310", "Pédiatrie", ""]],
        );
        let posts = parse(&t).unwrap().posts;
        assert_eq!(posts.len(), 2);
        assert_eq!(posts[0].ars_id.as_str(), "4521");
        assert_eq!(posts[0].places, 2);
        assert_eq!(posts[0].label(), "Necker – Néonatologie (Paris)");
        assert_eq!(posts[1].places, 1);
        assert_eq!(posts[1].hospital, "");
    }

    #[test]
    fn a_post_open_to_two_groups_is_two_posts() {
        let t = table(&["ars", "des", "postes"], &[&["12", "Pédiatrie", "1"], &["12", "Psychiatrie", "3"]]);
        let posts = parse(&t).unwrap().posts;
        assert_eq!((posts[0].places, posts[1].places), (1, 3));
    }

    /// Regression: "Cardiologie" on some rows and "cardiologie" on others
    /// made two groups, and an intern of the call list was offered only
    /// the posts of one of them.
    #[test]
    fn spellings_of_one_group_that_differ_by_case_accents_or_spaces_are_one_group() {
        let t = table(
            &["ars", "des"],
            &[
                &["1", "Cardiologie"],
                &["2", "cardiologie"],
                &["3", "Cardiologie"],
                &["4", " CARDIOLOGIE "],
                &["5", "Pédiatrie"],
                &["6", "Pediatrie"],
            ],
        );
        let parsed = parse(&t).unwrap();
        let groups: Vec<&str> = parsed.posts.iter().map(|p| p.group.as_str()).collect();
        assert_eq!(
            groups,
            ["Cardiologie", "Cardiologie", "Cardiologie", "Cardiologie", "Pédiatrie", "Pédiatrie"]
        );
        let respelled: Vec<(&str, &str, usize)> =
            parsed.respelled.iter().map(|(from, to, n)| (from.as_str(), to.as_str(), *n)).collect();
        assert_eq!(
            respelled,
            [
                ("CARDIOLOGIE", "Cardiologie", 1),
                ("Pediatrie", "Pédiatrie", 1),
                ("cardiologie", "Cardiologie", 1)
            ]
        );
    }

    #[test]
    fn one_post_listed_under_two_spellings_of_its_group_is_a_duplicate() {
        let t = table(&["ars", "des"], &[&["12", "Cardiologie"], &["12", "cardiologie"]]);
        let errors = parse(&t).unwrap_err();
        assert_eq!(errors[0].reason, "post 12 is already open to group Cardiologie on line 2");
    }

    #[test]
    fn places_must_be_a_positive_whole_number() {
        assert_eq!(parse_places("3"), Ok(3));
        assert_eq!(parse_places("3.0"), Ok(3));
        for bad in ["0", "-1", "deux", "1.5"] {
            let reason = parse_places(bad).unwrap_err();
            assert!(reason.contains(&format!("{bad:?}")), "{reason}");
        }
    }

    #[test]
    fn every_bad_row_is_reported() {
        let t = table(
            &["ars_id", "group", "places"],
            &[&["12", "MG", "0"], &["1 2", "MG", "1"], &["13", "MG", "1"], &["13", "MG", "2"]],
        );
        let errors = parse(&t).unwrap_err();
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [2, 3, 5]);
        assert_eq!(errors[2].reason, "post 13 is already open to group MG on line 4");
    }

    #[test]
    fn a_header_without_rows_is_refused() {
        let errors = parse(&table(&["ars_id", "group"], &[])).unwrap_err();
        assert_eq!(errors[0].line, 1);
    }
}
