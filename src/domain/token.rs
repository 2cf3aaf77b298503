use std::fmt;

use rand::Rng;

/// The alphabet of tokens: lower-case base32 without padding. One case only,
/// so a client or a server that changes the case of the plus address does not
/// break the reference; no `0`, `1`, `8` or `9` to avoid confusion with
/// letters when a person copies it by hand.
const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
/// 16 characters of base32 carry 80 random bits: not guessable.
pub const TOKEN_LEN: usize = 16;

/// The personal reference of an intern ("référence personnelle"): put in the
/// Reply-To of the invitation as a plus address (`choix+TOKEN@domain`) and in
/// its subject, so a reply can be attributed even from a forwarded copy.
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Token(String);

impl Token {
    pub fn generate() -> Self {
        let mut rng = rand::rngs::OsRng;
        let token = (0..TOKEN_LEN).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect();
        Self(token)
    }

    /// Parses a token read back from an address or a subject. Case is
    /// ignored (see [`ALPHABET`]).
    pub fn parse(text: &str) -> Result<Self, String> {
        let token = text.trim().to_ascii_lowercase();
        if token.len() != TOKEN_LEN || !token.bytes().all(|b| ALPHABET.contains(&b)) {
            return Err(format!("{text:?} is not a choixbot reference"));
        }
        Ok(Self(token))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Tokens are credentials of a sort: keep them out of debug logs.
impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token({}…)", &self.0[..4.min(self.0.len())])
    }
}

#[cfg(test)]
mod tests {
    use super::{Token, TOKEN_LEN};

    #[test]
    fn generated_tokens_parse_back_and_differ() {
        let a = Token::generate();
        let b = Token::generate();
        assert_eq!(a.as_str().len(), TOKEN_LEN);
        assert_ne!(a, b);
        assert_eq!(Token::parse(&a.as_str().to_uppercase()).unwrap(), a);
        assert!(Token::parse("short").is_err());
        assert!(Token::parse("0000000000000000").is_err());
    }
}
