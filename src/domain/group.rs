use std::fmt;

/// A group of interns who choose among the same posts: a DES, possibly with a
/// phase ("Médecine générale", "Pédiatrie - socle"). Kept as written, with
/// surrounding and repeated white space removed; two groups are the same when
/// their names are equal after that.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Group(String);

impl Group {
    pub fn parse(text: &str) -> Result<Self, String> {
        let name = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if name.is_empty() {
            return Err("empty group (DES)".into());
        }
        if name.chars().count() > 200 {
            return Err("group (DES) name longer than 200 characters".into());
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
