//! Doubt: words of the intern's own text that may change what its numbers
//! mean, and which the number grammar does not read. "Finalement je retire
//! le 1043", "en fait non, mettez le 2345 en premier", "si le 2210 est
//! pris, alors le 1043", "le 1043 est-il encore libre ?": the numbers are
//! found, but not what the intern did with them. A confident misreading is
//! six months in the wrong post; a reading flagged as uncertain is safe,
//! since the intern is asked to check it.
//!
//! Each doubt is one short French sentence quoting the words that caused
//! it (the intern reads it in the confirmation). The cues are matched on
//! the text without accents and in lower case, by whole words ([`fold`]).

use crate::domain::ArsId;

/// What kind of words raise a doubt, and the sentence that says so.
struct Cue {
    /// Phrases, folded (see [`fold`]), matched as whole words.
    phrases: &'static [&'static str],
    /// What the doubt says about the quoted words.
    says: &'static str,
    /// Whether the sentence must hold a number read as a choice: "sauf le
    /// 4/05" in a sentence about a phone is no withdrawal of a wish, but
    /// "en fait, inversez les deux" corrects the list without a number.
    about_a_choice: bool,
}

const CUES: &[Cue] = &[
    Cue {
        phrases: &[
            "retire",
            "retirer",
            "enleve",
            "enlever",
            "supprime",
            "supprimer",
            "sauf",
            "plus le",
            "plus la",
            "ne veux plus",
            "finalement pas",
            "pas le",
            "pas la",
            "annule",
            "remove",
            "except",
            "not",
            "no longer",
            "instead of",
        ],
        says: "un vœu retiré ou écarté ?",
        about_a_choice: true,
    },
    Cue {
        phrases: &[
            "en fait",
            "finalement",
            "plutot",
            "non mettez",
            "je me suis trompe",
            "je me suis trompee",
            "erreur",
            "correction",
            "je corrige",
            "actually",
            "instead",
            "sorry",
        ],
        says: "une correction de ce qui précède ?",
        about_a_choice: false,
    },
    Cue {
        phrases: &[
            "en premier",
            "en second",
            "en deuxieme",
            "en troisieme",
            "en dernier",
            "en priorite",
            "avant le",
            "apres le",
            "avant la",
            "apres la",
            "first",
            "last",
        ],
        says: "un ordre dit en mots, qui peut différer de l'ordre écrit ?",
        about_a_choice: true,
    },
    Cue {
        phrases: &["si le", "si la", "s il", "au cas ou", "sinon", "a defaut", "if"],
        says: "un choix sous condition ?",
        about_a_choice: true,
    },
];

/// Each cue's phrases as they appear in a normalised key: `_en_fait_`.
static PATTERNS: once_cell::sync::Lazy<Vec<Vec<String>>> = once_cell::sync::Lazy::new(|| {
    CUES.iter()
        .map(|cue| cue.phrases.iter().map(|p| format!("_{}_", p.replace(' ', "_"))).collect())
        .collect()
});

/// The longest quotation kept in a doubt.
const MAX_QUOTE: usize = 120;

/// The doubts the intern's own text raises about the `choices` read from
/// it (empty when the reading is sure), one per sentence and kind of cue.
/// `withdrawn` are the numbers first chosen, then withdrawn by later words:
/// the sentence that withdrew them is doubted as if they were chosen.
pub(crate) fn doubts(own_text: &str, choices: &[ArsId], withdrawn: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for sentence in sentences(own_text) {
        let holds_a_choice = digit_runs(sentence)
            .any(|run| choices.iter().any(|c| c.as_str() == run) || withdrawn.contains(&run));
        let key = fold(sentence);
        for (cue, patterns) in CUES.iter().zip(PATTERNS.iter()) {
            if (holds_a_choice || !cue.about_a_choice)
                && patterns.iter().any(|pattern| key.contains(pattern.as_str()))
            {
                out.push(format!("« {} » : {}", quote(sentence), cue.says));
            }
        }
        if sentence.trim_end().ends_with('?') && holds_a_choice {
            out.push(format!("« {} » : une question, plutôt qu'un choix ?", quote(sentence)));
        }
    }
    out.dedup();
    out
}

/// Where a self-correction starts over: the last sentence, after another
/// that holds a number, that opens with "en fait", "finalement", "non",
/// "correction", "je me suis trompé(e)"… and holds a number itself, unless
/// it adds to the list ("en fait j'ajoute le 1408"). Gives its byte offset
/// in `text` and the sentence. The list is read from there: "Je voudrais
/// le 1043 en premier. En fait non, mettez le 2345 en premier puis le
/// 1043." means 2345, 1043.
pub(crate) fn correction_start(text: &str) -> Option<(usize, &str)> {
    const OPENINGS: &[&str] = &[
        "_en_fait_",
        "_finalement_",
        "_non_",
        "_correction_",
        "_je_corrige_",
        "_je_me_suis_trompe",
        "_pardon_",
        "_ou_plutot_",
        "_ah_non_",
        "_oh_non_",
        "_euh_",
        "_plutot_",
        "_erreur_",
        "_je_voulais_dire_",
        "_rectification_",
        "_oups_",
        "_actually_",
        "_sorry_",
    ];
    const ADDITIONS: &[&str] = &["_ajoute_", "_rajoute_", "_aussi_", "_egalement_", "_en_plus_", "_ajoutez_"];
    let mut numbered_before = false;
    let mut start = None;
    for sentence in sentences(text) {
        let numbered = digit_runs(sentence).next().is_some();
        let key = fold(sentence);
        let corrects = OPENINGS.iter().any(|opening| key.starts_with(opening))
            && !ADDITIONS.iter().any(|addition| key.contains(addition));
        if numbered && corrects && numbered_before {
            start = Some((sentence.as_ptr() as usize - text.as_ptr() as usize, sentence));
        }
        numbered_before |= numbered;
    }
    start
}

