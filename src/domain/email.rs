use std::fmt;

/// An email address, as registered for an intern, a proxy, a referent or the
/// ARS. Stored in lower case: providers treat addresses case-insensitively in
/// practice, and an intern who writes `Jean.Dupont@Gmail.com` in one place and
/// `jean.dupont@gmail.com` in another is one person.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// Accepts `user@domain`, optionally inside `Name <user@domain>` or `<…>`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let address = match (text.rfind('<'), text.rfind('>')) {
            (Some(open), Some(close)) if open < close => &text[open + 1..close],
            _ => text,
        }
        .trim();
        let Some((local, domain)) = address.rsplit_once('@') else {
            return Err(format!("{text:?} is not an email address (no '@')"));
        };
        let valid_local = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && local.chars().all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
        let valid_domain = domain.len() <= 253
            && domain.contains('.')
            && !domain.starts_with(['.', '-'])
            && !domain.ends_with(['.', '-'])
            && domain.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
            && !domain.contains("..");
        if !valid_local || !valid_domain {
            return Err(format!("{text:?} is not a valid email address"));
        }
        Ok(Self(address.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn local_part(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(local, _)| local)
    }

    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, domain)| domain)
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Email;

    #[test]
    fn accepts_plain_and_named_addresses_in_lower_case() {
        assert_eq!(Email::parse(" Jean.Dupont@Gmail.com ").unwrap().as_str(), "jean.dupont@gmail.com");
        assert_eq!(Email::parse("Jean <jd@ex.fr>").unwrap().as_str(), "jd@ex.fr");
        assert_eq!(Email::parse("choix+abc@asso.example").unwrap().local_part(), "choix+abc");
    }

    #[test]
    fn rejects_what_is_not_an_address() {
        for bad in ["", "jean", "jean@", "@ex.fr", "jean@localhost", "a b@ex.fr", "jean@ex..fr"] {
            assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
