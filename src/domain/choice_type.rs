use std::fmt;

use super::normalize_key;

/// How an intern chooses ("type de choix"), SPEC §5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChoiceType {
    /// Takes a place: the first wish with a place left.
    #[default]
    Classique,
    /// Counts for training but takes no place: the first wish that still has
    /// a place left at the intern's turn and no supernumerary yet.
    SurnombreValidant,
    /// Takes no place and does not count for training: the first wish among
    /// the group's posts, even full, with no supernumerary yet.
    SurnombreNonValidant,
}

impl ChoiceType {
    /// Matches like a header: `Surnombre validant`, `surnombre_validant` and
    /// `SURNOMBRE-VALIDANT` are the same. An empty cell is `classique`.
    pub fn parse(text: &str) -> Result<Self, String> {
        match normalize_key(text).as_str() {
            "" | "classique" | "classic" => Ok(Self::Classique),
            "surnombre_validant" | "validant" | "sv" => Ok(Self::SurnombreValidant),
            "surnombre_non_validant" | "non_validant" | "snv" => Ok(Self::SurnombreNonValidant),
            _ => Err(format!(
                "choice type {:?} is not one of \"classique\", \"surnombre validant\", \"surnombre non validant\"",
                text.trim()
            )),
        }
    }

    /// The stable name used in the database and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Classique => "classique",
            Self::SurnombreValidant => "surnombre_validant",
            Self::SurnombreNonValidant => "surnombre_non_validant",
        }
    }

    /// The French label shown to interns, referents and the ARS.
    pub fn label(self) -> &'static str {
        match self {
            Self::Classique => "classique",
            Self::SurnombreValidant => "surnombre validant",
            Self::SurnombreNonValidant => "surnombre non validant",
        }
    }

    pub fn is_supernumerary(self) -> bool {
        !matches!(self, Self::Classique)
    }
}

impl fmt::Display for ChoiceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::ChoiceType;

    #[test]
    fn matches_values_like_headers() {
        assert_eq!(ChoiceType::parse("").unwrap(), ChoiceType::Classique);
        assert_eq!(ChoiceType::parse("Surnombre validant").unwrap(), ChoiceType::SurnombreValidant);
        assert_eq!(ChoiceType::parse("surnombre_validant").unwrap(), ChoiceType::SurnombreValidant);
        assert_eq!(ChoiceType::parse("Surnombre non-validant").unwrap(), ChoiceType::SurnombreNonValidant);
        assert!(ChoiceType::parse("au hasard").is_err());
        for t in [ChoiceType::Classique, ChoiceType::SurnombreValidant, ChoiceType::SurnombreNonValidant] {
            assert_eq!(ChoiceType::parse(t.as_str()).unwrap(), t);
            assert_eq!(ChoiceType::parse(t.label()).unwrap(), t);
        }
    }
}
