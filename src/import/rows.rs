//! What the three row checkers share: reading a cell by column, and
//! gathering every problem so the referent fixes the file in one pass
//! instead of one error per attempt.

use super::RowError;

/// The text of the cell in column `index` (empty when the column is absent
/// or the row is short: trailing empty cells are dropped when reading).
pub(super) fn cell(cells: &[String], index: Option<usize>) -> &str {
    index.and_then(|i| cells.get(i)).map_or("", String::as_str)
}

/// Every problem found in a file so far.
#[derive(Default)]
pub(super) struct Problems {
    /// In the order found; sorted by line at the end.
    errors: Vec<RowError>,
}

impl Problems {
    pub fn push(&mut self, line: usize, reason: impl Into<String>) {
        self.errors.push(RowError::new(line, reason));
    }

    /// How many problems so far.
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// Keeps the value, or records why there is none.
    pub fn check<T>(&mut self, line: usize, result: Result<T, String>) -> Option<T> {
        result.map_err(|reason| self.push(line, reason)).ok()
    }

    /// The parsed rows if nothing was wrong, else every problem in line
    /// order (a stable sort keeps a row's problems in column order).
    pub fn finish<T>(mut self, value: T) -> Result<T, Vec<RowError>> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            self.errors.sort_by_key(|error| error.line);
            Err(self.errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_come_back_in_line_order() {
        let mut problems = Problems::default();
        problems.push(7, "b");
        assert_eq!(problems.check::<u32>(3, Err("a".into())), None);
        assert_eq!(problems.check(4, Ok(5)), Some(5));
        problems.push(3, "a2");
        let errors = problems.finish(()).unwrap_err();
        let seen: Vec<(usize, &str)> = errors.iter().map(|e| (e.line, e.reason.as_str())).collect();
        assert_eq!(seen, [(3, "a"), (3, "a2"), (7, "b")]);
        assert_eq!(Problems::default().finish(42), Ok(42));
    }

    #[test]
    fn absent_columns_and_short_rows_read_as_empty() {
        let cells = vec!["a".to_string()];
        assert_eq!(cell(&cells, Some(0)), "a");
        assert_eq!(cell(&cells, Some(3)), "");
        assert_eq!(cell(&cells, None), "");
    }
}
