//! Deciding what a file is from its bytes, and the rules every reader shares
//! (trimmed cells, blank rows skipped, trailing empty columns ignored).
//!
//! The extension is not trusted: referents rename files, mail clients append
//! `.csv` to what Excel saved, and an `.xlsx` renamed `.csv` must still work.
//! An XLSX file is a ZIP archive, so it starts with `PK\x03\x04`; anything
//! else that is text is read as CSV.

use super::{delimited, workbook, Table};

/// The signature of a ZIP archive (XLSX, but also ODS and DOCX).
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
/// The signature of an OLE compound file: Excel 97-2003 `.xls`, `.doc`…
const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Reads a whole file's bytes into a table, or says why it cannot.
pub(super) fn table_from_bytes(bytes: &[u8]) -> Result<Table, String> {
    if bytes.is_empty() {
        return Err("the file is empty".into());
    }
    let raw_rows = if bytes.starts_with(ZIP_MAGIC) {
        workbook::read_rows(bytes)?
    } else if bytes.starts_with(OLE_MAGIC) {
        return Err("not a CSV or XLSX file: it looks like an old Excel 97-2003 workbook (.xls); \
                    save it from Excel as .xlsx or as CSV"
            .into());
    } else {
        let text = delimited::decode(bytes)?;
        delimited::read_rows(&text)?
    };
    assemble(raw_rows)
}

/// Turns rows of raw cells with their line numbers into a [`Table`]: the
/// first non-blank row is the header, blank rows are dropped, and every cell
/// is trimmed.
pub(super) fn assemble(raw_rows: Vec<(usize, Vec<String>)>) -> Result<Table, String> {
    let mut rows = raw_rows.into_iter().filter_map(|(line, cells)| {
        let cells = clean(cells);
        (!cells.is_empty()).then_some((line, cells))
    });
    let Some((header_line, headers)) = rows.next() else {
        return Err("no header row: the file holds only blank lines".into());
    };
    Ok(Table { headers, rows: rows.collect(), header_line })
}

/// Trims every cell and drops the empty ones at the end of the row, so a row
/// of only separators comes out empty.
fn clean(cells: Vec<String>) -> Vec<String> {
    let mut cells: Vec<String> = cells
        .into_iter()
        .map(|cell| {
            let trimmed = cell.trim();
            if trimmed.len() == cell.len() {
                cell
            } else {
                trimmed.to_string()
            }
        })
        .collect();
    while cells.last().is_some_and(|cell| cell.is_empty()) {
        cells.pop();
    }
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(line: usize, cells: &[&str]) -> (usize, Vec<String>) {
        (line, cells.iter().map(|c| c.to_string()).collect())
    }

    #[test]
    fn the_first_non_blank_row_is_the_header_and_blank_rows_are_skipped() {
        let table = assemble(vec![
            row(1, &["", " "]),
            row(2, &[" rang ", "nom", "", ""]),
            row(3, &["1", " Dupont\u{a0}", ""]),
            row(4, &["", "", ""]),
            row(5, &["2", "Martin"]),
        ])
        .unwrap();
        assert_eq!(table.header_line, 2);
        assert_eq!(table.headers, ["rang", "nom"]);
        assert_eq!(table.rows, vec![row(3, &["1", "Dupont"]), row(5, &["2", "Martin"])]);
    }

    #[test]
    fn a_file_of_blank_rows_has_no_header() {
        let error = assemble(vec![row(1, &[""]), row(2, &[" ", ""])]).unwrap_err();
        assert!(error.contains("no header row"), "{error}");
    }

    #[test]
    fn empty_and_foreign_files_are_refused_with_a_reason() {
        assert_eq!(table_from_bytes(b"").unwrap_err(), "the file is empty");
        let mut xls = OLE_MAGIC.to_vec();
        xls.extend_from_slice(&[0; 64]);
        assert!(table_from_bytes(&xls).unwrap_err().contains(".xls"));
        let zip_not_xlsx = b"PK\x03\x04 not really a workbook";
        assert!(table_from_bytes(zip_not_xlsx).unwrap_err().contains("not a CSV or XLSX file"));
    }
}
