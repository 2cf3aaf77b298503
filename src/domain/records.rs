//! The rows of a session: posts, interns and pre-choices, as imported.

use super::{ArsId, ChoiceType, Email, Group, Rank};

/// A post ("poste") opened by the ARS to one group. The same ARS number may
/// be opened to several groups, each with its own places: the key is
/// (`ars_id`, `group`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Post {
    /// "n° ARS".
    pub ars_id: ArsId,
    /// The group ("DES") this opening is for.
    pub group: Group,
    /// "nombre de postes": how many interns of this group it takes (≥ 1).
    pub places: u32,
    /// "hôpital", free text, may be empty.
    pub hospital: String,
    /// "service", free text, may be empty.
    pub service: String,
    /// "ville", free text, may be empty.
    pub city: String,
}

#[cfg(test)]
impl Post {
    /// A post for unit tests: one place, no hospital, service or city.
    pub(crate) fn sample(ars_id: &str, group: &str) -> Post {
        Post {
            ars_id: ArsId::parse(ars_id).unwrap(),
            group: Group::parse(group).unwrap(),
            places: 1,
            hospital: String::new(),
            service: String::new(),
            city: String::new(),
        }
    }
}

impl Post {
    /// A one-line label for emails: "Bichat – Cardiologie (Paris)".
    pub fn label(&self) -> String {
        let mut label = [self.hospital.as_str(), self.service.as_str()]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" – ");
        if !self.city.is_empty() {
            if label.is_empty() {
                label = self.city.clone();
            } else {
                label = format!("{label} ({})", self.city);
            }
        }
        label
    }
}

/// An intern ("interne") on the call list of a group.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Intern {
    /// "rang": unique within the group.
    pub rank: Rank,
    /// "nom".
    pub last_name: String,
    /// "prénom".
    pub first_name: String,
    /// "DES".
    pub group: Group,
    /// "courriel": unique across the session; the key of an intern.
    pub email: Email,
    /// "type de choix".
    pub choice_type: ChoiceType,
    /// "procuration": the address of the one person who may choose for this
    /// intern. One proxy serves at most one intern.
    pub proxy_email: Option<Email>,
}

impl Intern {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }

    /// Where every message about this intern goes (SPEC §6: answers only
    /// ever go to registered addresses): their own address, then their
    /// proxy's, each with whether it is the proxy's.
    pub fn registered_addresses(&self) -> impl Iterator<Item = (&Email, bool)> {
        std::iter::once((&self.email, false)).chain(self.proxy_email.iter().map(|proxy| (proxy, true)))
    }
}

/// Wishes collected before the session another way (seed 002, scenario 1):
/// they count as the intern's first reply.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PreChoice {
    pub email: Email,
    /// ARS numbers in preference order.
    pub wishes: Vec<ArsId>,
}
