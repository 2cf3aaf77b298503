use std::fmt;

/// A rank on the call list ("rang"): 1 chooses first within the group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Rank(u32);

impl Rank {
    pub fn new(value: u32) -> Result<Self, String> {
        if value == 0 {
            return Err("rank must be 1 or more".into());
        }
        Ok(Self(value))
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let digits = text.strip_suffix(".0").unwrap_or(text);
        let value: u32 = digits.parse().map_err(|_| format!("rank {text:?} is not a whole number"))?;
        Self::new(value)
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for Rank {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
