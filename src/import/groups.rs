//! Lining up the groups (DES) of the call list with those of the posts.
//!
//! Replies are checked group by group: a post is open to an intern only if
//! the post's group is the intern's, spelled the same. The two files come
//! from different hands (the ARS's list of posts, the association's call
//! list), so "Pédiatrie", "PEDIATRIE" and "pediatrie " routinely meet. Left
//! alone, every reply of those interns would be refused as "not open to
//! your group", which is the worst way to find out.
//!
//! So the call list takes the posts' spelling when the two differ only in
//! case, accents or punctuation (the ARS's list is the reference), and
//! what is still unmatched is reported at import: interns whose group has
//! no post, and groups with posts but no intern.

use std::collections::{BTreeMap, HashMap};

use crate::domain::{normalize_key, Group, Intern, Post};

/// What lining up the groups found, for the referent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupCheck {
    /// Call-list spellings replaced by the posts' one, with how many
    /// interns each concerned.
    pub respelled: Vec<(Group, Group, usize)>,
    /// Groups of the call list with no post at all, with how many interns.
    pub without_posts: Vec<(Group, usize)>,
    /// Groups of the posts with no intern.
    pub without_interns: Vec<Group>,
}

impl GroupCheck {
    /// One line per finding, in English, as the CLI prints them.
    pub fn notes(&self) -> Vec<String> {
        let respelled = self.respelled.iter().map(|(from, to, count)| {
            let (from, to) = (from.as_str(), to.as_str());
            format!("group {from:?} of {count} intern(s) is written {to:?} in the posts: the posts' spelling is used")
        });
        let without_posts = self.without_posts.iter().map(|(group, count)| {
            let group = group.as_str();
            format!(
                "warning: group {group:?} of {count} intern(s) has no post: all their replies will be refused \
                 until posts are imported for it"
            )
        });
        let without_interns = self
            .without_interns
            .iter()
            .map(|group| format!("note: group {:?} has posts but no intern", group.as_str()));
        respelled.chain(without_posts).chain(without_interns).collect()
    }
}

/// Gives each intern the posts' spelling of their group where the two
/// differ only in case, accents or punctuation, and reports the rest.
/// Without posts there is nothing to line up with.
pub fn align_groups(interns: &mut [Intern], posts: &[Post]) -> GroupCheck {
    if posts.is_empty() {
        return GroupCheck::default();
    }
    let by_key: HashMap<String, &Group> =
        posts.iter().map(|post| (normalize_key(post.group.as_str()), &post.group)).collect();
    let mut respelled: BTreeMap<(Group, Group), usize> = BTreeMap::new();
    for intern in interns.iter_mut() {
        if let Some(&spelling) = by_key.get(&normalize_key(intern.group.as_str())) {
            if *spelling != intern.group {
                let from = std::mem::replace(&mut intern.group, spelling.clone());
                *respelled.entry((from, spelling.clone())).or_default() += 1;
            }
        }
    }
    let mut check = check_groups(interns, posts);
    check.respelled = respelled.into_iter().map(|((from, to), count)| (from, to, count)).collect();
    check
}

/// Reports the groups of the call list with no post and the groups of the
/// posts with no intern, changing nothing. Nothing to say when either side
/// is still empty.
pub fn check_groups(interns: &[Intern], posts: &[Post]) -> GroupCheck {
    if interns.is_empty() || posts.is_empty() {
        return GroupCheck::default();
    }
    let mut interns_per_group: BTreeMap<&Group, usize> = BTreeMap::new();
    for intern in interns {
        *interns_per_group.entry(&intern.group).or_default() += 1;
    }
    let post_groups: std::collections::BTreeSet<&Group> = posts.iter().map(|post| &post.group).collect();
    GroupCheck {
        respelled: Vec::new(),
        without_posts: interns_per_group
            .iter()
            .filter(|(group, _)| !post_groups.contains(*group))
            .map(|(group, count)| ((*group).clone(), *count))
            .collect(),
        without_interns: post_groups
            .into_iter()
            .filter(|group| !interns_per_group.contains_key(group))
            .cloned()
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ChoiceType, Email, Rank};

    fn intern(rank: u32, group: &str) -> Intern {
        Intern {
            rank: Rank::new(rank).unwrap(),
            last_name: "Nom".into(),
            first_name: "Prénom".into(),
            group: Group::parse(group).unwrap(),
            email: Email::parse(&format!("i{rank}@ex.fr")).unwrap(),
            choice_type: ChoiceType::Classique,
            proxy_email: None,
        }
    }

    fn group(name: &str) -> Group {
        Group::parse(name).unwrap()
    }

    #[test]
    fn the_call_list_takes_the_posts_spelling_of_a_group() {
        let posts = [Post::sample("1", "Pédiatrie"), Post::sample("2", "Médecine générale")];
        let mut interns = [
            intern(1, "PEDIATRIE"),
            intern(2, "pédiatrie"),
            intern(3, "Pédiatrie"),
            intern(4, "medecine-generale"),
        ];
        let check = align_groups(&mut interns, &posts);
        assert!(interns[..3].iter().all(|i| i.group == group("Pédiatrie")), "{interns:?}");
        assert_eq!(interns[3].group, group("Médecine générale"));
        assert_eq!(
            check.respelled,
            vec![
                (group("PEDIATRIE"), group("Pédiatrie"), 1),
                (group("medecine-generale"), group("Médecine générale"), 1),
                (group("pédiatrie"), group("Pédiatrie"), 1),
            ]
        );
        assert!(check.without_posts.is_empty() && check.without_interns.is_empty(), "{check:?}");
    }

    #[test]
    fn groups_that_do_not_match_are_reported_on_both_sides() {
        let posts = [Post::sample("1", "Pédiatrie"), Post::sample("2", "Psychiatrie")];
        let mut interns = [intern(1, "Pédiatrie"), intern(2, "Pediatrics"), intern(3, "Pediatrics")];
        let check = align_groups(&mut interns, &posts);
        assert_eq!(interns[1].group, group("Pediatrics"), "a different word is not respelled");
        assert_eq!(check.without_posts, vec![(group("Pediatrics"), 2)]);
        assert_eq!(check.without_interns, vec![group("Psychiatrie")]);
        let notes = check.notes();
        assert!(notes[0].contains("\"Pediatrics\" of 2 intern(s) has no post"), "{notes:?}");
        assert!(notes[1].contains("\"Psychiatrie\" has posts but no intern"), "{notes:?}");
    }

    #[test]
    fn nothing_is_said_while_one_side_is_missing() {
        let mut interns = [intern(1, "Pédiatrie")];
        assert_eq!(align_groups(&mut interns, &[]), GroupCheck::default());
        assert_eq!(check_groups(&[], &[Post::sample("1", "Pédiatrie")]), GroupCheck::default());
    }
}
