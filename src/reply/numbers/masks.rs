//! The spans of a line that hold numbers which are not choices: phone
//! numbers, dates, times, street addresses and postcodes, phone extensions,
//! years, amounts. A number whose span meets one of them is never a choice.

use once_cell::sync::Lazy;
use regex::Regex;

static PHONE: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r"(?:(?:\+|(?-u:\b)00)\s?\d{2,3}[\s.\-]?(?:\(0\)\s?)?\d(?:[\s.\-]?\d{2}){4})|(?:(?-u:\b)0\d(?:[\s.\-]?\d{2}){4}(?-u:\b))|(?:\+\d[\d\s.\-()]{7,}\d)",
    )
    .unwrap()
});
static DATE: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r"(?i)(?-u:\b)\d{1,2}[/.\-]\d{1,2}(?:[/.\-]\d{2,4})?(?-u:\b)|(?-u:\b)\d{4}-\d{2}-\d{2}(?-u:\b)|(?-u:\b)\d{1,2}(?:er)?\s+(?:janv|f[ée]vr|mars|avr|mai|juin|juil|ao[uû]t|sept|oct|nov|d[ée]c|january|february|march|april|may|june|july|august|september|october|november|december)[a-zéû]*\.?(?:\s+\d{2,4})?|(?-u:\b)(?:janvier|f[ée]vrier|mars|avril|mai|juin|juillet|ao[uû]t|septembre|octobre|novembre|d[ée]cembre)\s+\d{4}(?-u:\b)",
    )
    .unwrap()
});
static TIME: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?i)(?-u:\b)\d{1,2}\s?h\s?\d{2}(?-u:\b)|(?-u:\b)\d{1,2}\s?h(?-u:\b)|(?-u:\b)\d{1,2}:\d{2}(?::\d{2})?(?-u:\b)").unwrap()
});
static STREET: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r"(?i)(?-u:\b)\d{1,4}(?:\s?(?:bis|ter))?,?\s+(?:rue|avenue|av\.?|boulevard|bd|place|pl\.|all[ée]e|chemin|impasse|quai|route|rte|cours|square|faubourg|fbg|voie|parvis|esplanade|passage|cit[ée]|r[ée]sidence|lotissement|hameau)(?:\W|$)",
    )
    .unwrap()
});
static POSTCODE: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r"(?-u:\b)\d{5}\s+(?:(?i:cedex)|[A-ZÉÈ][A-ZÉÈ\-']{2,}(?-u:\b))|(?-u:\b)(?:BP|CS|Cedex|CEDEX)\s*\d+|^\s*\d{5}\s+[A-ZÉ][\w\-']+(?:[\s\-][\w\-']+)?\s*$",
    )
    .unwrap()
});
/// A street named without its number ("cabinet de la rue des Pyrénées,
/// 75020"): a French postcode on the same line is the address's.
static ADDRESS_WORD: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r"(?i)(?-u:\b)(?:rue|avenue|boulevard|bd|all[ée]e|chemin|impasse|quai|cedex|arrondissement)(?-u:\b)",
    )
    .unwrap()
});
static POSTCODE_LIKE: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"(?-u:\b)(?:0[1-9]|[1-8]\d|9[0-5]|97[1-6])\d{3}(?-u:\b)").unwrap());
static FIVE_DIGITS: Lazy<Regex> = Lazy::new(|| Regex::new(r"(?-u:\b)\d{5}(?-u:\b)").unwrap());
static EXTENSION: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"(?i)(?-u:\b)(?:poste|ext\.?|extension|bip|dect)\s*:?\s*\d{2,6}").unwrap());
static PHONE_CONTEXT: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?i)(t[ée]l|phone|fixe|standard|secr[ée]tariat|fax|bip|portable|mobile)").unwrap()
});
static YEAR: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?i)(?:promo(?:tion)?|ann[ée]e|depuis|semestre|[ée]t[ée]|hiver|automne|printemps|en)\s+(?:19|20)\d{2}(?-u:\b)")
        .unwrap()
});
/// "2020-2021", "2020/21": a span of years.
static YEAR_RANGE: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"(?-u:\b)(?:19|20)\d{2}\s?[-–/]\s?(?:(?:19|20)\d{2}|\d{2})(?-u:\b)").unwrap());
/// "60e sur 230", "12th of 412": a rank out of a total.
static RANK_OUT_OF: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?i)(?-u:\b)\d{1,5}\s?(?:e|è|ème|eme|er|ère|ere|th|st|nd|rd)?\s+(?:sur|out of|of)\s+\d{1,5}(?-u:\b)").unwrap()
});
static AMOUNT: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"(?i)(?-u:\b)\d+(?:[.,]\d+)?\s?(?:€|%|euros?(?-u:\b))").unwrap());

/// A street address: "12 rue de la Paix".
pub(super) fn is_street_line(line: &str) -> bool {
    STREET.is_match(line)
}

/// The byte spans of `line` that are not choices, each with what it is.
/// `after_street` says the previous line was a street address, so a
/// five-digit number here is a postcode.
pub(super) fn masked_spans(line: &str, after_street: bool) -> Vec<(usize, usize, &'static str)> {
    let mut spans = Vec::new();
    let mut add =
        |re: &Regex, what: &'static str| spans.extend(re.find_iter(line).map(|m| (m.start(), m.end(), what)));
    add(&PHONE, "a phone number");
    add(&DATE, "a date");
    add(&TIME, "a time");
    add(&STREET, "a street number");
    add(&POSTCODE, "a postcode");
    add(&YEAR, "a year");
    add(&AMOUNT, "an amount");
    add(&YEAR_RANGE, "a span of years");
    add(&RANK_OUT_OF, "a rank out of a total");
    if after_street || STREET.is_match(line) {
        add(&FIVE_DIGITS, "a postcode");
    } else if ADDRESS_WORD.is_match(line) {
        add(&POSTCODE_LIKE, "a postcode");
    }
    if PHONE_CONTEXT.is_match(line) || PHONE.is_match(line) {
        add(&EXTENSION, "a phone extension");
    }
    spans
}
