//! Cutting a line into the tokens the number grammar reads.

/// One token of a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Token {
    /// A run of ASCII digits (byte span in the line).
    Number {
        /// First byte.
        start: usize,
        /// One past the last byte.
        end: usize,
    },
    /// A word (letters, or digits glued to letters like "20e", "1er", "8h").
    Word {
        /// It starts with a lower-case letter.
        lowercase: bool,
        /// It separates list items: "et", "puis", "and"…
        separator: bool,
        /// A definite article or contraction ("le", "la", "du", "au"):
        /// in French prose "le 1234" names a post.
        determiner: bool,
        /// A verb of choosing or a consequence ("je prends", "mettez",
        /// "alors"): the number right after it is a choice, whatever else
        /// the line holds.
        chooses: bool,
        /// An ordinal adjective ("premier", "2e", "dernier"): "premier
        /// choix 1234" names the choice, where "choix 1" is an ordinal.
        ranks: bool,
        /// What the word does to a number that it negates.
        negation: Negation,
    },
    /// "n°", "no", "numéro", "#", "ARS", "poste": announces a number.
    Marker,
    /// "choix", "vœu"…: the number right after it is an ordinal.
    OrdinalWord,
    /// "rang", "classement"…: the intern's rank. A number after it, even
    /// after ":", "=" or "est", is that rank, never a choice.
    RankWord,
    /// Any other character that is not a space.
    Punct(char),
}

/// The part a word plays in a negation: "je ne veux plus le 1234", "pas
/// le 1234", "sauf 1234" name a post the intern does not want.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Negation {
    /// Not part of a negation.
    None,
    /// "ne", "n'": opens a French negation, which a later "plus" closes.
    Ne,
    /// "pas", "sauf", "jamais", "ni"…: negates the post named right after.
    Negates,
    /// "plus": negates the post after it only after a "ne" ("je ne veux
    /// plus le 1234"), since "en plus le 1234" adds it.
    NegatesAfterNe,
}

/// Words after which the post named is not wanted: negations, and the
/// verbs of withdrawing ("je retire le 1234", "enlevez le 1234").
const NEGATIONS: &[&str] = &[
    "pas",
    "sauf",
    "jamais",
    "ni",
    "hormis",
    "excepté",
    "excepte",
    "sans",
    "non",
    "not",
    "except",
    "retire",
    "retirez",
    "retirer",
    "enlève",
    "enleve",
    "enlevez",
    "enlever",
    "supprime",
    "supprimez",
    "supprimer",
    "annule",
    "annulez",
    "remove",
    "drop",
];

const SEPARATORS: &[&str] = &["et", "puis", "ou", "and", "then", "or", "ensuite", "enfin", "sinon"];
const DETERMINERS: &[&str] = &["le", "la", "l", "du", "au", "the"];
const CHOOSING: &[&str] = &[
    "prends",
    "prendrai",
    "prendrais",
    "choisis",
    "choisirai",
    "choisirais",
    "veux",
    "voudrais",
    "souhaite",
    "souhaiterais",
    "mets",
    "mettez",
    "mettre",
    "garde",
    "gardez",
    "alors",
    "take",
    "want",
    "choose",
];
const ORDINAL_ADJECTIVES: &[&str] = &[
    "premier",
    "première",
    "premiere",
    "deuxième",
    "deuxieme",
    "second",
    "seconde",
    "troisième",
    "troisieme",
    "quatrième",
    "quatrieme",
    "cinquième",
    "cinquieme",
    "dernier",
    "dernière",
    "derniere",
    "first",
    "third",
    "last",
];

/// "2e", "3ème", "1er", "2nd": a number glued to an ordinal suffix.
fn is_numbered_ordinal(word: &str) -> bool {
    let digits = word.chars().take_while(char::is_ascii_digit).count();
    digits > 0
        && matches!(
            &word[digits..],
            "e" | "er" | "ère" | "ere" | "ème" | "eme" | "nd" | "nde" | "st" | "rd" | "th"
        )
}
const MARKERS: &[&str] = &["no", "num", "numéro", "numero", "number", "nr", "ars", "poste", "postes"];
const ORDINAL_WORDS: &[&str] = &[
    "choix",
    "vœu",
    "voeu",
    "vœux",
    "voeux",
    "préférence",
    "preference",
    "position",
    "priorité",
    "priorite",
    "choice",
    "option",
];

const RANK_WORDS: &[&str] = &["rang", "classement", "classé", "classée", "classe", "rank", "ranking"];

/// Tokenizes one line.
pub(super) fn tokenize(line: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut chars = line.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if c.is_whitespace() {
            continue;
        }
        if c.is_ascii_digit() || c.is_alphabetic() {
            let mut end = start + c.len_utf8();
            let mut has_letter = !c.is_ascii_digit();
            while let Some(&(i, next)) = chars.peek() {
                let continues = if has_letter {
                    next.is_alphanumeric()
                } else {
                    next.is_ascii_digit() || next.is_alphabetic()
                };
                if !continues {
                    break;
                }
                has_letter |= !next.is_ascii_digit();
                end = i + next.len_utf8();
                chars.next();
            }
            let word = &line[start..end];
            if !has_letter {
                tokens.push(Token::Number { start, end });
            } else if (word == "n" || word == "N") && matches!(chars.peek(), Some((_, '°' | 'º'))) {
                chars.next();
                tokens.push(Token::Marker);
            } else {
                tokens.push(classify_word(word));
            }
        } else if c == '#' {
            tokens.push(Token::Marker);
        } else {
            tokens.push(Token::Punct(c));
        }
    }
    tokens
}

fn classify_word(word: &str) -> Token {
    let lower = word.to_lowercase();
    if ORDINAL_WORDS.contains(&lower.as_str()) {
        Token::OrdinalWord
    } else if RANK_WORDS.contains(&lower.as_str()) {
        Token::RankWord
    } else if MARKERS.contains(&lower.as_str()) {
        Token::Marker
    } else {
        Token::Word {
            lowercase: word.chars().next().is_some_and(char::is_lowercase),
            separator: SEPARATORS.contains(&lower.as_str()),
            determiner: DETERMINERS.contains(&lower.as_str()),
            chooses: CHOOSING.contains(&lower.as_str()),
            ranks: ORDINAL_ADJECTIVES.contains(&lower.as_str()) || is_numbered_ordinal(&lower),
            negation: match lower.as_str() {
                "ne" | "n" => Negation::Ne,
                "plus" => Negation::NegatesAfterNe,
                word if NEGATIONS.contains(&word) => Negation::Negates,
                _ => Negation::None,
            },
        }
    }
}
