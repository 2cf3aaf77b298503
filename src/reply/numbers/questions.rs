//! Questions that choose nothing: "le 1234 est-il encore libre ?",
//! "combien de places au 5678 ?". The number asked about is set aside,
//! unless the intern says what to do with the answer.

use super::tokens::Token;

/// For each token, whether it is in a question that chooses nothing: "le
/// 1234 est-il encore libre ?", "combien de places au 5678 ?". A sentence
/// ending with "?" that has at least two words is such a question, unless
/// the next one says what to do with the answer ("… ? Sinon je prends
/// 5678": the intern wants the post if it is free).
pub(super) fn questions(line: &str, tokens: &[Token]) -> Vec<bool> {
    const ANSWERED: &[&str] =
        &["sinon", "si oui", "si non", "si c'est le cas", "à défaut", "if so", "otherwise", "if not"];
    if !line.contains('?') {
        return Vec::new();
    }
    let mut asks = vec![false; tokens.len()];
    let mut start = 0;
    for (index, token) in tokens.iter().enumerate() {
        if !matches!(token, Token::Punct('.' | '!' | '?')) {
            continue;
        }
        let words =
            tokens[start..index].iter().filter(|t| matches!(t, Token::Word { separator: false, .. })).count();
        if matches!(token, Token::Punct('?')) && words >= 2 {
            let after = question_end(line, tokens, index).map_or("", |end| &line[end..]);
            let after = after.trim_start().to_lowercase();
            if !ANSWERED.iter().any(|w| after.starts_with(w)) {
                asks[start..index].iter_mut().for_each(|a| *a = true);
            }
        }
        start = index + 1;
    }
    asks
}

/// The byte offset just after the punctuation token at `index`.
fn question_end(line: &str, tokens: &[Token], index: usize) -> Option<usize> {
    let before: usize = tokens[..index]
        .iter()
        .rev()
        .find_map(|t| match t {
            Token::Number { end, .. } => Some(*end),
            _ => None,
        })
        .unwrap_or(0);
    line[before..].find('?').map(|at| before + at + 1)
}
