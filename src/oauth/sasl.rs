//! SASL XOAUTH2 (Google's and Microsoft's mechanism for IMAP and SMTP):
//! `user=USER^Aauth=Bearer TOKEN^A^A`, base64-encoded by the protocol.

use secrecy::{ExposeSecret, SecretString};

/// The XOAUTH2 initial response for `user` and `token`, before base64.
pub fn initial_response(user: &str, token: &SecretString) -> String {
    format!("user={user}\x01auth=Bearer {}\x01\x01", token.expose_secret())
}

/// async-imap's side of `AUTHENTICATE XOAUTH2`.
///
/// The first challenge is empty: the answer is the initial response. A
/// server that refuses the token sends a second challenge (a JSON error,
/// RFC 7628's style) and waits for an empty line before its `NO`.
pub struct ImapXoauth2 {
    /// The initial response, until sent.
    response: Option<String>,
}

impl ImapXoauth2 {
    pub fn new(user: &str, token: &SecretString) -> Self {
        Self { response: Some(initial_response(user, token)) }
    }
}

impl async_imap::Authenticator for ImapXoauth2 {
    type Response = String;

    fn process(&mut self, _challenge: &[u8]) -> String {
        self.response.take().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_initial_response_is_sent_once_then_an_empty_line_after_an_error() {
        let token = SecretString::from("tok".to_string());
        assert_eq!(initial_response("a@b.fr", &token), "user=a@b.fr\x01auth=Bearer tok\x01\x01");
        let mut imap = ImapXoauth2::new("a@b.fr", &token);
        use async_imap::Authenticator;
        assert!(imap.process(b"").starts_with("user=a@b.fr"));
        assert_eq!(imap.process(b"{\"status\":\"401\"}"), "");
    }
}
