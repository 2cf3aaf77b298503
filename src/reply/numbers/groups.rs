//! ARS numbers written with their thousands grouped, as French typography
//! and spreadsheets do: "1 187", "1 187" (no-break or thin space),
//! "n°2.345". Read digit by digit they are two numbers, "1" (taken for an
//! ordinal) and "187" (unknown), and the reply would be refused.
//!
//! A group is joined only when the whole is a known ARS number and the
//! three-digit tail alone is not: "2 345" stays two numbers when 345 is a
//! post of the session too, since then the intern may well mean rank 2,
//! post 345. Without the session's posts nothing is joined.

/// The separators French text puts between thousands.
const SEPARATORS: [char; 4] = [' ', '.', '\u{a0}', '\u{202f}'];

/// `text` with each grouped known number written in one piece, and the
/// groups joined ("1 187" → "1187"), or `None` when there is none.
pub(crate) fn join_thousands(text: &str, is_known: impl Fn(&str) -> bool) -> Option<(String, Vec<String>)> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = String::with_capacity(text.len());
    let mut joined = Vec::new();
    let mut copied = 0; // byte offset of text copied to `out`
    let mut i = 0;
    while i < chars.len() {
        let Some((head_end, tail_end)) = group_at(&chars, i) else {
            i += 1;
            continue;
        };
        let start = chars[i].0;
        let end = chars.get(tail_end).map_or(text.len(), |c| c.0);
        let head = &text[start..chars[head_end].0];
        let tail = &text[chars[head_end + 1].0..end];
        let whole = format!("{head}{tail}");
        if is_known(&whole) && !is_known(tail) {
            out.push_str(&text[copied..start]);
            out.push_str(&whole);
            joined.push(text[start..end].to_string());
            copied = end;
        }
        i = tail_end;
    }
    if joined.is_empty() {
        return None;
    }
    out.push_str(&text[copied..]);
    Some((out, joined))
}

/// At `i`, a number of one to three digits (not preceded by a digit),
/// one separator, then exactly three digits (not followed by a digit):
/// gives the index of the separator and the index after the tail.
fn group_at(chars: &[(usize, char)], i: usize) -> Option<(usize, usize)> {
    let digit = |k: usize| chars.get(k).is_some_and(|c| c.1.is_ascii_digit());
    if !digit(i) || (i > 0 && digit(i - 1)) {
        return None;
    }
    let head_len = (i..).take_while(|&k| digit(k)).count();
    let separator = i + head_len;
    if !(1..=3).contains(&head_len) || !chars.get(separator).is_some_and(|c| SEPARATORS.contains(&c.1)) {
        return None;
    }
    let tail_len = (separator + 1..).take_while(|&k| digit(k)).count();
    (tail_len == 3).then_some((separator, separator + 4))
}

#[cfg(test)]
mod tests {
    use super::join_thousands;

    fn known(n: &str) -> bool {
        ["1187", "2345", "10234", "345"].contains(&n)
    }

    #[test]
    fn grouped_thousands_of_known_posts_are_joined() {
        let (text, joined) = join_thousands("1 187 puis n°10\u{a0}234 et 1.187", known).unwrap();
        assert_eq!(text, "1187 puis n°10234 et 1187");
        assert_eq!(joined, ["1 187", "10\u{a0}234", "1.187"]);
    }

    #[test]
    fn a_group_whose_tail_is_a_post_too_is_left_alone() {
        assert!(join_thousands("2 345", known).is_none());
    }

    #[test]
    fn phones_dates_and_unknown_wholes_are_left_alone() {
        assert!(join_thousands("06 12 34 56 78, le 04.05.2020, 1 1187, 9 999", known).is_none());
    }
}
