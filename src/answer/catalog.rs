//! The session's posts, indexed once for the emails: by (ARS number,
//! group) for labels, and by group for the lists of open posts.
//!
//! At the close choixbot writes one result per intern (10,000 in the
//! benchmark of SPEC §10) against as many posts; looking each one up in a
//! slice would make the close quadratic. Build one catalogue per batch and
//! give it to every context.

use std::collections::HashMap;

use crate::domain::{ArsId, Group, Post};

/// The posts, indexed.
#[derive(Debug, Clone, Default)]
pub struct PostCatalog<'a> {
    /// Every post by its key (ARS number, group).
    by_key: HashMap<(&'a ArsId, &'a Group), &'a Post>,
    /// The posts of each group, ordered by ARS number (numerically when
    /// both are numbers, so 99 comes before 100).
    by_group: HashMap<&'a Group, Vec<&'a Post>>,
}

impl<'a> PostCatalog<'a> {
    pub fn new(posts: &'a [Post]) -> Self {
        let mut catalog = Self::default();
        for post in posts {
            catalog.by_key.insert((&post.ars_id, &post.group), post);
            catalog.by_group.entry(&post.group).or_default().push(post);
        }
        for posts in catalog.by_group.values_mut() {
            posts.sort_by(|a, b| ars_order(a.ars_id.as_str(), b.ars_id.as_str()));
        }
        catalog
    }

    /// The post `ars_id` as opened to `group`.
    pub fn get(&self, ars_id: &ArsId, group: &Group) -> Option<&'a Post> {
        self.by_key.get(&(ars_id, group)).copied()
    }

    /// The posts opened to `group`, in ARS-number order.
    pub fn open_to(&self, group: &Group) -> &[&'a Post] {
        self.by_group.get(group).map_or(&[], Vec::as_slice)
    }

    /// The label of `ars_id` in `group`, empty when unknown.
    pub fn label(&self, ars_id: &ArsId, group: &Group) -> String {
        self.get(ars_id, group).map(Post::label).unwrap_or_default()
    }
}

/// Numbers by value when both are numbers, else as text.
pub(crate) fn ars_order(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y).then(a.cmp(b)),
        _ => a.cmp(b),
    }
}

#[cfg(test)]
mod tests {
    use super::PostCatalog;
    use crate::answer::sample::sample_posts;
    use crate::domain::{ArsId, Group};

    #[test]
    fn open_posts_are_per_group_in_numeric_order() {
        let posts = sample_posts();
        let catalog = PostCatalog::new(&posts);
        let group = Group::parse("Pédiatrie").unwrap();
        let numbers: Vec<&str> = catalog.open_to(&group).iter().map(|p| p.ars_id.as_str()).collect();
        assert_eq!(numbers, ["87", "1234", "4521", "9012"]);
        assert!(catalog.get(&ArsId::parse("5678").unwrap(), &group).is_none());
        assert!(catalog.open_to(&Group::parse("Inconnu").unwrap()).is_empty());
    }
}
