//! The list as CSV for Excel: `;` (what French Excel expects), UTF-8 with a
//! BOM (without it Excel reads the accents as Windows-1252), CRLF line ends,
//! fields quoted only when needed.
//!
//! Two tables one after the other: the interns, then, after an empty line
//! and a title line, the vacant posts. Excel shows both; a program reading
//! the file stops at the empty line or reads the title.

use csv::{QuoteStyle, Terminator, WriterBuilder};

use super::{rows, vacant_rows, ListInput, HEADERS, VACANT_HEADERS, VACANT_TITLE};

const BOM: &[u8] = "\u{feff}".as_bytes();

pub(super) fn render(input: ListInput<'_>) -> Vec<u8> {
    let mut out = Vec::with_capacity(128 * (input.allocation.assignments.len() + 16));
    out.extend_from_slice(BOM);
    let mut writer = writer(out);
    write(&mut writer, HEADERS);
    for row in rows(&input) {
        let rank = row.rank.to_string();
        let cells = row.text_cells();
        write(&mut writer, std::iter::once(rank.as_str()).chain(cells));
    }
    // The csv crate writes no empty record, so the empty line between the
    // two tables goes in by hand.
    let mut out = writer.into_inner().expect("writing to memory cannot fail");
    out.extend_from_slice(b"\r\n");
    let mut writer = self::writer(out);
    write(&mut writer, [VACANT_TITLE]);
    write(&mut writer, VACANT_HEADERS);
    for row in vacant_rows(&input) {
        let places = row.places_left.to_string();
        write(&mut writer, [row.ars_id, row.group, row.hospital, row.service, row.city, &places]);
    }
    writer.into_inner().expect("writing to memory cannot fail")
}

fn writer(out: Vec<u8>) -> csv::Writer<Vec<u8>> {
    WriterBuilder::new()
        .delimiter(b';')
        .terminator(Terminator::CRLF)
        .quote_style(QuoteStyle::Necessary)
        .flexible(true)
        .from_writer(out)
}

fn write<I, T>(writer: &mut csv::Writer<Vec<u8>>, record: I)
where
    I: IntoIterator<Item = T>,
    T: AsRef<[u8]>,
{
    writer.write_record(record).expect("writing to memory cannot fail");
}
