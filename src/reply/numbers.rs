//! The number grammar: which numbers of the intern's text are choices.
//!
//! Interns write their list in many ways (one per line, `1) 1234`,
//! `Choix 1 : 1234 – Bichat`, `n°1234 > n°5678`, `1234, 5678 et 9012`,
//! `3301;2345`), and their text holds other numbers that are not choices
//! (list ordinals, phone numbers, dates, times, postcodes, street numbers,
//! "poste 4521" extensions, "20e"). The grammar works line by line:
//! 1. mask the spans that are phones, dates, times, addresses, extensions
//!    ([`super::numbers::masks`]);
//! 2. cut the line into segments at list separators (`,` `;` `>` `/` `et`
//!    `puis`…);
//! 3. in a segment, a number is a choice when it starts the segment, follows
//!    another choice, or ends a phrase ("je prends 1234"); an ordinal
//!    ("Choix 1", "1)", "1er") is not; once a label follows a choice
//!    ("1234 – Bichat 2"), the rest of the segment is label.

mod groups;
mod masks;
mod order;
mod questions;
mod table;
mod tokens;

pub(crate) use groups::join_thousands;

use super::MAX_CANDIDATES;
use tokens::{Negation, Token};

/// ARS numbers have one to six digits.
const MAX_DIGITS: usize = 6;

/// The numbers in choice position, in the order written (repeats kept).
#[cfg(test)]
pub(crate) fn choice_numbers(text: &str) -> Vec<String> {
    read_numbers(text).choices
}

/// Every number of the intern's text: taken as a choice, or set aside.
#[derive(Debug, Default)]
pub(crate) struct Numbers {
    /// The numbers in choice position, in the order written (repeats kept).
    pub choices: Vec<String>,
    /// The others, in the order written, each with why it is not a choice
    /// ("a phone number", "a list ordinal"…).
    pub aside: Vec<(String, &'static str)>,
    /// For each choice, the place the intern gave it in words ("1234 en
    /// premier": 1; "en dernier": `u32::MAX`), if any.
    pub places: Vec<Option<u32>>,
}

impl Numbers {
    /// "1234, 2345, 3301. Je retire le 2345": the later words win over the
    /// list written before them. Takes `number` out of the choices; whether
    /// it was there.
    fn withdraw(&mut self, number: &str) -> bool {
        let keep: Vec<bool> = self.choices.iter().map(|c| c != number).collect();
        if keep.iter().all(|&k| k) {
            return false;
        }
        let mut flags = keep.iter();
        self.choices.retain(|_| *flags.next().unwrap_or(&true));
        let mut flags = keep.iter();
        self.places.retain(|_| *flags.next().unwrap_or(&true));
        self.aside.push((number.to_string(), WITHDRAWN_AFTER_CHOSEN));
        true
    }

