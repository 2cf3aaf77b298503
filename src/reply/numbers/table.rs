//! Tables pasted from a spreadsheet or aligned by hand, with a header row
//! that names the columns: "Rang<TAB>N° ARS<TAB>Hôpital", "N° ARS  Hôpital
//! Ordre", "Choix  N° ARS  Places". Read line by line, the rank and places
//! columns are numbers like the others, and a rank column that comes last,
//! or rows pasted out of order, would be read in the rows' order.
//!
//! With the header, each column is what it says: the ARS column gives the
//! choices, the rank column their places ([`super::Numbers::places`], so
//! the order of the ranks is followed), the others are set aside.

use super::Numbers;

/// What a column of the table holds, from its header.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Column {
    Ars,
    Rank,
    Places,
    Other,
}

/// Reads a table starting at `lines[0]` (its header); gives how many
/// lines it spans and its numbers, or `None` when `lines[0]` is no header.
pub(super) fn read(lines: &[&str]) -> Option<(usize, Numbers)> {
    let header = cells(lines.first()?)?;
    let columns: Vec<Column> = header.iter().map(|cell| column(cell)).collect();
    let ars = columns.iter().position(|&c| c == Column::Ars)?;
    if columns.iter().filter(|&&c| c == Column::Ars).count() > 1 {
        return None;
    }
    let mut numbers = Numbers::default();
    let mut rows = 0;
    for line in &lines[1..] {
        let Some(row) = cells(line) else { break };
        let Some(ars_id) = row.get(ars).and_then(|cell| number(cell)) else { break };
        rows += 1;
        let mut place = None;
        for (index, cell) in row.iter().enumerate() {
            let Some(value) = number(cell) else { continue };
            match columns.get(index).copied().unwrap_or(Column::Other) {
                Column::Ars => {}
                Column::Rank => {
                    place = value.parse().ok();
                    numbers.aside.push((value, "the table's rank column"));
                }
                Column::Places => numbers.aside.push((value, "a count of places")),
                Column::Other => numbers.aside.push((value, "part of a post's label")),
            }
        }
        numbers.choices.push(ars_id);
        numbers.places.push(place);
    }
    (rows > 0).then_some((rows + 1, numbers))
}

/// The cells of a row: cut at tabs, or else at runs of two spaces or more;
/// `None` when the line has fewer than two cells.
fn cells(line: &str) -> Option<Vec<&str>> {
    if !line.contains('\t') && !line.trim().contains("  ") {
        return None;
    }
    let cells: Vec<&str> = if line.contains('\t') {
        line.split('\t').map(str::trim).collect()
    } else {
        line.trim().split("  ").map(str::trim).filter(|c| !c.is_empty()).collect()
    };
    (cells.iter().filter(|c| !c.is_empty()).count() >= 2).then_some(cells)
}

/// What a header cell names.
fn column(cell: &str) -> Column {
    let cell = cell.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| cell.contains(w));
    if cell.chars().any(|c| c.is_ascii_digit()) {
        Column::Other
    } else if has(&["ars", "n°", "numéro", "numero", "num."]) {
        Column::Ars
    } else if has(&["rang", "ordre", "choix", "vœu", "voeu", "priorit", "préférence", "preference", "#"]) {
        Column::Rank
    } else if has(&["places", "postes", "nombre", "nb"]) {
        Column::Places
    } else {
        Column::Other
    }
}

/// A cell holding one number of one to six digits, "n°" allowed.
fn number(cell: &str) -> Option<String> {
    let digits = cell.trim_start_matches(|c: char| !c.is_ascii_digit()).trim_end();
    let prefix = &cell[..cell.len() - cell.trim_start_matches(|c: char| !c.is_ascii_digit()).len()];
    let prefix_ok =
        prefix.trim().is_empty() || ["n°", "n° ", "no", "#"].contains(&prefix.trim().to_lowercase().as_str());
    (prefix_ok && (1..=6).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.to_string())
}

#[cfg(test)]
mod tests {
    use super::read;

    #[test]
    fn a_rank_column_last_orders_the_rows() {
        let lines = ["N° ARS\tHôpital\tOrdre", "5678\tTrousseau\t2", "2345\tNecker\t1", "", "Merci"];
        let (spanned, mut numbers) = read(&lines).expect("a table");
        assert_eq!(spanned, 3);
        assert!(numbers.follow_said_order());
        assert_eq!(numbers.choices, ["2345", "5678"]);
    }

    #[test]
    fn places_and_aligned_columns_are_not_choices() {
        let lines = ["Rang   N° ARS   Places", "1      9012     2", "2      2345     1"];
        let (_, numbers) = read(&lines).expect("a table");
        assert_eq!(numbers.choices, ["9012", "2345"]);
        assert!(numbers.aside.iter().any(|(n, why)| n == "2" && *why == "a count of places"));
    }

    #[test]
    fn prose_is_no_table() {
        assert!(read(&["Bonjour, voici mes choix :", "1234"]).is_none());
        assert!(read(&["Hôpital\tService", "Necker\tPédiatrie"]).is_none());
    }
}
