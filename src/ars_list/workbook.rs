//! The list as an XLSX workbook: a sheet "Affectations" (the interns) and a
//! sheet "Postes vacants", each with a bold header row that stays in view,
//! an autofilter and columns wide enough for their text.
//!
//! ARS numbers are written as text with the text number format (`@`), so a
//! leading zero survives and Excel does not turn `0123` into 123; the green
//! "number stored as text" marks are switched off on that column.

use anyhow::Context;
use rust_xlsxwriter::{ColNum, Format, IgnoreError, RowNum, Workbook, Worksheet, XlsxError};

use super::{rows, vacant_rows, ListInput, ASSIGNMENTS_SHEET, HEADERS, VACANT_HEADERS, VACANT_TITLE};

/// Widest a column gets, in characters.
const MAX_WIDTH: usize = 60;

pub(super) fn render(input: ListInput<'_>) -> anyhow::Result<Vec<u8>> {
    let mut workbook = Workbook::new();
    // Deflate dominates the time of a large list; the fastest level costs a
    // few percent of size on an email attachment and saves most of it.
    workbook.set_zip_compression_level(1);
    assignments_sheet(&input, workbook.add_worksheet()).context("cannot build the sheet Affectations")?;
    vacancies_sheet(&input, workbook.add_worksheet()).context("cannot build the sheet Postes vacants")?;
    workbook.save_to_buffer().context("cannot write the XLSX workbook")
}

/// The formats of a sheet.
struct Formats {
    /// The header row.
    header: Format,
    /// ARS numbers: text, shown as text.
    text: Format,
}

impl Formats {
    fn new() -> Self {
        Self { header: Format::new().set_bold(), text: Format::new().set_num_format("@") }
    }
}

fn assignments_sheet(input: &ListInput<'_>, sheet: &mut Worksheet) -> Result<(), XlsxError> {
    sheet.set_name(ASSIGNMENTS_SHEET)?;
    let formats = Formats::new();
    let mut widths: Vec<usize> = HEADERS.iter().map(|h| h.chars().count()).collect();
    let rows = rows(input);
    for (index, row) in rows.iter().enumerate() {
        let line = index as RowNum + 1;
        sheet.write_number(line, 0, row.rank)?;
        widths[0] = widths[0].max(row.rank.to_string().len());
        for (column, cell) in row.text_cells().into_iter().enumerate() {
            let column = column + 1;
            write_text(sheet, line, column as ColNum, cell, HEADERS[column] == "n° ARS", &formats)?;
            widths[column] = widths[column].max(cell.chars().count());
        }
    }
    finish(sheet, &HEADERS, &widths, rows.len(), &formats)
}

fn vacancies_sheet(input: &ListInput<'_>, sheet: &mut Worksheet) -> Result<(), XlsxError> {
    sheet.set_name(VACANT_TITLE)?;
    let formats = Formats::new();
    let mut widths: Vec<usize> = VACANT_HEADERS.iter().map(|h| h.chars().count()).collect();
    let rows = vacant_rows(input);
    for (index, row) in rows.iter().enumerate() {
        let line = index as RowNum + 1;
        let cells = [row.ars_id, row.group, row.hospital, row.service, row.city];
        for (column, cell) in cells.into_iter().enumerate() {
            write_text(sheet, line, column as ColNum, cell, column == 0, &formats)?;
            widths[column] = widths[column].max(cell.chars().count());
        }
        sheet.write_number(line, 5, row.places_left)?;
    }
    finish(sheet, &VACANT_HEADERS, &widths, rows.len(), &formats)
}

/// Writes one text cell; nothing for an empty one, so empty cells stay
/// blank in Excel (and in a filter).
fn write_text(
    sheet: &mut Worksheet,
    row: RowNum,
    column: ColNum,
    text: &str,
    is_ars_id: bool,
    formats: &Formats,
) -> Result<(), XlsxError> {
    if text.is_empty() {
        return Ok(());
    }
    if is_ars_id {
        sheet.write_string_with_format(row, column, text, &formats.text)?;
    } else {
        sheet.write_string(row, column, text)?;
    }
    Ok(())
}

/// The header row, the frozen pane, the autofilter, the widths and the
/// quiet ARS number column.
fn finish(
    sheet: &mut Worksheet,
    headers: &[&str],
    widths: &[usize],
    rows: usize,
    formats: &Formats,
) -> Result<(), XlsxError> {
    for (column, header) in headers.iter().enumerate() {
        sheet.write_string_with_format(0, column as ColNum, *header, &formats.header)?;
        let width = widths[column].min(MAX_WIDTH) + 2;
        sheet.set_column_width(column as ColNum, width as f64)?;
    }
    let last_column = headers.len() as ColNum - 1;
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofilter(0, 0, rows as RowNum, last_column)?;
    if rows > 0 {
        let ars_column = headers.iter().position(|h| *h == "n° ARS").unwrap_or(0) as ColNum;
        sheet.ignore_error_range(
            1,
            ars_column,
            rows as RowNum,
            ars_column,
            IgnoreError::NumberStoredAsText,
        )?;
    }
    Ok(())
}
