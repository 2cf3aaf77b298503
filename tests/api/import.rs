//! Setting up a session from real files, as the ARS and referents have them:
//! each test writes a file to a temporary directory and reads it back
//! through `read_table` and a `parse_*` function.

use std::path::{Path, PathBuf};

use choixbot::domain::{ChoiceType, Intern, Post};
use choixbot::import::{parse_choices, parse_interns, parse_posts, read_table, RowError};
use encoding_rs::WINDOWS_1252;
use rust_xlsxwriter::Workbook;
use tempfile::TempDir;

/// A temporary directory holding the files of one test.
struct Files {
    /// Removed when the test ends.
    dir: TempDir,
}

impl Files {
    fn new() -> Self {
        Self { dir: tempfile::tempdir().expect("cannot create a temporary directory") }
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).expect("cannot write a test file");
        path
    }

    fn posts(&self, text: &str) -> Result<Vec<Post>, Vec<RowError>> {
        parse_posts(&read_table(&self.write("posts.csv", text.as_bytes())).unwrap())
            .map(|parsed| parsed.posts)
    }

    fn interns(&self, text: &str) -> Result<Vec<Intern>, Vec<RowError>> {
        parse_interns(&read_table(&self.write("interns.csv", text.as_bytes())).unwrap())
    }
}

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples")
}

/// Asserts there is exactly one problem, on `line`, naming every `needle`.
#[track_caller]
fn assert_one_error(errors: &[RowError], line: usize, needles: &[&str]) {
    assert_eq!(errors.len(), 1, "expected one problem, got {errors:?}");
    assert_eq!(errors[0].line, line, "wrong line for {:?}", errors[0].reason);
    for needle in needles {
        assert!(errors[0].reason.contains(needle), "{:?} does not name {needle:?}", errors[0].reason);
    }
}

const INTERNS: &str = "rang;nom;prénom;DES;courriel;type de choix;procuration\n\
                       1;Dupont;Jean;Pédiatrie;jean.dupont@gmail.com;;\n\
                       2;Martin;Léa;Pédiatrie;lea.martin@free.fr;;\n\
                       1;Petit;Noé;Psychiatrie;noe.petit@orange.fr;;maman.petit@yahoo.fr\n";
const POSTS: &str =
    "n° ARS;DES;postes\n4521;Pédiatrie;2\n4522;Pédiatrie;1\n4521;Psychiatrie;1\n7000;Psychiatrie;1\n";

fn choices(text: &str) -> Result<Vec<choixbot::domain::PreChoice>, Vec<RowError>> {
    let files = Files::new();
    let interns = files.interns(INTERNS).unwrap();
    let posts = files.posts(POSTS).unwrap();
    parse_choices(&read_table(&files.write("choices.csv", text.as_bytes())).unwrap(), &interns, &posts)
}

#[test]
fn the_sample_session_imports_cleanly() {
    let posts = parse_posts(&read_table(&samples().join("posts.csv")).unwrap()).unwrap().posts;
    let interns = parse_interns(&read_table(&samples().join("interns.csv")).unwrap()).unwrap();
    let choices =
        parse_choices(&read_table(&samples().join("choices.csv")).unwrap(), &interns, &posts).unwrap();

    assert_eq!(posts.len(), 38);
    assert_eq!(posts.iter().map(|p| p.places).sum::<u32>(), 64);
    assert_eq!(interns.len(), 60);
    let mut groups: Vec<&str> = interns.iter().map(|i| i.group.as_str()).collect();
    groups.dedup();
    assert_eq!(groups, ["Médecine générale", "Pédiatrie", "Psychiatrie"]);
    let count = |t: ChoiceType| interns.iter().filter(|i| i.choice_type == t).count();
    assert_eq!((count(ChoiceType::SurnombreValidant), count(ChoiceType::SurnombreNonValidant)), (2, 2));
    assert_eq!(interns.iter().filter(|i| i.proxy_email.is_some()).count(), 1);
    assert_eq!(choices.len(), 6);
    let shared: Vec<(&str, u32)> =
        posts.iter().filter(|p| p.ars_id.as_str() == "2204").map(|p| (p.group.as_str(), p.places)).collect();
    assert_eq!(shared, [("Médecine générale", 1), ("Pédiatrie", 2)]);
    let quoted = posts.iter().find(|p| p.ars_id.as_str() == "3112").unwrap();
    assert_eq!(quoted.service, "Psychiatrie adulte; secteur 75G14");
}

#[test]
fn reads_utf8_with_a_bom_and_semicolons() {
    let files = Files::new();
    let text = format!("\u{feff}{INTERNS}");
    let interns = parse_interns(&read_table(&files.write("i.csv", text.as_bytes())).unwrap()).unwrap();
    assert_eq!(interns.len(), 3);
    assert_eq!(interns[1].first_name, "Léa");
    assert_eq!(interns[2].proxy_email.as_ref().unwrap().as_str(), "maman.petit@yahoo.fr");
}

#[test]
fn reads_windows_1252_with_commas() {
    let files = Files::new();
    let text = "Rang,Nom,Prénom,DES,Courriel\r\n1,Lefèvre,Hélène,Médecine générale,h.lefevre@orange.fr\r\n";
    let (bytes, _, unmappable) = WINDOWS_1252.encode(text);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&bytes).is_err(), "the test file must not be valid UTF-8");
    let interns = parse_interns(&read_table(&files.write("i.csv", &bytes)).unwrap()).unwrap();
    assert_eq!(interns[0].last_name, "Lefèvre");
    assert_eq!(interns[0].first_name, "Hélène");
    assert_eq!(interns[0].group.as_str(), "Médecine générale");
}

