//! Text normalisation shared by every place that matches what people typed.

use unicode_normalization::UnicodeNormalization;

/// Folds a header name or an enumerated value to a matching key: lower case,
/// accents removed, every run of non-alphanumeric characters turned into a
/// single `_`, no leading or trailing `_`.
///
/// So `"N° ARS"`, `"n_ars"` and `" n ars "` all give `"n_ars"`, and
/// `"Surnombre validant"` and `"surnombre_validant"` give the same key, as
/// SPEC §4 requires.
pub fn normalize_key(text: &str) -> String {
    let mut key = String::with_capacity(text.len());
    let mut pending_separator = false;
    for c in text.nfd().filter(|c| !is_combining_mark(*c)) {
        // "°" and "º" (ordinal indicator) are how French writes "numéro".
        let c = match c {
            '°' | 'º' => ' ',
            'œ' | 'Œ' => {
                push_with_separator(&mut key, &mut pending_separator, 'o');
                'e'
            }
            other => other,
        };
        if c.is_alphanumeric() {
            push_with_separator(&mut key, &mut pending_separator, c);
        } else {
            pending_separator = !key.is_empty();
        }
    }
    key
}

fn push_with_separator(key: &mut String, pending_separator: &mut bool, c: char) {
    if *pending_separator {
        key.push('_');
        *pending_separator = false;
    }
    key.extend(c.to_lowercase());
}

fn is_combining_mark(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

#[cfg(test)]
mod tests {
    use super::normalize_key;

    #[test]
    fn folds_case_accents_and_punctuation() {
        assert_eq!(normalize_key("N° ARS"), "n_ars");
        assert_eq!(normalize_key(" Prénom "), "prenom");
        assert_eq!(normalize_key("Hôpital"), "hopital");
        assert_eq!(normalize_key("Surnombre validant"), "surnombre_validant");
        assert_eq!(normalize_key("surnombre_validant"), "surnombre_validant");
        assert_eq!(normalize_key("Vœux"), "voeux");
        assert_eq!(normalize_key("type de choix"), "type_de_choix");
    }
}
