//! Reading what the receiving server says about a message's authenticity,
//! and recognising our own messages.
//!
//! Anyone can write an `Authentication-Results` header into a message, so
//! only those whose authserv-id the referent listed as trusted
//! (`security.trusted_authserv_ids`, their own receiving server) are read,
//! and of those only the topmost: a receiving server adds its header above
//! the ones that came with the message (RFC 8601 §5).

use mail_parser::MessageParser;

use crate::reply::Kind;

/// The header choixbot puts on every message it sends.
const PURPOSE_HEADER: &str = "X-Choixbot-Purpose";

/// Whether the topmost trusted `Authentication-Results` header reports a
/// DKIM or DMARC failure. Automatic mail is never "failed" here: it gets no
/// answer anyway.
pub fn failed(raw: &[u8], trusted: &[String], kind: Kind) -> bool {
    if trusted.is_empty() || !matches!(kind, Kind::Choices | Kind::Empty) {
        return false;
    }
    let Some(message) = MessageParser::new().parse_headers(raw) else { return false };
    for header in message.headers() {
        if !header.name().eq_ignore_ascii_case("Authentication-Results") {
            continue;
        }
        let Some(text) = header.value().as_text() else { continue };
        let mut parts = text.split(';');
        let authserv_id = parts.next().unwrap_or("").split_whitespace().next().unwrap_or("");
        if !trusted.iter().any(|t| t.eq_ignore_ascii_case(authserv_id)) {
            continue;
        }
        return parts.any(|result| {
            let result = result.trim().to_ascii_lowercase();
            result.starts_with("dkim=fail") || result.starts_with("dmarc=fail")
        });
    }
    false
}

/// Whether the message carries choixbot's own header (one of our messages
/// that came back: a copy, a forward, a loop).
pub fn has_purpose_header(raw: &[u8]) -> bool {
    let Some(message) = MessageParser::new().parse_headers(raw) else { return false };
    message.headers().iter().any(|h| h.name().eq_ignore_ascii_case(PURPOSE_HEADER))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(headers: &str) -> Vec<u8> {
        format!("{headers}From: a@ex.fr\r\nSubject: x\r\n\r\n1234\r\n").into_bytes()
    }

    fn trusted() -> Vec<String> {
        vec!["mx.asso.example".into()]
    }

    #[test]
    fn a_trusted_dmarc_failure_counts() {
        let raw =
            message("Authentication-Results: mx.asso.example; dkim=none; dmarc=fail header.from=ex.fr\r\n");
        assert!(failed(&raw, &trusted(), Kind::Choices));
    }

    #[test]
    fn a_forged_header_with_a_foreign_authserv_id_is_ignored() {
        let raw = message("Authentication-Results: evil.example; dkim=fail; dmarc=fail\r\n");
        assert!(!failed(&raw, &trusted(), Kind::Choices));
    }

    #[test]
    fn only_the_topmost_trusted_header_is_read() {
        let raw = message(
            "Authentication-Results: mx.asso.example; dkim=pass; dmarc=pass\r\n\
             Authentication-Results: mx.asso.example; dkim=fail; dmarc=fail\r\n",
        );
        assert!(!failed(&raw, &trusted(), Kind::Choices));
    }

    #[test]
    fn nothing_is_read_when_nothing_is_trusted() {
        let raw = message("Authentication-Results: mx.asso.example; dmarc=fail\r\n");
        assert!(!failed(&raw, &[], Kind::Choices));
    }

    #[test]
    fn our_own_header_is_recognised() {
        assert!(has_purpose_header(&message("X-Choixbot-Purpose: confirmation\r\n")));
        assert!(!has_purpose_header(&message("")));
    }
}