/// The sentences of `text`: cut at line ends and at `.`, `!`, `?` followed
/// by a space (not inside "n°2.345" or "1.5"), keeping the mark.
fn sentences(text: &str) -> impl Iterator<Item = &str> {
    text.lines().flat_map(|line| {
        let mut parts = Vec::new();
        let mut start = 0;
        let bytes = line.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            let ends = matches!(b, b'.' | b'!' | b'?') && bytes.get(i + 1).map_or(true, |next| *next == b' ');
            if ends {
                parts.push(&line[start..=i]);
                start = i + 1;
            }
        }
        parts.push(&line[start..]);
        parts.into_iter().map(str::trim).filter(|part| part.chars().any(char::is_alphanumeric))
    })
}

/// `sentence` as the cues are written: lower case, the accents of French
/// removed, each run of other characters one `_`, with a `_` at both ends
/// ("_en_fait_non_mettez_…_"). What [`normalize_key`] does, without its
/// Unicode decomposition, which cost a third of a typical reply's reading.
fn fold(sentence: &str) -> String {
    let mut key = String::with_capacity(sentence.len() + 2);
    key.push('_');
    for c in sentence.chars() {
        let c = match c {
            'à' | 'â' | 'ä' | 'À' | 'Â' | 'Ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => 'e',
            'î' | 'ï' | 'Î' | 'Ï' => 'i',
            'ô' | 'ö' | 'Ô' | 'Ö' => 'o',
            'ù' | 'û' | 'ü' | 'Ù' | 'Û' | 'Ü' => 'u',
            'ç' | 'Ç' => 'c',
            other => other,
        };
        if c.is_alphanumeric() {
            key.extend(c.to_lowercase());
        } else if !key.ends_with('_') {
            key.push('_');
        }
    }
    if !key.ends_with('_') {
        key.push('_');
    }
    key
}

/// The runs of ASCII digits of `text`.
fn digit_runs(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_ascii_digit()).filter(|run| !run.is_empty())
}

fn quote(sentence: &str) -> String {
    let sentence = sentence.trim();
    if sentence.chars().count() <= MAX_QUOTE {
        return sentence.to_string();
    }
    let cut: String = sentence.chars().take(MAX_QUOTE - 1).collect();
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use crate::domain::ArsId;

    /// The doubts of `text`, with every number of it read as a choice.
    fn doubts(text: &str) -> Vec<String> {
        let choices: Vec<ArsId> = super::digit_runs(text).filter_map(|n| ArsId::parse(n).ok()).collect();
        super::doubts(text, &choices, &[])
    }

    #[test]
    fn words_about_numbers_that_are_no_choice_raise_no_doubt() {
        let text = "Je suis joignable au 06.12.34.56.78, sauf le 4/05.";
        assert!(super::doubts(text, &[ArsId::parse("1043").unwrap()], &[]).is_empty());
    }

    #[test]
    fn folding_drops_accents_case_and_punctuation() {
        assert_eq!(super::fold("En fait, NON : mettez-le après !"), "_en_fait_non_mettez_le_apres_");
        assert_eq!(super::fold("Plutôt le n°2.345"), "_plutot_le_n_2_345_");
    }

    #[test]
    fn a_plain_list_raises_no_doubt() {
        for text in
            ["1043\n2345\n2210", "Mes vœux : 1043, 2345 puis 2210. Merci !", "1) 1043 – Bichat\n2) 2345"]
        {
            assert!(doubts(text).is_empty(), "{text}: {:?}", doubts(text));
        }
    }

    #[test]
    fn withdrawals_corrections_order_words_conditions_and_questions_raise_a_doubt_quoting_them() {
        let cases = [
            ("Finalement je retire le 1043, je garde seulement 2345 puis 2210.", "retiré"),
            (
                "Je voudrais le 1043 en premier. En fait non, mettez le 2345 en premier puis le 1043.",
                "correction",
            ),
            ("Je voudrais le 1043 en premier.", "ordre dit en mots"),
            ("Si le 2210 est pris, alors le 1043.", "sous condition"),
            ("Le 1043 est-il encore libre ?", "question"),
            ("2345, 1043 — not 2210", "retiré"),
        ];
        for (text, kind) in cases {
            let found = doubts(text);
            assert!(found.iter().any(|d| d.contains(kind)), "{text}: {found:?}");
            assert!(found.iter().all(|d| d.starts_with("« ") && d.contains(" » : ")), "{found:?}");
        }
    }

    #[test]
    fn a_correction_starts_the_list_over_unless_it_adds_to_it() {
        let text = "Je voudrais le 1043 en premier. En fait non, mettez le 2345 en premier puis le 1043.";
        let (start, sentence) = super::correction_start(text).expect("a correction");
        assert_eq!(&text[start..], sentence);
        assert!(sentence.starts_with("En fait non"));
        assert!(super::correction_start("1043, 2345. En fait, j'ajoute le 2210 en dernier.").is_none());
        assert!(
            super::correction_start("Finalement je retire le 1043, je garde 2345.").is_none(),
            "nothing before"
        );
        assert!(
            super::correction_start("1043\n2345\nMerci, finalement c'est simple.").is_none(),
            "no number"
        );
    }

    #[test]
    fn a_decimal_or_numero_point_does_not_cut_a_sentence() {
        let found = doubts("Je prends le n°2.345 si le 1043 est pris");
        assert_eq!(found, ["« Je prends le n°2.345 si le 1043 est pris » : un choix sous condition ?"]);
    }
}