#[test]
fn quoted_multi_line_cells_keep_line_numbers_right() {
    let files = Files::new();
    let text = "ars_id,group,places,service\r\n\
                10,MG,1,\"Urgences, SAU\r\nsecteur nord\r\nbâtiment B\"\r\n\
                11,MG,zéro,Gériatrie\r\n";
    let errors = files.posts(text).unwrap_err();
    assert_one_error(&errors, 5, &["\"zéro\""]);
    let posts = files.posts(&text.replace("zéro", "1")).unwrap();
    assert_eq!(posts[0].service, "Urgences, SAU\r\nsecteur nord\r\nbâtiment B");
}

#[test]
fn blank_rows_junk_columns_and_trailing_separators_are_ignored() {
    let files = Files::new();
    let text = "N° ARS;DES;Remarque;;;\n\n  4521 ; Pédiatrie ;à voir;;;\n;;;;;\n4522;Pédiatrie;;;;\n";
    let posts = files.posts(text).unwrap();
    assert_eq!(posts.len(), 2);
    assert_eq!(
        (posts[0].ars_id.as_str(), posts[0].group.as_str(), posts[0].places),
        ("4521", "Pédiatrie", 1)
    );
}

#[test]
fn reads_xlsx_whose_numbers_are_floats_even_named_csv() {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    for (col, header) in ["N° ARS", "DES", "Nombre de postes", "Hôpital"].iter().enumerate() {
        sheet.write_string(0, col as u16, *header).unwrap();
    }
    sheet.write_number(1, 0, 4521.0).unwrap();
    sheet.write_string(1, 1, "Pédiatrie").unwrap();
    sheet.write_number(1, 2, 2.0).unwrap();
    sheet.write_string(1, 3, "Necker").unwrap();
    sheet.write_number(2, 0, 310.0).unwrap();
    sheet.write_string(2, 1, "Pédiatrie").unwrap();
    let files = Files::new();
    // Renamed by a mail client: the content decides, not the extension.
    let path = files.write("postes.csv", &workbook.save_to_buffer().unwrap());
    let posts = parse_posts(&read_table(&path).unwrap()).unwrap().posts;
    assert_eq!(posts[0].ars_id.as_str(), "4521");
    assert_eq!(posts[0].places, 2);
    assert_eq!(posts[1].ars_id.as_str(), "310");
    assert_eq!(posts[1].places, 1);
}

#[test]
fn xlsx_problems_are_reported_on_excel_row_numbers() {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.write_string(1, 0, "Liste d'appel 2026").unwrap(); // a title above the table
    for (col, header) in ["Rang", "Nom", "Prénom", "DES", "Courriel"].iter().enumerate() {
        sheet.write_string(3, col as u16, *header).unwrap();
    }
    let rows = [(1.0, "jean@gmail.com"), (1.0, "lea@free.fr")];
    for (i, (rank, email)) in rows.iter().enumerate() {
        let row = 4 + i as u32;
        sheet.write_number(row, 0, *rank).unwrap();
        for (col, text) in ["Nom", "Prénom", "Pédiatrie", email].iter().enumerate() {
            sheet.write_string(row, col as u16 + 1, *text).unwrap();
        }
    }
    let files = Files::new();
    let table = read_table(&files.write("liste.xlsx", &workbook.save_to_buffer().unwrap()));
    // The title row is the first non-empty row, so it is taken as the header
    // and the real columns are missing: said on row 2, where Excel shows it.
    let errors = parse_interns(&table.unwrap()).unwrap_err();
    assert!(errors.iter().all(|e| e.line == 2), "{errors:?}");
    assert!(errors[0].reason.contains("missing column \"rank\""), "{errors:?}");

    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    for (col, header) in ["Rang", "Nom", "Prénom", "DES", "Courriel"].iter().enumerate() {
        sheet.write_string(2, col as u16, *header).unwrap();
    }
    for (i, (rank, email)) in rows.iter().enumerate() {
        let row = 3 + i as u32;
        sheet.write_number(row, 0, *rank).unwrap();
        for (col, text) in ["Nom", "Prénom", "Pédiatrie", email].iter().enumerate() {
            sheet.write_string(row, col as u16 + 1, *text).unwrap();
        }
    }
    let table = read_table(&files.write("liste2.xlsx", &workbook.save_to_buffer().unwrap())).unwrap();
    assert_eq!(table.header_line, 3);
    let errors = parse_interns(&table).unwrap_err();
    assert_one_error(&errors, 5, &["rank 1 is already used in group Pédiatrie by line 4"]);
}

#[test]
fn files_that_cannot_be_read_say_why() {
    let files = Files::new();
    let cases: [(&str, &[u8], &str); 4] = [
        ("empty.csv", b"", "the file is empty"),
        ("blank.csv", b"\xEF\xBB\xBF;;\r\n \r\n", "no header row"),
        ("photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a CSV or XLSX file"),
        ("old.xls", &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0], ".xls"),
    ];
    for (name, bytes, reason) in cases {
        let error = read_table(&files.write(name, bytes)).unwrap_err();
        assert!(error.file.ends_with(name), "{error}");
        assert_eq!(error.errors.len(), 1);
        assert!(error.errors[0].reason.contains(reason), "{name}: {:?}", error.errors[0].reason);
    }
    let missing = read_table(&files.dir.path().join("absent.csv")).unwrap_err();
    assert!(missing.errors[0].reason.contains("cannot read"), "{:?}", missing.errors);
}

/// One test per validation error.
mod errors;
