//! Every import error of SPEC §4 and issue 2, one test each: the file
//! imports nothing, and the problem comes with its line and names the value.

use super::{assert_one_error, choices, Files};

const INTERN_HEADER: &str = "rang;nom;prénom;DES;courriel;type de choix;procuration\n";

fn intern_errors(rows: &str) -> Vec<choixbot::import::RowError> {
    Files::new().interns(&format!("{INTERN_HEADER}{rows}")).unwrap_err()
}

#[test]
fn a_missing_required_column_is_reported_once_with_its_aliases() {
    let errors = Files::new().posts("n° ARS;postes;ville\n1;1;Paris\n2;1;Paris\n").unwrap_err();
    assert_one_error(&errors, 1, &["missing column \"group\"", "DES", "groupe"]);
    let errors = Files::new().interns("rang;nom;prénom;DES\n1;Dupont;Jean;Pédiatrie\n").unwrap_err();
    assert_one_error(&errors, 1, &["missing column \"email\"", "courriel"]);
}

#[test]
fn places_that_are_not_a_positive_integer_are_refused() {
    for bad in ["0", "-2", "deux", "1,5"] {
        let errors =
            Files::new().posts(&format!("ars_id;group;places\n10;MG;1\n11;MG;\"{bad}\"\n")).unwrap_err();
        assert_one_error(&errors, 3, &[&format!("places {bad:?}")]);
    }
}

#[test]
fn an_invalid_ars_number_is_refused() {
    let errors = Files::new().posts("ars_id;group\n12 34;MG\n").unwrap_err();
    assert_one_error(&errors, 2, &["ARS number \"12 34\""]);
}

#[test]
fn a_duplicate_post_in_one_group_is_refused() {
    let errors = Files::new().posts("ars_id;group;places\n10;MG;1\n10;Pédiatrie;1\n10;MG;2\n").unwrap_err();
    assert_one_error(&errors, 4, &["post 10 is already open to group MG on line 2"]);
}

#[test]
fn every_bad_row_is_reported_in_line_order() {
    let text = "ars_id;group;places\n1;MG;x\n2;MG;1\n3;;1\n2;MG;1\n4;MG;1\n";
    let errors = Files::new().posts(text).unwrap_err();
    let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [2, 4, 5], "{errors:?}");
}

#[test]
fn an_invalid_email_is_refused() {
    let errors =
        intern_errors("1;Dupont;Jean;Pédiatrie;jean@gmail.com;;\n2;Martin;Léa;Pédiatrie;lea.martin@free;;\n");
    assert_one_error(&errors, 3, &["\"lea.martin@free\""]);
}

#[test]
fn a_duplicate_rank_within_a_group_is_refused() {
    let errors = intern_errors(
        "1;Dupont;Jean;Pédiatrie;jean@gmail.com;;\n\
         1;Petit;Noé;Psychiatrie;noe@free.fr;;\n\
         1;Martin;Léa;Pédiatrie;lea@free.fr;;\n",
    );
    assert_one_error(&errors, 4, &["rank 1 is already used in group Pédiatrie by line 2"]);
}

#[test]
fn a_duplicate_email_is_refused_whatever_its_case() {
    let errors = intern_errors(
        "1;Dupont;Jean;Pédiatrie;jean.dupont@gmail.com;;\n\
         1;Dupont;Jeanne;Psychiatrie;Jean.Dupont@Gmail.com;;\n",
    );
    assert_one_error(&errors, 3, &["email jean.dupont@gmail.com is already used by line 2", "Jean Dupont"]);
}

#[test]
fn a_proxy_serving_two_interns_is_refused() {
    let errors = intern_errors(
        "1;Dupont;Jean;Pédiatrie;jean@gmail.com;;parent@orange.fr\n\
         2;Martin;Léa;Pédiatrie;lea@free.fr;;\n\
         3;Dupont;Paul;Pédiatrie;paul@gmail.com;;Parent@Orange.fr\n",
    );
    assert_one_error(&errors, 4, &["proxy email parent@orange.fr already serves Jean Dupont on line 2"]);
}

#[test]
fn a_proxy_who_is_the_intern_is_refused() {
    let errors = intern_errors("1;Dupont;Jean;Pédiatrie;jean@gmail.com;;JEAN@gmail.com\n");
    assert_one_error(&errors, 2, &["proxy email jean@gmail.com is the intern's own email"]);
}

#[test]
fn an_unknown_choice_type_is_refused() {
    let errors = intern_errors(
        "1;Dupont;Jean;Pédiatrie;jean@gmail.com;Surnombre validant;\n2;Martin;Léa;Pédiatrie;lea@free.fr;au tirage;\n",
    );
    assert_one_error(&errors, 3, &["choice type \"au tirage\""]);
}

#[test]
fn a_pre_choice_from_an_unknown_intern_is_refused() {
    let errors = choices("email;choices\njean.dupont@gmail.com;4521\ninconnu@gmail.com;4521\n").unwrap_err();
    assert_one_error(&errors, 3, &["no intern with email inconnu@gmail.com"]);
}

#[test]
fn a_pre_choice_of_a_post_not_open_to_the_group_is_refused() {
    // 4522 is open to Pédiatrie only; Noé Petit is in Psychiatrie.
    let errors = choices("courriel;choix 1;choix 2\nnoe.petit@orange.fr;4521;4522\n").unwrap_err();
    assert_one_error(&errors, 2, &["post 4522 is not open to group Psychiatrie"]);
}

#[test]
fn a_post_twice_in_one_interns_pre_choices_is_refused() {
    let errors = choices("email;vœux\njean.dupont@gmail.com;4521 4522 4521\n").unwrap_err();
    assert_one_error(&errors, 2, &["post 4521 is listed twice (choices 1 and 3)"]);
}

#[test]
fn the_same_intern_twice_in_the_choices_file_is_refused() {
    let errors = choices(
        "email;choices\nlea.martin@free.fr;4521\njean.dupont@gmail.com;4522\nLea.Martin@free.fr;4522\n",
    )
    .unwrap_err();
    assert_one_error(&errors, 4, &["intern lea.martin@free.fr already has pre-choices on line 2"]);
}

#[test]
fn valid_pre_choices_keep_their_order() {
    let choices = choices("email;choice2;choice1\njean.dupont@gmail.com;4522;4521\n").unwrap();
    let wishes: Vec<&str> = choices[0].wishes.iter().map(|w| w.as_str()).collect();
    assert_eq!(wishes, ["4521", "4522"]);
}
