//! Unit tests of the pre-choices checks, on a small call list of two groups.

use super::*;
use crate::domain::{ChoiceType, Rank};

fn intern(rank: u32, email: &str, group: &str, proxy: Option<&str>) -> Intern {
    Intern {
        rank: Rank::new(rank).unwrap(),
        last_name: "Nom".into(),
        first_name: format!("Interne{rank}"),
        group: Group::parse(group).unwrap(),
        email: Email::parse(email).unwrap(),
        choice_type: ChoiceType::Classique,
        proxy_email: proxy.map(|p| Email::parse(p).unwrap()),
    }
}

fn session() -> (Vec<Intern>, Vec<Post>) {
    let interns = vec![
        intern(1, "ped1@x.fr", "Pédiatrie", Some("proxy@x.fr")),
        intern(2, "ped2@x.fr", "Pédiatrie", None),
        intern(1, "psy1@x.fr", "Psychiatrie", None),
    ];
    let posts = vec![
        Post::sample("100", "Pédiatrie"),
        Post::sample("200", "Pédiatrie"),
        Post::sample("200", "Psychiatrie"),
        Post::sample("300", "Psychiatrie"),
    ];
    (interns, posts)
}

fn table(headers: &[&str], rows: &[&[&str]]) -> Table {
    let strings = |cells: &[&str]| cells.iter().map(|c| c.to_string()).collect::<Vec<_>>();
    Table {
        headers: strings(headers),
        rows: rows.iter().enumerate().map(|(i, cells)| (i + 2, strings(cells))).collect(),
        header_line: 1,
    }
}

fn run(headers: &[&str], rows: &[&[&str]]) -> Result<Vec<PreChoice>, Vec<(usize, String)>> {
    let (interns, posts) = session();
    parse(&table(headers, rows), &interns, &posts)
        .map_err(|errors| errors.into_iter().map(|e| (e.line, e.reason)).collect())
}

fn wishes(choice: &PreChoice) -> Vec<&str> {
    choice.wishes.iter().map(ArsId::as_str).collect()
}

#[test]
fn numbered_columns_are_read_in_numeric_order() {
    let choices =
        run(&["Courriel", "Vœu 2", "Vœu 1", "Vœu 10", "Remarque"], &[&["PED1@x.fr", "100", "200", "", "x"]])
            .unwrap();
    assert_eq!(choices[0].email.as_str(), "ped1@x.fr");
    assert_eq!(wishes(&choices[0]), ["200", "100"]);
}

#[test]
fn one_column_may_separate_numbers_with_spaces_commas_or_semicolons() {
    let choices = run(&["email", "choix"], &[&["ped2@x.fr", "200  100"], &["psy1@x.fr", "300,200"]]).unwrap();
    assert_eq!(wishes(&choices[0]), ["200", "100"]);
    assert_eq!(wishes(&choices[1]), ["300", "200"]);
    let choices = run(&["email", "voeux"], &[&["psy1@x.fr", "300 ; 200"]]).unwrap();
    assert_eq!(wishes(&choices[0]), ["300", "200"]);
}

#[test]
fn a_row_without_numbers_gives_no_pre_choice() {
    let choices = run(&["email", "choice1"], &[&["ped1@x.fr"], &["ped2@x.fr", "100"]]).unwrap();
    assert_eq!(choices.len(), 1);
    assert_eq!(choices[0].email.as_str(), "ped2@x.fr");
}

#[test]
fn every_problem_is_reported_in_line_order() {
    let errors = run(
        &["email", "choices"],
        &[
            &["ped1@x.fr", "300"],
            &["nobody@x.fr", "100"],
            &["proxy@x.fr", "100"],
            &["psy1@x.fr", "300 999 300"],
            &["ped1@x.fr", "100"],
        ],
    )
    .unwrap_err();
    assert_eq!(
        errors,
        [
            (2, "post 300 is not open to group Pédiatrie".to_string()),
            (3, "no intern with email nobody@x.fr on the call list".to_string()),
            (4, "proxy@x.fr is the proxy of Interne1 Nom (ped1@x.fr), not an intern: give the intern's own email".to_string()),
            (5, "post 999 is not open to group Psychiatrie: no post has that number".to_string()),
            (5, "post 300 is listed twice (choices 1 and 3)".to_string()),
            (6, "intern ped1@x.fr already has pre-choices on line 2".to_string()),
        ]
    );
}

#[test]
fn the_header_must_say_where_the_choices_are() {
    let errors = run(&["email", "commentaire"], &[]).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert!(errors[0].1.starts_with("missing the choices"), "{}", errors[0].1);
    let errors = run(&["nom", "choix"], &[]).unwrap_err();
    assert!(errors[0].1.starts_with("missing column \"email\""), "{}", errors[0].1);
    let errors = run(&["email", "choix", "choix 1"], &[]).unwrap_err();
    assert!(errors[0].1.contains("keep one layout"), "{}", errors[0].1);
    let errors = run(&["email", "choix 1", "Choice1"], &[]).unwrap_err();
    assert!(errors[0].1.contains("\"choix 1\" and \"Choice1\""), "{}", errors[0].1);
}

#[test]
fn an_empty_choices_file_is_no_pre_choice() {
    assert_eq!(run(&["email", "choices"], &[]).unwrap(), []);
}
