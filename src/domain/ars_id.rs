use std::fmt;

/// A post's ARS number ("n° ARS"): an opaque identifier given by the regional
/// health agency. In practice it is a number of one to six digits, but the
/// specification only promises an identifier, so letters, `-`, `_` and `.`
/// are accepted too. It is kept exactly as written (leading zeros included).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct ArsId(String);

impl ArsId {
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let text = text.strip_suffix(".0").unwrap_or(text); // a number cell read back from Excel
        if text.is_empty() {
            return Err("empty ARS number".into());
        }
        if text.len() > 32 {
            return Err(format!("ARS number {text:?} is longer than 32 characters"));
        }
        if !text.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
            return Err(format!("ARS number {text:?} may only hold letters, digits, '-', '_' and '.'"));
        }
        Ok(Self(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ArsId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::ArsId;

    #[test]
    fn keeps_the_identifier_as_written() {
        assert_eq!(ArsId::parse(" 0123 ").unwrap().as_str(), "0123");
        assert_eq!(ArsId::parse("4521.0").unwrap().as_str(), "4521");
        assert!(ArsId::parse("").is_err());
        assert!(ArsId::parse("12 34").is_err());
    }
}
