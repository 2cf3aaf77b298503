//! The posts file: which posts the ARS opens to which group, with how many
//! places. One row per (ARS number, group); the same ARS number may appear
//! once per group it is open to.

use std::collections::HashMap;

use crate::domain::{ArsId, Group, Post};

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

pub(super) fn parse(table: &Table) -> Result<Vec<Post>, Vec<RowError>> {
    let [ars_col, group_col, places_col, hospital_col, service_col, city_col] =
        <[Option<usize>; 6]>::try_from(locate(table, &COLUMNS)?).expect("one index per column");
    let mut problems = Problems::default();
    if table.rows.is_empty() {
        problems.push(table.header_line, "no post below the header row");
    }
    let mut posts = Vec::with_capacity(table.rows.len());
    // (ARS number, group) → line of its first row.
    let mut seen: HashMap<(ArsId, Group), usize> = HashMap::new();
    for (line, cells) in &table.rows {
        let line = *line;
        let ars_id = problems.check(line, ArsId::parse(cell(cells, ars_col)));
        let group = problems.check(line, Group::parse(cell(cells, group_col)));
        let places = problems.check(line, parse_places(cell(cells, places_col)));
        let (Some(ars_id), Some(group), Some(places)) = (ars_id, group, places) else { continue };
        if let Some(first) = seen.get(&(ars_id.clone(), group.clone())) {
            problems.push(line, format!("post {ars_id} is already open to group {group} on line {first}"));
            continue;
        }
        seen.insert((ars_id.clone(), group.clone()), line);
        posts.push(Post {
            ars_id,
            group,
            places,
            hospital: cell(cells, hospital_col).to_string(),
            service: cell(cells, service_col).to_string(),
            city: cell(cells, city_col).to_string(),
        });
    }
    problems.finish(posts)
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
        let posts = parse(&t).unwrap();
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
        let posts = parse(&t).unwrap();
        assert_eq!((posts[0].places, posts[1].places), (1, 3));
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
