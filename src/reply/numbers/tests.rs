use super::choice_numbers;

fn numbers(text: &str) -> Vec<String> {
    choice_numbers(text)
}

#[test]
fn the_list_forms_of_the_issue_are_read() {
    assert_eq!(numbers("1234\n5678\n9"), ["1234", "5678", "9"]);
    assert_eq!(numbers("1) 1234\n2) 5678\n3. 9012"), ["1234", "5678", "9012"]);
    assert_eq!(numbers("Choix 1 : 1234 – Bichat\nVœu 2 : 5678\n1er choix : 9012"), ["1234", "5678", "9012"]);
    assert_eq!(numbers("n°1234 > n°5678"), ["1234", "5678"]);
    assert_eq!(numbers("1234, 5678 et 9012"), ["1234", "5678", "9012"]);
    assert_eq!(numbers("3301;2345"), ["3301", "2345"]);
    assert_eq!(numbers("1234 – Hôpital Bichat service 2"), ["1234"]);
    assert_eq!(numbers("Je prends 1234 puis 5678."), ["1234", "5678"]);
}

#[test]
fn numbers_that_are_not_choices_are_ignored() {
    assert!(numbers("Tél : 01 44 02 03 60 poste 4521").is_empty());
    assert!(numbers("06.12.34.56.78\n+33 6 12 34 56 78").is_empty());
    assert!(numbers("le 4/05, le 04/05/2020, le 3 novembre 2020").is_empty());
    assert!(numbers("à 8h30 ou 09:12").is_empty());
    assert!(numbers("12 rue de la Paix\n75002 Paris").is_empty());
    assert!(numbers("3 cité Falguière").is_empty());
    assert!(numbers("pour le semestre d'été 2020").is_empty());
    assert!(numbers("Paris 20e, mes 3 choix").is_empty());
}

#[test]
fn regression_a_short_choice_with_a_label_is_not_a_list_ordinal() {
    assert_eq!(numbers("12 – CH Sud Francilien – Pédiatrie (Corbeil-Essonnes) – 1 poste"), ["12"]);
}

#[test]
fn regression_a_list_typed_on_one_line_keeps_its_ordinals_out() {
    assert_eq!(numbers("Mes choix : 1) 1204 2) 1211 3) 1315"), ["1204", "1211", "1315"]);
    assert_eq!(numbers("1. 1204 2. 1211 3. n°1315"), ["1204", "1211", "1315"]);
    // A short choice followed by its label is still a choice.
    assert_eq!(numbers("1204, 12 (Corbeil)"), ["1204", "12"]);
}

#[test]
fn regression_puis_le_after_a_choice_with_words_is_read() {
    assert_eq!(numbers("Je souhaite le 1204 en premier, puis le 1211."), ["1204", "1211"]);
    assert_eq!(numbers("le 1204 d'abord, ensuite la 1211 et enfin le 1315"), ["1204", "1211", "1315"]);
    // A number in a label, without an article, is still label.
    assert_eq!(numbers("1234 – Sainte-Anne, secteur 15, Paris"), ["1234"]);
}

#[test]
fn regression_hash_ordinals_ranks_and_quantities_are_not_choices() {
    assert_eq!(numbers("#1 1204 #2 1211"), ["1204", "1211"]);
    assert_eq!(numbers("#1204 #1211"), ["1204", "1211"]);
    assert_eq!(numbers("Pour rappel mon rang est 45. Choix: 1204"), ["1204"]);
    assert_eq!(numbers("classement : 45"), Vec::<String>::new());
    // "Rang" used for the order of preference still works.
    assert_eq!(numbers("Rang 1 : 1204, rang 2 : 1211"), ["1204", "1211"]);
    assert_eq!(numbers("Désolée pour le retard ! 1) 1204 (2 places) 2) 1211"), ["1204", "1211"]);
    assert_eq!(numbers("1204 (1 poste), 1211"), ["1204", "1211"]);
}

#[test]
fn regression_a_count_of_places_after_a_comma_is_not_a_choice() {
    assert_eq!(numbers("la 1204 (Bichat, 2 postes) puis la 1211"), ["1204", "1211"]);
    assert_eq!(numbers("1204 – Bichat, 3 places\n1211"), ["1204", "1211"]);
    assert_eq!(numbers("1204, 1 Poste, 1211"), ["1204", "1211"]);
    // A marker then a number is still the number of a post.
    assert_eq!(numbers("1204, poste 1211"), ["1204", "1211"]);
}

