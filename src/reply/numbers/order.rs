//! The order an intern says in words ("1204 en dernier, 1211 en
//! premier"), which may differ from the order written: followed, and the
//! reading still flagged for checking (`reply::doubts`).

use super::Numbers;

impl Numbers {
    /// The choices in the order the intern said in words, where it differs
    /// from the order written: when every choice has its place, by place;
    /// otherwise those said first go first and those said last go last.
    /// Whether the order changed.
    pub fn follow_said_order(&mut self) -> bool {
        if self.places.iter().all(Option::is_none) || self.places.len() != self.choices.len() {
            return false;
        }
        let all_placed = self.places.iter().all(Option::is_some);
        let key = |place: Option<u32>| match (all_placed, place) {
            (true, Some(place)) => place,
            (_, Some(1)) => 0,
            (_, Some(u32::MAX)) => 2,
            _ => 1,
        };
        let mut indexed: Vec<usize> = (0..self.choices.len()).collect();
        indexed.sort_by_key(|&i| key(self.places[i]));
        if indexed.iter().enumerate().all(|(at, &i)| at == i) {
            return false;
        }
        self.choices = indexed.iter().map(|&i| self.choices[i].clone()).collect();
        self.places = indexed.iter().map(|&i| self.places[i]).collect();
        true
    }
}

/// The place said in words right after a choice: "en premier", "en 2e",
/// "en dernier".
pub(super) fn said_place(after: &str) -> Option<u32> {
    // "en quatrième" and what follows it fit in 16 characters.
    let after = after.trim_start().chars().take(16).collect::<String>().to_lowercase();
    if ["d'abord", "d’abord", "first"].iter().any(|w| after.starts_with(w)) {
        return Some(1);
    }
    let rest = after.strip_prefix("en ")?.trim_start();
    const PLACES: &[(&str, u32)] = &[
        ("premier", 1),
        ("première", 1),
        ("priorité", 1),
        ("1er", 1),
        ("1re", 1),
        ("second", 2),
        ("seconde", 2),
        ("deuxième", 2),
        ("2e", 2),
        ("2ème", 2),
        ("troisième", 3),
        ("3e", 3),
        ("3ème", 3),
        ("quatrième", 4),
        ("4e", 4),
        ("cinquième", 5),
        ("5e", 5),
        ("dernier", u32::MAX),
        ("dernière", u32::MAX),
    ];
    PLACES
        .iter()
        .find(|(word, _)| {
            rest.strip_prefix(word).is_some_and(|tail| !tail.starts_with(|c: char| c.is_alphanumeric()))
        })
        .map(|&(_, place)| place)
}
