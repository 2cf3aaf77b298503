//! CSV as Excel writes it in France: `;`-separated (`,` elsewhere), in
//! Windows-1252 unless the user chose "CSV UTF-8", maybe with a BOM, and
//! with quoted cells that hold separators or line breaks.

use encoding_rs::{UTF_16BE, UTF_16LE, WINDOWS_1252};

/// The separators a header line may use, best first when counts tie: `;` is
/// what a French Excel writes, `\t` what "Unicode text" export writes.
const SEPARATORS: [u8; 3] = [b';', b',', b'\t'];

/// Bytes to text. UTF-8 (with or without BOM) when the bytes are valid UTF-8,
/// UTF-16 when a UTF-16 BOM says so, else Windows-1252: every byte sequence
/// is valid Windows-1252, so the guess is only made after UTF-8 failed, and
/// a Windows-1252 file with an accent is (in practice) never valid UTF-8.
pub(super) fn decode(bytes: &[u8]) -> Result<String, String> {
    let text = if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        decode_utf8_or_1252(rest)
    } else if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        UTF_16LE.decode_without_bom_handling(rest).0.into_owned()
    } else if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        UTF_16BE.decode_without_bom_handling(rest).0.into_owned()
    } else if bytes.contains(&0) {
        // Text files never hold NUL bytes; PDFs, images and archives do.
        return Err("not a CSV or XLSX file: it holds binary data".into());
    } else {
        decode_utf8_or_1252(bytes)
    };
    if text.trim().is_empty() {
        return Err("the file is empty".into());
    }
    Ok(text)
}

fn decode_utf8_or_1252(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => WINDOWS_1252.decode_without_bom_handling(bytes).0.into_owned(),
    }
}

/// The separator of the header line: the candidate that occurs most often
/// outside quotes before the first line break outside quotes.
pub(super) fn detect_separator(text: &str) -> u8 {
    let mut counts = [0usize; SEPARATORS.len()];
    let mut in_quotes = false;
    let header = text.trim_start_matches(['\r', '\n']);
    for byte in header.bytes() {
        match byte {
            b'"' => in_quotes = !in_quotes,
            b'\n' | b'\r' if !in_quotes => break,
            _ if !in_quotes => {
                if let Some(i) = SEPARATORS.iter().position(|&s| s == byte) {
                    counts[i] += 1;
                }
            }
            _ => {}
        }
    }
    // `max_by_key` keeps the last maximum; reversing keeps the first, so
    // ties go to the earlier (preferred) separator.
    let best = (0..SEPARATORS.len()).rev().max_by_key(|&i| counts[i]).unwrap_or(0);
    SEPARATORS[best]
}

/// The separator named by Excel's `sep=;` first line, which some exports
/// write so that Excel opens the file right in any locale.
fn sep_directive(text: &str) -> Option<u8> {
    let first_line = text.lines().next()?.trim_end();
    match first_line.as_bytes() {
        [s, e, p, b'=', separator] if [s, e, p].map(u8::to_ascii_lowercase) == *b"sep" => Some(*separator),
        _ => None,
    }
}

/// Splits text into rows of raw cells, each with the line where its record
/// starts. A quoted cell that spans lines moves the following rows down by
/// as many lines, as a text editor would number them.
///
/// The csv crate's own `Position::line` cannot be used: it counts the blank
/// lines before a record into the record's start, and with CRLF endings it
/// lags one line behind after a multi-line cell. So the start of each record
/// is found from byte offsets, and line breaks are counted here.
pub(super) fn read_rows(text: &str) -> Result<Vec<(usize, Vec<String>)>, String> {
    let directive = sep_directive(text);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(directive.unwrap_or_else(|| detect_separator(text)))
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let bytes = text.as_bytes();
    let mut lines = LineCounter::default();
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut consumed = 0;
    while reader.read_record(&mut record).map_err(|error| format!("cannot read the file as CSV: {error}"))? {
        // The record starts at the first byte after the previous one that is
        // not a line break (blank lines and the rest of a CRLF).
        let skipped = bytes[consumed..].iter().take_while(|b| matches!(b, b'\r' | b'\n')).count();
        let start = consumed + skipped;
        if !(directive.is_some() && start == 0) {
            rows.push((lines.line_at(bytes, start), record.iter().map(str::to_string).collect()));
        }
        consumed = (reader.position().byte() as usize).min(bytes.len());
    }
    Ok(rows)
}

