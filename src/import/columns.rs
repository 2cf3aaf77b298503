//! Finding the columns of a file by their header, whatever the language,
//! case, accents or punctuation the ARS's export used.
//!
//! Every header and every accepted name goes through [`normalize_key`], so
//! `N° ARS`, `n° ars` and `N ARS` are one name. Columns that match nothing
//! are ignored: Excel exports carry junk columns, and refusing them would
//! only make the referent delete them by hand.

use crate::domain::normalize_key;

use super::{RowError, Table};

/// A column a file may or must have.
pub(super) struct Column {
    /// The English name, also shown first in error messages.
    pub name: &'static str,
    /// Other accepted names (French, mostly), as a person would type them.
    pub aliases: &'static [&'static str],
    /// Whether the file is refused without it.
    pub required: bool,
}

impl Column {
    fn accepts(&self, key: &str) -> bool {
        key == normalize_key(self.name) || self.aliases.iter().any(|alias| key == normalize_key(alias))
    }

    /// `"rank" (accepted names: rank, rang, classement)`.
    pub fn describe(&self) -> String {
        let mut names = vec![self.name];
        names.extend(self.aliases);
        format!("{:?} (accepted names: {})", self.name, names.join(", "))
    }
}

/// The email column, shared by the call list and the pre-choices.
pub(super) const EMAIL: Column = Column {
    name: "email",
    aliases: &["courriel", "mail", "e-mail", "adresse mail", "adresse email", "adresse e-mail"],
    required: true,
};

/// Where each wanted column is: `Some(index)` in `table.headers`, or `None`
/// for an absent optional column. Every absent required column and every
/// column given twice under two names is reported on the header line.
pub(super) fn locate(table: &Table, columns: &[Column]) -> Result<Vec<Option<usize>>, Vec<RowError>> {
    let keys: Vec<String> = table.headers.iter().map(|header| normalize_key(header)).collect();
    let mut errors = Vec::new();
    let mut found = Vec::with_capacity(columns.len());
    for column in columns {
        let matches: Vec<usize> = (0..keys.len()).filter(|&i| column.accepts(&keys[i])).collect();
        match matches.as_slice() {
            [] if column.required => {
                errors
                    .push(RowError::new(table.header_line, format!("missing column {}", column.describe())));
            }
            [] => {}
            [_, _, ..] => errors.push(twice(table, column.name, &matches)),
            [_] => {}
        }
        found.push(matches.first().copied());
    }
    if errors.is_empty() {
        Ok(found)
    } else {
        Err(errors)
    }
}

/// Two headers that mean the same column: which one holds the truth is not
/// ours to guess.
pub(super) fn twice(table: &Table, name: &str, indices: &[usize]) -> RowError {
    let headers: Vec<String> = indices.iter().map(|&i| format!("{:?}", table.headers[i])).collect();
    RowError::new(
        table.header_line,
        format!("columns {} all mean {name:?}: keep only one", headers.join(" and ")),
    )
}

/// The numbered columns `choice1`, `choix 1`, `vœu 1`, `choix n°1`… as
/// (number, index in the headers), in numeric order.
pub(super) fn numbered(table: &Table, stems: &[&str]) -> Vec<(u32, usize)> {
    let mut columns: Vec<(u32, usize)> = table
        .headers
        .iter()
        .enumerate()
        .filter_map(|(index, header)| Some((choice_number(&normalize_key(header), stems)?, index)))
        .collect();
    columns.sort();
    columns
}

fn choice_number(key: &str, stems: &[&str]) -> Option<u32> {
    let rest = stems.iter().find_map(|stem| key.strip_prefix(stem))?;
    let rest = rest.strip_prefix('_').unwrap_or(rest);
    let rest = rest.strip_prefix("n_").unwrap_or(rest);
    if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    rest.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const RANK: Column = Column { name: "rank", aliases: &["rang", "classement"], required: true };
    const CITY: Column = Column { name: "city", aliases: &["ville"], required: false };

    fn table(headers: &[&str]) -> Table {
        Table { headers: headers.iter().map(|h| h.to_string()).collect(), rows: vec![], header_line: 1 }
    }

    #[test]
    fn finds_columns_by_any_name_in_any_case() {
        let found = locate(&table(&["Junk", "RANG", "Ville"]), &[RANK, CITY]).unwrap();
        assert_eq!(found, [Some(1), Some(2)]);
        let found = locate(&table(&["Classement"]), &[RANK, CITY]).unwrap();
        assert_eq!(found, [Some(0), None]);
    }

    #[test]
    fn a_missing_required_column_is_named_with_its_aliases() {
        let errors = locate(&table(&["nom", "ville"]), &[RANK, CITY]).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 1);
        assert_eq!(errors[0].reason, "missing column \"rank\" (accepted names: rank, rang, classement)");
    }

    #[test]
    fn the_same_column_under_two_names_is_refused() {
        let errors = locate(&table(&["rang", "Classement"]), &[RANK]).unwrap_err();
        assert!(errors[0].reason.contains("\"rang\" and \"Classement\""), "{}", errors[0].reason);
    }

    #[test]
    fn numbered_columns_come_in_numeric_order() {
        let stems = ["choice", "choix", "voeu"];
        let t = table(&["email", "Choix 10", "choice2", "Vœu 1", "choix n°3", "choix préféré", "choix"]);
        assert_eq!(numbered(&t, &stems), [(1, 3), (2, 2), (3, 4), (10, 1)]);
    }
}
