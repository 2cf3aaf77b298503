//! The order in which ARS numbers are listed to people: numbers in numeric
//! order (`9` before `10`), as a referent or the ARS reads them.

use std::cmp::Ordering;

/// Compares two ARS numbers: identifiers made of digits only come first, by
/// value (leading zeros ignored; between equal values by the text, so `07`
/// and `7` stay distinct); identifiers with other characters come after, by
/// their text.
///
/// Mixing the two ways within one comparison ("by value when both are
/// numbers, else by text") would not be transitive (`2 < 10`, `10 < 1a`,
/// `1a < 2`), and a sort given such an order may panic; putting the two kinds
/// apart keeps the order total.
pub fn compare_ars_ids(a: &str, b: &str) -> Ordering {
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    match (numeric(a), numeric(b)) {
        (true, true) => {
            let (da, db) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
            da.len().cmp(&db.len()).then_with(|| da.cmp(db)).then_with(|| a.cmp(b))
        }
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a.cmp(b),
    }
}

#[cfg(test)]
mod tests {
    use super::compare_ars_ids;

    #[test]
    fn numbers_in_numeric_order_then_codes_by_text() {
        let mut ids = vec!["1a", "10", "2", "B-3", "007", "7", "0"];
        ids.sort_by(|a, b| compare_ars_ids(a, b));
        assert_eq!(ids, ["0", "2", "007", "7", "10", "1a", "B-3"]);
    }
}