    /// Sets aside a number inside a masked span (a phone, a date…), naming
    /// the whole span once: a phone number is one thing set aside, not five.
    fn set_aside_masked(
        &mut self,
        line: &str,
        number: &str,
        span: Option<(usize, usize)>,
        last_span: &mut Option<(usize, usize)>,
        why: &'static str,
    ) {
        match span {
            Some(span) if *last_span == Some(span) => {}
            Some((start, end)) => {
                self.aside.push((line[start..end].trim().to_string(), why));
                *last_span = Some((start, end));
            }
            None => self.aside.push((number.to_string(), why)),
        }
    }
}

/// Reads the numbers of `text`, line by line.
pub(crate) fn read_numbers(text: &str) -> Numbers {
    let mut numbers = Numbers::default();
    let mut address_context = false;
    let lines: Vec<&str> = text.lines().collect();
    let mut skip_to = 0;
    for (at, &line) in lines.iter().enumerate() {
        if numbers.choices.len() >= MAX_CANDIDATES {
            break;
        }
        if at < skip_to {
            continue;
        }
        if let Some((spanned, table)) = table::read(&lines[at..]) {
            numbers.choices.extend(table.choices);
            numbers.places.extend(table.places);
            numbers.aside.extend(table.aside);
            skip_to = at + spanned;
            continue;
        }
        if !line.bytes().any(|b| b.is_ascii_digit()) {
            address_context = false;
            continue;
        }
        let masked = masks::masked_spans(line, address_context);
        address_context = masks::is_street_line(line);
        line_numbers(line, &masked, &mut numbers);
    }
    numbers.choices.truncate(MAX_CANDIDATES);
    numbers.places.truncate(MAX_CANDIDATES);
    numbers
}

/// The state of one segment of a line while it is read.
#[derive(Default)]
struct Segment {
    /// A choice was taken in this segment.
    has_choice: bool,
    /// A word came after the choice: the rest is its label.
    in_label: bool,
    /// Words came before any choice (prose: "je prends 1234").
    after_words: bool,
}

fn line_numbers(line: &str, masked: &[(usize, usize, &'static str)], out: &mut Numbers) {
    let tokens = tokens::tokenize(line);
    let mask_of = |s: usize, e: usize| masked.iter().find(|&&(ms, me, _)| s < me && ms < e).map(|m| m.2);
    let live = |t: &Token| matches!(t, Token::Number { start, end, .. } if mask_of(*start, *end).is_none() && end - start <= MAX_DIGITS);
    let ordinal_prefix = leading_ordinal(&tokens, &live).or_else(|| rank_column(line, &tokens, &live));
    let asks = questions::questions(line, &tokens);
    let mut segment = Segment::default();
    let mut line_has_label = false;
    let mut last_span = None;
    for (index, token) in tokens.iter().enumerate() {
        match token {
            Token::Number { start, end, .. } => {
                let text = &line[*start..*end];
                let role = if asks.get(index).copied().unwrap_or(false) && mask_of(*start, *end).is_none() {
                    Role::Aside("asked about in a question")
                } else {
                    number_role(
                        &tokens,
                        index,
                        line,
                        &segment,
                        line_has_label,
                        (ordinal_prefix, &mask_of, &live),
                    )
                };
                match role {
                    Role::Choice => {
                        out.choices.push(text.to_string());
                        out.places.push(order::said_place(&line[*end..]));
                        segment.has_choice = true;
                    }
                    Role::Masked(why) => {
                        let span =
                            masked.iter().find(|&&(ms, me, _)| *start < me && ms < *end).map(|m| (m.0, m.1));
                        out.set_aside_masked(line, text, span, &mut last_span, why);
                        segment.after_words = true;
                        segment.in_label |= segment.has_choice;
                    }
                    Role::Ordinal => {
                        out.aside.push((text.to_string(), "a list ordinal"));
                        // A list item begins: what came before is not its label.
                        segment = Segment::default();
                    }
                    Role::Aside(WITHDRAWN) if out.withdraw(text) => {}
                    Role::Aside(why) => out.aside.push((text.to_string(), why)),
                }
            }
            Token::Word { separator: true, .. } => segment = Segment::default(),
            Token::Word { .. } => {
                if segment.has_choice {
                    segment.in_label = true;
                    line_has_label = true;
                } else {
                    segment.after_words = true;
                }
            }
            Token::Marker | Token::OrdinalWord => {}
            Token::RankWord => segment.after_words = true,
            Token::Punct(c) => match c {
                ',' | ';' | '>' | '/' | '|' | '.' | '!' | '?' | '&' | '+' => segment = Segment::default(),
                ':' | '=' if !segment.has_choice => segment.after_words = false,
                _ => {}
            },
        }
    }
}

/// Why a number named after a negation or a verb of withdrawing is not
/// a choice.
const WITHDRAWN: &str = "excluded by a negation";

/// Why a number chosen, then withdrawn by later words, is not a choice.
pub(crate) const WITHDRAWN_AFTER_CHOSEN: &str = "withdrawn after being chosen";

/// What a number of the line is.
enum Role {
    /// A choice.
    Choice,
    /// Inside a span that is not a choice (a phone, a date…).
    Masked(&'static str),
    /// A list ordinal ("1)", "Choix 1", "1°").
    Ordinal,
    /// Not a choice, for this reason.
    Aside(&'static str),
}

/// The line's masks, its ordinal prefix, and which numbers are live.
type LineFacts<'a> =
    (Option<usize>, &'a dyn Fn(usize, usize) -> Option<&'static str>, &'a dyn Fn(&Token) -> bool);

/// The role of the number at `index` (see the module's grammar).
fn number_role(
    tokens: &[Token],
    index: usize,
    line: &str,
    segment: &Segment,
    line_has_label: bool,
    (ordinal_prefix, mask_of, live): LineFacts<'_>,
) -> Role {
    let Token::Number { start, end } = tokens[index] else { return Role::Aside("not a number") };
    if let Some(why) = mask_of(start, end) {
        return Role::Masked(why);
    }
    if end - start > MAX_DIGITS {
        return Role::Masked("too long for an ARS number");
    }
    if Some(index) == ordinal_prefix
        || follows_ordinal_word(tokens, index)
        || is_ordinal_mark(tokens, index)
        || is_inline_ordinal(tokens, index, live)
    {
        return Role::Ordinal;
    }
    if follows_rank_word(tokens, index) {
        return Role::Aside("a rank");
    }
    if is_negated(tokens, index) {
        return Role::Aside(WITHDRAWN);
    }
    if opens_parenthesis(tokens, index) || counts_places(line, end, tokens, index) {
        return Role::Aside("a count of places");
    }
    let label_text = line_has_label && !follows_determiner(tokens, index);
    if segment.in_label || (segment.after_words && label_text) {
        return Role::Aside("part of a post's label");
    }
    if segment.after_words && quantity(tokens, index) {
        return Role::Aside("a quantity");
    }
    Role::Choice
}

/// "1) 1234", "1. 1234", "1 - 1234": a one- or two-digit number first on the
/// line, followed by a list punctuation and then by another number.
fn leading_ordinal(tokens: &[Token], live: &dyn Fn(&Token) -> bool) -> Option<usize> {
    let first = tokens.iter().position(|t| !matches!(t, Token::Punct('-' | '*' | '•' | '·' | '–' | '(')))?;
    let Token::Number { start, end, .. } = tokens[first] else { return None };
    if end - start > 2 {
        return None;
    }
    let Some(Token::Punct(p)) = tokens.get(first + 1) else { return None };
    if !matches!(p, ')' | '.' | ']' | ':' | '-' | '–' | '—' | '/') {
        return None;
    }
    // The ordinal must be followed by the choice itself ("1) 1234", "1. n°1234");
    // "12 – CH Sud – 1 poste" is the choice 12 with its label.
    let next = tokens[first + 2..].iter().find(|t| !matches!(t, Token::Marker))?;
    live(next).then_some(first)
}

/// A row pasted from a spreadsheet whose first column is the rank
/// ("1<TAB>1204<TAB>Bichat"): a one- or two-digit number first on a line
/// that has tabs, followed by another number, is the rank.
fn rank_column(line: &str, tokens: &[Token], live: &dyn Fn(&Token) -> bool) -> Option<usize> {
    if !line.contains('\t') {
        return None;
    }
    match (tokens.first(), tokens.get(1)) {
        (Some(Token::Number { start, end }), Some(next)) if end - start <= 2 && live(next) => Some(0),
        _ => None,
    }
}

/// "Choix 1", "Vœu n°2": the number after such a word is an ordinal. Not
/// after an ordinal adjective: in "premier choix 1234" the rank is said
/// already, and the number is the choice.
fn follows_ordinal_word(tokens: &[Token], index: usize) -> bool {
    let mut before = tokens[..index].iter().enumerate().rev().filter(|(_, t)| !matches!(t, Token::Marker));
    match before.next() {
        Some((at, Token::OrdinalWord)) => {
            !matches!(at.checked_sub(1).map(|i| &tokens[i]), Some(Token::Word { ranks: true, .. }))
        }
        _ => false,
    }
}

/// "1°", "1️⃣": a number directly followed by a degree sign, or made a
/// keycap emoji (U+FE0F, U+20E3), is an ordinal.
fn is_ordinal_mark(tokens: &[Token], index: usize) -> bool {
    matches!(tokens.get(index + 1), Some(Token::Punct('°' | 'º' | '\u{FE0F}' | '\u{20E3}')))
}

/// "… 1) 1234 2) 5678", "#1 1234 #2 5678": a one- or two-digit number
/// followed by `)`, `]` or `.`, or announced by `#`/"n°", and then followed
/// by a number, inside the line, is an ordinal of a list typed on one line
/// (the first one is [`leading_ordinal`]'s).
fn is_inline_ordinal(tokens: &[Token], index: usize, live: &dyn Fn(&Token) -> bool) -> bool {
    let Token::Number { start, end } = tokens[index] else { return false };
    if end - start > 2 {
        return false;
    }
    let next = match tokens.get(index + 1) {
        Some(Token::Punct(')' | ']' | '.')) => index + 2,
        _ if index > 0 && matches!(tokens[index - 1], Token::Marker) => index + 1,
        _ => return false,
    };
    tokens
        .get(next..)
        .unwrap_or_default()
        .iter()
        .find(|t| !matches!(t, Token::Marker | Token::Punct(':')))
        .is_some_and(live)
}

/// "mon rang est 45", "classement : 45": the number after a rank word,
/// with at most a verb or a punctuation in between, is the intern's rank.
fn follows_rank_word(tokens: &[Token], index: usize) -> bool {
    tokens[..index].iter().rev().take(2).any(|t| matches!(t, Token::RankWord))
}

/// "1204 (2 places)", "(1 poste)": a number opening a parenthesis and
/// followed by a word is a quantity in a label, not a choice.
fn opens_parenthesis(tokens: &[Token], index: usize) -> bool {
    index > 0
        && matches!(tokens[index - 1], Token::Punct('('))
        && matches!(tokens.get(index + 1), Some(Token::Word { .. } | Token::Marker))
}

/// "je ne veux plus le 1234", "pas la 1234", "sauf n°1234": the number
/// right after a negation (an article or marker may come between) names a
/// post the intern does not want. An intern who only writes that gets "no
/// choice found" and is asked for the list, which is better than having
/// the post recorded as a choice.
fn is_negated(tokens: &[Token], index: usize) -> bool {
    let before = tokens[..index]
        .iter()
        .rev()
        .find(|t| !matches!(t, Token::Marker | Token::Word { determiner: true, .. }));
    match before {
        Some(Token::Word { negation: Negation::Negates, .. }) => true,
        // The "ne" must be in the same clause: "je ne sais pas, en plus le
        // 1234" adds 1234.
        Some(Token::Word { negation: Negation::NegatesAfterNe, .. }) => tokens[..index]
            .iter()
            .rev()
            .take_while(|t| {
                !matches!(
                    t,
                    Token::Punct(',' | ';' | '.' | '!' | '?' | ':') | Token::Word { separator: true, .. }
                )
            })
            .any(|t| matches!(t, Token::Word { negation: Negation::Ne, .. })),
        _ => false,
    }
}

/// "(Bichat, 2 postes)", "3 places": a short number followed by the word
/// for places is how many places a post has, even where a comma has just
/// opened a new list item. "2 postes 1204" (a marker then a number) stays
/// the grammar's ordinary case.
fn counts_places(line: &str, end: usize, tokens: &[Token], index: usize) -> bool {
    const PLACES: &[&str] = &["poste", "postes", "place", "places"];
    let short = matches!(tokens[index], Token::Number { start, end } if end - start <= 2);
    let word: String = line[end..].trim_start().chars().take_while(|c| c.is_alphabetic()).collect();
    let next_is_number = matches!(tokens.get(index + 2), Some(Token::Number { .. }));
    short && PLACES.contains(&word.to_lowercase().as_str()) && !next_is_number
}

/// "puis le 5678", "alors 5678", "je prends 5678": right after a definite
/// article or a verb of choosing, a number names a post even on a line
/// where an earlier choice had words after it ("1234 en premier", "le 1234
/// est-il libre ?"), which otherwise make later numbers part of a label.
fn follows_determiner(tokens: &[Token], index: usize) -> bool {
    index > 0
        && matches!(
            tokens[index - 1],
            Token::Word { determiner: true, .. } | Token::Word { chooses: true, .. }
        )
}

/// "mes 3 choix": after words, a number followed by a lower-case word is a
/// quantity, not a choice.
fn quantity(tokens: &[Token], index: usize) -> bool {
    let short = matches!(tokens[index], Token::Number { start, end } if end - start <= 2);
    short
        && matches!(
            tokens.get(index + 1),
            Some(Token::Word { lowercase: true, separator: false, .. }) | Some(Token::OrdinalWord)
        )
}

#[cfg(test)]
mod tests;
