//! Folder names as IMAP wants them: "modified UTF-7" (RFC 3501 §5.1.3).
//!
//! A French referent names the processed folder "Traités" or "Choix
//! traités"; IMAP4rev1 has no UTF-8 names. Printable ASCII stands for
//! itself except `&`, which is written `&-`; every other run of characters
//! is written `&`, then its UTF-16 code units in base64 (with `,` in place
//! of `/`, no padding), then `-`. Dovecot, Gmail and Exchange all show such
//! a name in UTF-8 to the user, so the folder the referent sees is the one
//! they typed in the configuration.

use base64::alphabet::Alphabet;
use base64::engine::{GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use once_cell::sync::Lazy;

/// Base64 with `,` for `/` and no padding, as RFC 3501 §5.1.3 says.
static MODIFIED_BASE64: Lazy<GeneralPurpose> = Lazy::new(|| {
    let alphabet = Alphabet::new("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,")
        .expect("a valid base64 alphabet");
    GeneralPurpose::new(&alphabet, GeneralPurposeConfig::new().with_encode_padding(false))
});

/// `name` in modified UTF-7; an ASCII name without `&` is unchanged.
pub fn encode(name: &str) -> String {
    let mut encoded = String::with_capacity(name.len());
    let mut pending: Vec<u16> = Vec::new();
    for c in name.chars() {
        if (' '..='~').contains(&c) {
            flush(&mut encoded, &mut pending);
            if c == '&' {
                encoded.push_str("&-");
            } else {
                encoded.push(c);
            }
        } else {
            pending.extend(c.encode_utf16(&mut [0; 2]).iter());
        }
    }
    flush(&mut encoded, &mut pending);
    encoded
}

/// Writes the run of UTF-16 units `pending` (if any) as `&…-`.
fn flush(encoded: &mut String, pending: &mut Vec<u16>) {
    if pending.is_empty() {
        return;
    }
    let bytes: Vec<u8> = pending.iter().flat_map(|unit| unit.to_be_bytes()).collect();
    encoded.push('&');
    encoded.push_str(&MODIFIED_BASE64.encode(bytes));
    encoded.push('-');
    pending.clear();
}

#[cfg(test)]
mod tests {
    use super::encode;

    #[test]
    fn ascii_names_are_unchanged_and_the_ampersand_is_escaped() {
        assert_eq!(encode("INBOX"), "INBOX");
        assert_eq!(encode("choixbot-processed"), "choixbot-processed");
        assert_eq!(encode("Choix & vœux"), "Choix &- v&AVM-ux");
    }

    #[test]
    fn the_examples_of_rfc_3501() {
        assert_eq!(encode("~peter/mail/台北/日本語"), "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
        // A run that needs a ',' (the '/' of standard base64).
        assert_eq!(encode("台北"), "&U,BTFw-");
    }

    #[test]
    fn french_folder_names() {
        assert_eq!(encode("Traités"), "Trait&AOk-s");
        assert_eq!(encode("Éléments envoyés"), "&AMk-l&AOk-ments envoy&AOk-s");
    }

    #[test]
    fn characters_outside_the_bmp_are_written_as_surrogate_pairs() {
        assert_eq!(encode("📬"), "&2D3c7A-");
    }
}
