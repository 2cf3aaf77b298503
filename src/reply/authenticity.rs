//! What the headers say of where a message comes from: choixbot's own
//! header (one of our messages that came back: a copy, a forward, a loop),
//! and what the receiving server found of its authenticity.
//!
//! Anyone can write an `Authentication-Results` header into a message, so
//! only those whose authserv-id the referent listed as trusted
//! (`security.trusted_authserv_ids`, their own receiving server) are read,
//! and of those only the topmost: a receiving server adds its header above
//! the ones that came with the message (RFC 8601 §5).
//!
//! Both are read from the headers the one parse of the message already
//! holds ([`super::mime::Envelope`]); nothing parses the bytes again.

use super::mime::Envelope;
use super::Kind;

/// The header choixbot puts on every message it sends.
pub const PURPOSE_HEADER: &str = "X-Choixbot-Purpose";

/// The header facts of one message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderFacts {
    /// Whether it carries [`PURPOSE_HEADER`].
    pub ours: bool,
    /// Its `Authentication-Results` headers, topmost first, unfolded.
    pub authentication_results: Vec<String>,
}

impl HeaderFacts {
    pub(super) fn read(envelope: &Envelope) -> Self {
        let purpose = PURPOSE_HEADER.to_ascii_lowercase();
        Self {
            ours: envelope.headers.iter().any(|(name, _)| *name == purpose),
            authentication_results: envelope
                .headers
                .iter()
                .filter(|(name, _)| name == "authentication-results")
                .map(|(_, value)| value.clone())
                .collect(),
        }
    }

    /// Whether the topmost trusted `Authentication-Results` header reports
    /// a DKIM or DMARC failure. Automatic mail is never "failed" here: it
    /// gets no answer anyway.
    pub fn authentication_failed(&self, trusted: &[String], kind: Kind) -> bool {
        if trusted.is_empty() || !matches!(kind, Kind::Choices | Kind::Empty) {
            return false;
        }
        for text in &self.authentication_results {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(headers: &str) -> HeaderFacts {
        let raw = format!("{headers}From: a@ex.fr\r\nSubject: x\r\n\r\n1234\r\n");
        HeaderFacts::read(&Envelope::read(raw.as_bytes()))
    }

    fn trusted() -> Vec<String> {
        vec!["mx.asso.example".into()]
    }

    #[test]
    fn a_trusted_dmarc_failure_counts() {
        let facts =
            facts("Authentication-Results: mx.asso.example; dkim=none; dmarc=fail header.from=ex.fr\r\n");
        assert!(facts.authentication_failed(&trusted(), Kind::Choices));
        assert!(!facts.authentication_failed(&trusted(), Kind::AutoReply), "automatic mail gets no answer");
    }

    #[test]
    fn a_forged_header_with_a_foreign_authserv_id_is_ignored() {
        let facts = facts("Authentication-Results: evil.example; dkim=fail; dmarc=fail\r\n");
        assert!(!facts.authentication_failed(&trusted(), Kind::Choices));
    }

    #[test]
    fn only_the_topmost_trusted_header_is_read() {
        let facts = facts(
            "Authentication-Results: mx.asso.example; dkim=pass; dmarc=pass\r\n\
             Authentication-Results: mx.asso.example; dkim=fail; dmarc=fail\r\n",
        );
        assert!(!facts.authentication_failed(&trusted(), Kind::Choices));
    }

    #[test]
    fn a_folded_header_is_read_whole() {
        let facts = facts("Authentication-Results: mx.asso.example;\r\n\tdkim=none;\r\n\tdmarc=fail\r\n");
        assert!(facts.authentication_failed(&trusted(), Kind::Choices));
    }

    #[test]
    fn nothing_is_read_when_nothing_is_trusted() {
        let facts = facts("Authentication-Results: mx.asso.example; dmarc=fail\r\n");
        assert!(!facts.authentication_failed(&[], Kind::Choices));
    }

    #[test]
    fn our_own_header_is_recognised() {
        assert!(facts("X-Choixbot-Purpose: confirmation\r\n").ours);
        assert!(!facts("").ours);
    }
}