#[test]
fn regression_a_post_named_in_a_negation_is_not_a_choice() {
    assert_eq!(numbers("Je ne veux plus le 1204. Mes choix : 1211, 1315"), ["1211", "1315"]);
    assert_eq!(numbers("Pas le 1204 mais le 1211"), ["1211"]);
    assert_eq!(numbers("tous sauf n°1204"), Vec::<String>::new());
    assert_eq!(numbers("ni la 1204 ni la 1211, seulement 1315"), ["1315"]);
    // "plus" without "ne" adds a post.
    assert_eq!(numbers("1204, et en plus le 1211"), ["1204", "1211"]);
    assert_eq!(numbers("Je ne sais pas trop, en plus le 1211"), ["1211"]);
    // A negation further away does not reach the number.
    assert_eq!(numbers("Je ne sais pas encore, mais 1204 puis 1211"), ["1204", "1211"]);
}

#[test]
fn keycap_emoji_are_ordinals() {
    assert_eq!(choice_numbers("1\u{FE0F}\u{20E3} 1204\n2\u{FE0F}\u{20E3} 1211"), ["1204", "1211"]);
}

#[test]
fn a_pasted_table_with_the_rank_first_gives_the_posts() {
    assert_eq!(choice_numbers("Rang\tN° ARS\tHôpital\n1\t1204\tBichat\n2\t1211\tBichat"), ["1204", "1211"]);
    assert_eq!(choice_numbers("N° ARS\tHôpital\tRang\n1204\tBichat\t1\n1211\tBichat\t2"), ["1204", "1211"]);
}

#[test]
fn every_number_not_taken_is_set_aside_with_its_reason() {
    let read = super::read_numbers(
        "1) 1204\n2) 1211 (2 places)\nJoignable au 06 12 34 56 78, poste 1315. Pas le 1408.",
    );
    assert_eq!(read.choices, ["1204", "1211"]);
    let aside: Vec<(&str, &str)> = read.aside.iter().map(|(n, why)| (n.as_str(), *why)).collect();
    assert_eq!(
        aside,
        [
            ("1", "a list ordinal"),
            ("2", "a list ordinal"),
            ("2", "a count of places"),
            ("06 12 34 56 78", "a phone number"),
            ("poste 1315", "a phone extension"),
            ("1408", "excluded by a negation"),
        ]
    );
}

#[test]
fn a_withdrawn_post_is_not_a_choice() {
    assert_eq!(
        choice_numbers("Finalement je retire le 1043, je garde seulement 2345 puis 2210."),
        ["2345", "2210"]
    );
    assert_eq!(choice_numbers("Enlevez le 1043 de ma liste : 2345, 2210"), ["2345", "2210"]);
}

#[test]
fn the_order_said_in_words_is_followed() {
    let ordered = |text: &str| {
        let mut read = super::read_numbers(text);
        read.follow_said_order();
        read.choices
    };
    assert_eq!(ordered("1204 en dernier, 1211 en premier"), ["1211", "1204"]);
    assert_eq!(ordered("2210 en troisième, 1043 en premier, 2345 en second"), ["1043", "2345", "2210"]);
    assert_eq!(ordered("1043, 2345 en premier, 2210"), ["2345", "1043", "2210"]);
    assert_eq!(ordered("1043 en premier puis 2345"), ["1043", "2345"]);
    assert_eq!(ordered("1043, 2345"), ["1043", "2345"]);
}

#[test]
fn a_question_chooses_nothing_unless_it_is_answered() {
    assert!(choice_numbers("Le 1234 est-il encore libre ?").is_empty());
    assert_eq!(choice_numbers("Le 1234 est-il encore libre ?\nMes choix : 2345, 3301."), ["2345", "3301"]);
    assert_eq!(choice_numbers("Le 1234 est-il encore libre ? Sinon je prends 5678."), ["1234", "5678"]);
    assert_eq!(
        choice_numbers("1234 ?"),
        ["1234"],
        "a lone number with a question mark is unsure, not a question"
    );
}

#[test]
fn a_withdrawal_after_the_list_takes_the_post_out() {
    assert_eq!(choice_numbers("1234\n2345\n3301\nJe retire le 2345."), ["1234", "3301"]);
    assert_eq!(choice_numbers("Pas le 2345. Je veux le 1234."), ["1234"]);
}
