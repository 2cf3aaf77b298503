//! The consolidated list for the ARS (SPEC §8): the CSV reads back to the
//! allocation, the XLSX opens with calamine and says the same, the summary
//! names the interns left without a post.

use std::collections::HashMap;
use std::io::Cursor;

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};

use choixbot::allocation::{allocate, Allocation, AllocationInput, Status, Vacancy};
use choixbot::ars_list::{
    status_label, summary, to_csv, to_xlsx, ListInput, ASSIGNMENTS_SHEET, HEADERS, VACANT_HEADERS,
    VACANT_TITLE,
};
use choixbot::domain::{ArsId, ChoiceType, Email, Group, Intern, Post, Rank};

/// A small session with every case: a post with a leading zero, a name
/// with `;` and `"`, a supernumerary, an absent and an unassigned intern.
struct Fixture {
    /// The posts.
    posts: Vec<Post>,
    /// The interns.
    interns: Vec<Intern>,
    /// Their allocation.
    allocation: Allocation,
}

impl Fixture {
    fn new() -> Self {
        let post = |ars: &str, group: &str, places, hospital: &str, service: &str| Post {
            ars_id: ArsId::parse(ars).unwrap(),
            group: Group::parse(group).unwrap(),
            places,
            hospital: hospital.into(),
            service: service.into(),
            city: "Paris".into(),
        };
        let posts = vec![
            post("0123", "Pédiatrie", 1, "Necker", "Néonatologie"),
            post("4521", "Pédiatrie", 2, "Robert-Debré", "Urgences; pédiatriques"),
            post("0123", "Cardiologie", 1, "Necker", "Cardiologie congénitale"),
            post("77", "Cardiologie", 1, "Bichat", "Rythmologie"),
        ];
        let people = [
            ("Dupont; \"Jr\"", "Jean", "Pédiatrie", 1, ChoiceType::Classique, vec!["0123"]),
            ("Martin", "Léa", "Pédiatrie", 2, ChoiceType::Classique, vec!["0123", "4521"]),
            ("N'Diaye", "Awa", "Pédiatrie", 3, ChoiceType::SurnombreNonValidant, vec!["0123"]),
            ("Absente", "Inès", "Pédiatrie", 4, ChoiceType::Classique, vec![]),
            ("Bernard", "Hugo", "Cardiologie", 1, ChoiceType::Classique, vec!["77"]),
            ("Lefèvre", "Zoé", "Cardiologie", 2, ChoiceType::Classique, vec!["77"]),
        ];
        let mut interns = Vec::new();
        let mut wishes = HashMap::new();
        for (index, (last, first, group, rank, kind, list)) in people.into_iter().enumerate() {
            let email = Email::parse(&format!("interne{index}@ex.fr")).unwrap();
            interns.push(Intern {
                rank: Rank::new(rank).unwrap(),
                last_name: last.into(),
                first_name: first.into(),
                group: Group::parse(group).unwrap(),
                email: email.clone(),
                choice_type: kind,
                proxy_email: None,
            });
            wishes.insert(email, list.iter().map(|w| ArsId::parse(w).unwrap()).collect::<Vec<_>>());
        }
        let allocation = allocate(AllocationInput {
            posts: &posts,
            interns: &interns,
            wishes: &wishes,
            supernumerary_cap: 1,
        });
        Self { posts, interns, allocation }
    }

