//! The intern's personal reference: invitations set
//! `Reply-To: choix+TOKEN@domain` and end their subject with `réf. TOKEN`,
//! so a reply carries it in a recipient's plus address or, when the client
//! dropped the Reply-To, in the subject.

use once_cell::sync::Lazy;
use regex::Regex;
use unicode_normalization::UnicodeNormalization;

use super::mime::Envelope;
use crate::domain::Token;

static PLUS_ADDRESS: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"(?i)[a-z0-9._%\-]+\+([a-z2-7]{16})@[a-z0-9.\-]+").unwrap());
static SUBJECT_REF: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?i)(?-u:\b)r[ée]f(?:[ée]rence)?\s*\.?\s*:?\s*([a-z2-7]{16})(?:[^a-z0-9]|$)").unwrap()
});

/// The token from To/Cc/Delivered-To/X-Original-To, else from the subject.
pub(crate) fn find(envelope: &Envelope) -> Option<Token> {
    for name in ["to", "cc", "delivered-to", "x-original-to"] {
        for (_, value) in envelope.headers.iter().filter(|(n, _)| n == name) {
            let token = PLUS_ADDRESS.captures_iter(value).find_map(|c| Token::parse(&c[1]).ok());
            if token.is_some() {
                return token;
            }
        }
    }
    from_subject(&envelope.subject)
}

fn from_subject(subject: &str) -> Option<Token> {
    let subject: String = subject.nfc().collect();
    SUBJECT_REF.captures_iter(&subject).find_map(|c| Token::parse(&c[1]).ok())
}

#[cfg(test)]
mod tests {
    use super::from_subject;

    #[test]
    fn subject_reference_in_its_spellings() {
        for subject in [
            "RE: Choix de stage – Semestre d'été 2020 – réf. k7m2q3x4b3n5c6d7",
            "Re: ref k7m2q3x4b3n5c6d7",
            "TR: Référence : K7M2Q3X4B3N5C6D7",
            "Re: re\u{301}f. k7m2q3x4b3n5c6d7",
        ] {
            assert_eq!(
                from_subject(subject).map(|t| t.to_string()).as_deref(),
                Some("k7m2q3x4b3n5c6d7"),
                "{subject}"
            );
        }
        assert!(from_subject("Re: préférence k7m2q3x4b3n5c6d7x").is_none());
    }
}