/// Counts line breaks (`\n`, `\r\n` or a lone `\r`, as old Excel for Mac
/// wrote) up to growing offsets, so the whole file is scanned once.
#[derive(Default)]
struct LineCounter {
    /// The offset counted up to.
    offset: usize,
    /// Line breaks before `offset`.
    breaks: usize,
}

impl LineCounter {
    /// The 1-based line of the byte at `offset` (not less than any earlier one).
    fn line_at(&mut self, bytes: &[u8], offset: usize) -> usize {
        for i in self.offset..offset {
            let lone_cr = bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n');
            if bytes[i] == b'\n' || lone_cr {
                self.breaks += 1;
            }
        }
        self.offset = self.offset.max(offset);
        self.breaks + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_separator_of_the_header_outside_quotes() {
        assert_eq!(detect_separator("rang;nom;prénom\n1,2,3,4,5\n"), b';');
        assert_eq!(detect_separator("rank,last_name,first_name\n"), b',');
        assert_eq!(detect_separator("\"a;b;c\",d,e\n"), b',');
        assert_eq!(detect_separator("\"Hôpital,\nservice\";ville\n1,2,3"), b';');
        assert_eq!(detect_separator("a\tb\tc\n"), b'\t');
        assert_eq!(detect_separator("email\n"), b';');
        assert_eq!(detect_separator("a;b,c\n"), b';');
    }

    #[test]
    fn decodes_utf8_with_or_without_bom_and_windows_1252() {
        assert_eq!(decode(b"\xEF\xBB\xBFpr\xC3\xA9nom").unwrap(), "prénom");
        assert_eq!(decode("prénom".as_bytes()).unwrap(), "prénom");
        let (cp1252, _, _) = WINDOWS_1252.encode("prénom;Hôpital;Œuvre;€");
        assert_eq!(decode(&cp1252).unwrap(), "prénom;Hôpital;Œuvre;€");
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend("rang\tnom".encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(decode(&utf16).unwrap(), "rang\tnom");
    }

    #[test]
    fn refuses_binary_and_blank_files() {
        assert!(decode(b"%PDF-1.4\x00\x01").unwrap_err().contains("not a CSV or XLSX file"));
        assert_eq!(decode(b"\xEF\xBB\xBF \r\n").unwrap_err(), "the file is empty");
    }

    #[test]
    fn numbers_records_by_the_line_they_start_on() {
        let text = "a;b\r\n1;\"two\r\nlines\"\r\n\r\n3;\"x;y\"\r\n";
        let rows = read_rows(text).unwrap();
        let lines: Vec<usize> = rows.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, [1, 2, 5]);
        assert_eq!(rows[1].1, ["1", "two\r\nlines"]);
        assert_eq!(rows[2].1, ["3", "x;y"]);
    }

    #[test]
    fn an_excel_sep_line_sets_the_separator_and_is_not_the_header() {
        let rows = read_rows("sep=,\r\na;b,c\r\n1;2,3\r\n").unwrap();
        assert_eq!(
            rows,
            [(2, vec!["a;b".to_string(), "c".to_string()]), (3, vec!["1;2".to_string(), "3".to_string()])]
        );
        assert_eq!(sep_directive("SEP=;\nx"), Some(b';'));
        assert_eq!(sep_directive("separator;x\n"), None);
    }

    #[test]
    fn blank_lines_and_old_mac_line_ends_keep_lines_right() {
        let lines = |text: &str| read_rows(text).unwrap().iter().map(|(line, _)| *line).collect::<Vec<_>>();
        assert_eq!(lines("a;b\n\n\n3;4\n5;6"), [1, 4, 5]);
        assert_eq!(lines("\n\na;b\n1;\"x\ny\nz\"\n3;4\n"), [3, 4, 7]);
        assert_eq!(lines("a;b\r1;2\r\r3;4\r"), [1, 2, 4]);
    }
}