    fn input(&self) -> ListInput<'_> {
        ListInput {
            session_name: "Semestre d'été 2020",
            posts: &self.posts,
            interns: &self.interns,
            allocation: &self.allocation,
        }
    }

    fn intern(&self, email: &Email) -> &Intern {
        self.interns.iter().find(|i| &i.email == email).unwrap()
    }

    fn post(&self, ars_id: &ArsId, group: &Group) -> &Post {
        self.posts.iter().find(|p| &p.ars_id == ars_id && &p.group == group).unwrap()
    }

    /// The line the list should have for each intern, in the allocation's
    /// order, written from the fixture's own data.
    fn expected_lines(&self) -> Vec<Vec<String>> {
        let mut lines = Vec::new();
        for a in &self.allocation.assignments {
            let intern = self.intern(&a.email);
            let post = a.ars_id.as_ref().map(|id| self.post(id, &a.group));
            lines.push(vec![
                a.rank.to_string(),
                intern.last_name.clone(),
                intern.first_name.clone(),
                a.group.to_string(),
                intern.choice_type.label().to_string(),
                a.ars_id.as_ref().map(ToString::to_string).unwrap_or_default(),
                post.map(|p| p.hospital.clone()).unwrap_or_default(),
                post.map(|p| p.service.clone()).unwrap_or_default(),
                status_label(a.status).to_string(),
            ]);
        }
        lines
    }

    fn expected_vacancies(&self) -> Vec<Vec<String>> {
        let fields = |v: &Vacancy| {
            let p = self.post(&v.ars_id, &v.group);
            vec![
                v.ars_id.to_string(),
                v.group.to_string(),
                p.hospital.clone(),
                p.service.clone(),
                p.city.clone(),
                v.places_left.to_string(),
            ]
        };
        self.allocation.vacancies.iter().map(fields).collect()
    }
}

/// The records of the CSV, BOM removed, empty line skipped.
fn read_csv(bytes: &[u8]) -> Vec<Vec<String>> {
    let text = std::str::from_utf8(bytes).expect("UTF-8").strip_prefix('\u{feff}').expect("a BOM");
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .flexible(true)
        .has_headers(false)
        .from_reader(text.as_bytes());
    reader.records().map(|r| r.unwrap().iter().map(str::to_string).collect()).collect()
}

#[test]
fn the_fixture_has_every_status() {
    let f = Fixture::new();
    for status in [Status::Assigned, Status::Surnombre, Status::Absent, Status::Unassigned] {
        assert!(f.allocation.assignments.iter().any(|a| a.status == status), "no {status:?}");
    }
    assert!(!f.allocation.vacancies.is_empty());
}

#[test]
fn csv_starts_with_a_bom_and_has_french_headers_with_semicolons_and_crlf() {
    let bytes = to_csv(Fixture::new().input());
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "no UTF-8 BOM");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    assert!(text.starts_with("rang;nom;prénom;DES;type de choix;n° ARS;hôpital;service;statut\r\n"));
    assert_eq!(text.matches('\n').count(), text.matches("\r\n").count(), "a line ends without CR");
    assert!(text.ends_with("\r\n"));
}

#[test]
fn csv_reads_back_to_the_allocation() {
    let f = Fixture::new();
    let records = read_csv(&to_csv(f.input()));
    let title = records.iter().position(|r| r == &[VACANT_TITLE]).expect("no vacant posts section");
    assert_eq!(records[0], HEADERS);
    assert_eq!(records[1..title], f.expected_lines());
    assert_eq!(records[title + 1], VACANT_HEADERS);
    assert_eq!(records[title + 2..], f.expected_vacancies());
}

#[test]
fn csv_quotes_a_name_with_a_semicolon_and_a_double_quote() {
    let f = Fixture::new();
    let bytes = to_csv(f.input());
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.contains("\r\n1;\"Dupont; \"\"Jr\"\"\";Jean;Pédiatrie;"), "{text}");
    assert!(text.contains("\"Urgences; pédiatriques\""));
    assert!(read_csv(&bytes).iter().any(|r| r[1] == "Dupont; \"Jr\""));
}

#[test]
fn csv_lists_absent_and_unassigned_interns_with_empty_post_columns() {
    let records = read_csv(&to_csv(Fixture::new().input()));
    let absent = records.iter().find(|r| r[1] == "Absente").unwrap();
    assert_eq!(absent[5..], ["", "", "", "absent(e)"]);
    let unassigned = records.iter().find(|r| r[1] == "Lefèvre").unwrap();
    assert_eq!(unassigned[5..], ["", "", "", "non affecté(e) (vœux épuisés)"]);
}

fn open(bytes: &[u8]) -> Xlsx<Cursor<Vec<u8>>> {
    open_workbook_from_rs(Cursor::new(bytes.to_vec())).expect("calamine opens the XLSX")
}

