//! Where each post of a group stands for one intern (`POSTES`, SPEC §11):
//! its places left now, and whether the intern would obtain it if it were
//! their first wish, given the current wishes of better-ranked interns.
//!
//! A serial dictatorship makes this exact: what the better-ranked interns
//! get does not depend on anyone ranked after them, so it can be read off
//! the group's provisional allocation.

use std::collections::HashMap;

use super::{Assignment, Status};
use crate::domain::{ArsId, ChoiceType, Intern, Post};

/// One post of the intern's group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    /// The post's ARS number.
    pub ars_id: ArsId,
    /// Its places.
    pub places: u32,
    /// Places the provisional allocation of the whole group leaves.
    pub places_left: u32,
    /// Whether the intern would obtain it as their first wish, by the rules
    /// of their choice type (SPEC §5).
    pub obtainable: bool,
}

/// Every post of `posts` (the group's) for `intern`, in the order given;
/// `allocation` is the group's provisional allocation.
pub fn standing(
    posts: &[Post],
    allocation: &[Assignment],
    intern: &Intern,
    supernumerary_cap: u32,
) -> Vec<Standing> {
    #[derive(Default)]
    struct Uses {
        assigned: u32,
        assigned_ahead: u32,
        supernumeraries_ahead: u32,
    }
    let mut uses: HashMap<&ArsId, Uses> = HashMap::new();
    for assignment in allocation {
        let Some(ars_id) = &assignment.ars_id else { continue };
        let entry = uses.entry(ars_id).or_default();
        let ahead = assignment.rank < intern.rank;
        match assignment.status {
            Status::Assigned => {
                entry.assigned += 1;
                entry.assigned_ahead += u32::from(ahead);
            }
            Status::Surnombre => entry.supernumeraries_ahead += u32::from(ahead),
            Status::Absent | Status::Unassigned => {}
        }
    }
    posts
        .iter()
        .map(|post| {
            let used = uses.get(&post.ars_id);
            let count = |f: fn(&Uses) -> u32| used.map_or(0, f);
            let place_at_rank = count(|u| u.assigned_ahead) < post.places;
            let supernumerary_free = count(|u| u.supernumeraries_ahead) < supernumerary_cap;
            let obtainable = match intern.choice_type {
                ChoiceType::Classique => place_at_rank,
                ChoiceType::SurnombreValidant => place_at_rank && supernumerary_free,
                ChoiceType::SurnombreNonValidant => supernumerary_free,
            };
            Standing {
                ars_id: post.ars_id.clone(),
                places: post.places,
                places_left: post.places.saturating_sub(count(|u| u.assigned)),
                obtainable,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::standing;
    use crate::allocation::{allocate, AllocationInput};
    use crate::domain::{ArsId, ChoiceType, Email, Group, Intern, Post, Rank};

    fn intern(rank: u32, choice_type: ChoiceType) -> Intern {
        Intern {
            rank: Rank::new(rank).unwrap(),
            last_name: format!("N{rank}"),
            first_name: "P".into(),
            group: Group::parse("G").unwrap(),
            email: Email::parse(&format!("i{rank}@ex.fr")).unwrap(),
            choice_type,
            proxy_email: None,
        }
    }

    #[test]
    fn a_post_taken_by_better_ranked_interns_is_not_obtainable_but_one_taken_after_is() {
        let posts = vec![Post::sample("100", "G"), Post::sample("200", "G")];
        let interns = vec![
            intern(1, ChoiceType::Classique),
            intern(2, ChoiceType::Classique),
            intern(3, ChoiceType::SurnombreNonValidant),
        ];
        let wishes: HashMap<Email, Vec<ArsId>> = [
            (interns[0].email.clone(), vec![ArsId::parse("100").unwrap()]),
            (interns[2].email.clone(), vec![ArsId::parse("200").unwrap()]),
        ]
        .into();
        let taken = [(interns[1].email.clone(), vec![ArsId::parse("200").unwrap()])];
        let wishes: HashMap<_, _> = wishes.into_iter().chain(taken).collect();
        let allocation = allocate(AllocationInput {
            posts: &posts,
            interns: &interns,
            wishes: &wishes,
            supernumerary_cap: 1,
        });
        let for_second = standing(&posts, &allocation.assignments, &interns[1], 1);
        assert_eq!((for_second[0].obtainable, for_second[0].places_left), (false, 0));
        // 200 is the second intern's own: obtainable at their rank.
        assert_eq!((for_second[1].obtainable, for_second[1].places_left), (true, 0));
        // A supernumerary non validant takes a full post, once.
        let for_third = standing(&posts, &allocation.assignments, &interns[2], 1);
        assert!(for_third.iter().all(|s| s.obtainable));
    }
}
