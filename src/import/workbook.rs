//! XLSX: the first sheet, each cell written back as the text the referent
//! sees, because every later check works on text.
//!
//! Excel stores every number as a float, so an ARS number typed `4521` comes
//! back as `4521.0`; it must become `"4521"` again, or it would not match the
//! same number typed in a reply. Dates come back as serial day numbers and
//! are written as ISO dates.

use std::io::Cursor;

use calamine::{Data, ExcelDateTime, Reader, Xlsx};

/// Rows of the first sheet with their Excel row numbers (1-based).
pub(super) fn read_rows(bytes: &[u8]) -> Result<Vec<(usize, Vec<String>)>, String> {
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|error| {
        format!("not a CSV or XLSX file: a ZIP archive that Excel's format does not fit ({error})")
    })?;
    let range = match workbook.worksheet_range_at(0) {
        None => return Err("the workbook has no sheet".into()),
        Some(Err(error)) => return Err(format!("cannot read the first sheet of the workbook: {error}")),
        Some(Ok(range)) => range,
    };
    // The range starts at the first row holding a cell, not at row 1: add
    // its offset so line numbers are the row numbers Excel shows.
    let Some((first_row, _)) = range.start() else {
        return Err("the file is empty: the first sheet has no cells".into());
    };
    Ok(range
        .rows()
        .enumerate()
        .map(|(i, cells)| (first_row as usize + i + 1, cells.iter().map(cell_text).collect()))
        .collect())
}

/// The text of one cell as Excel displays it in a general format.
pub(super) fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(text) | Data::DateTimeIso(text) | Data::DurationIso(text) => text.clone(),
        Data::Int(number) => number.to_string(),
        Data::Float(number) => float_text(*number),
        Data::Bool(value) => if *value { "TRUE" } else { "FALSE" }.to_string(),
        Data::DateTime(date) => date_text(date),
        Data::Error(error) => error.to_string(),
    }
}

/// `4521.0` → `"4521"`, `2.5` → `"2.5"`. Whole numbers up to 2^53 are exact
/// in a float, so the conversion to an integer loses nothing there.
fn float_text(number: f64) -> String {
    if number.fract() == 0.0 && number.abs() < 9_007_199_254_740_992.0 {
        (number as i64).to_string()
    } else {
        number.to_string()
    }
}

/// A date as `2026-11-02`, with the time only when there is one.
fn date_text(date: &ExcelDateTime) -> String {
    if date.is_duration() {
        return float_text(date.as_f64());
    }
    let (year, month, day, hour, minute, second, _) = date.to_ymd_hms_milli();
    if (hour, minute, second) == (0, 0, 0) {
        format!("{year:04}-{month:02}-{day:02}")
    } else {
        format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_xlsxwriter::{ExcelDateTime as WriterDate, Format, Workbook};

    #[test]
    fn whole_floats_lose_their_decimal_part() {
        assert_eq!(cell_text(&Data::Float(4521.0)), "4521");
        assert_eq!(cell_text(&Data::Float(-3.0)), "-3");
        assert_eq!(cell_text(&Data::Float(2.5)), "2.5");
        assert_eq!(cell_text(&Data::Int(12)), "12");
        assert_eq!(cell_text(&Data::Empty), "");
    }

    #[test]
    fn reads_the_first_sheet_with_excel_row_numbers() {
        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet();
        // Header on row 3 (index 2), as when a title sits above the table.
        sheet.write_string(2, 0, "n° ARS").unwrap();
        sheet.write_string(2, 1, "Date").unwrap();
        sheet.write_number(3, 0, 4521.0).unwrap();
        let date = WriterDate::from_ymd(2026, 11, 2).unwrap();
        sheet.write_datetime_with_format(3, 1, &date, &Format::new().set_num_format("dd/mm/yyyy")).unwrap();
        workbook.add_worksheet().write_string(0, 0, "second sheet").unwrap();
        let bytes = workbook.save_to_buffer().unwrap();

        let rows = read_rows(&bytes).unwrap();
        assert_eq!(rows[0], (3, vec!["n° ARS".to_string(), "Date".to_string()]));
        assert_eq!(rows[1], (4, vec!["4521".to_string(), "2026-11-02".to_string()]));
        assert_eq!(rows.len(), 2);
    }
}