/// A sheet as text rows, numbers printed as Rust prints them (`1`, not `1.0`).
fn sheet(bytes: &[u8], name: &str) -> Vec<Vec<String>> {
    let range = open(bytes).worksheet_range(name).unwrap_or_else(|e| panic!("no sheet {name}: {e}"));
    let cell = |data: &Data| match data {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(x) => format!("{x}"),
        Data::Int(x) => x.to_string(),
        other => panic!("unexpected cell {other:?}"),
    };
    let width = range.width();
    range.rows().map(|row| (0..width).map(|c| row.get(c).map(cell).unwrap_or_default()).collect()).collect()
}

#[test]
fn xlsx_opens_with_calamine_and_matches_the_allocation() {
    let f = Fixture::new();
    let bytes = to_xlsx(f.input()).unwrap();
    assert_eq!(open(&bytes).sheet_names(), [ASSIGNMENTS_SHEET, VACANT_TITLE]);
    let assignments = sheet(&bytes, ASSIGNMENTS_SHEET);
    assert_eq!(assignments[0], HEADERS);
    assert_eq!(assignments[1..], f.expected_lines());
    let vacancies = sheet(&bytes, VACANT_TITLE);
    assert_eq!(vacancies[0], VACANT_HEADERS);
    assert_eq!(vacancies[1..], f.expected_vacancies());
}

#[test]
fn xlsx_keeps_the_leading_zero_of_an_ars_number_as_text() {
    let bytes = to_xlsx(Fixture::new().input()).unwrap();
    let range = open(&bytes).worksheet_range(ASSIGNMENTS_SHEET).unwrap();
    let ars_column = HEADERS.iter().position(|h| *h == "n° ARS").unwrap();
    let dupont = range.rows().find(|row| row[1] == Data::String("Dupont; \"Jr\"".into())).unwrap();
    assert_eq!(dupont[ars_column], Data::String("0123".into()));
    assert_eq!(dupont[0], Data::Float(1.0), "the rank is a number");
}

#[test]
fn summary_names_each_intern_left_without_a_post() {
    let f = Fixture::new();
    let text = summary(f.input());
    assert!(text.contains("Semestre d'été 2020"));
    let absent = text.split("Internes absent(e)s").nth(1).unwrap().split("\n\n").next().unwrap();
    assert!(absent.contains("Absente Inès") && absent.contains("rang 4"), "{text}");
    assert!(!absent.contains("Martin"), "an assigned intern listed as absent:\n{text}");
    let unassigned = text.split("vœux épuisés) :").nth(1).unwrap();
    assert!(unassigned.contains("Lefèvre Zoé"), "{text}");
    let pediatrics = text.lines().find(|l| l.starts_with("- Pédiatrie :")).unwrap();
    let counts = "4 interne(s), 2 affecté(e)(s), 1 en surnombre, 1 absent(e)(s), 0 non affecté(e)(s), \
                  1 place(s) restante(s)";
    assert!(pediatrics.ends_with(counts), "{pediatrics}");
}

#[test]
fn a_large_session_lists_every_intern_once() {
    let session = choixbot::synthetic::session(2_000, 2_400, 6, 5);
    let allocation = allocate(session.input(1));
    let input = ListInput {
        session_name: "S",
        posts: &session.posts,
        interns: &session.interns,
        allocation: &allocation,
    };
    let records = read_csv(&to_csv(input));
    let title = records.iter().position(|r| r == &[VACANT_TITLE]).unwrap();
    let mut keys: Vec<(String, String)> =
        records[1..title].iter().map(|r| (r[3].clone(), r[0].clone())).collect();
    assert_eq!(keys.len(), session.interns.len());
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), session.interns.len(), "an intern listed twice");
    let absent = allocation.assignments.iter().filter(|a| a.status == Status::Absent).count();
    assert!(absent > 0);
    let text = summary(input);
    let section = text.split("Internes absent(e)s").nth(1).unwrap().split("\n\n").next().unwrap();
    assert_eq!(section.lines().filter(|l| l.starts_with("- ")).count(), absent);
}
