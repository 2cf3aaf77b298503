//! The posts of one group as the amphi runs: places left and
//! supernumeraries, after the validations so far. SPEC §5's rules apply at
//! each turn, with what is left at that moment:
//! - classique: a post with a place left; it uses one;
//! - surnombre validant: a post with a place left and fewer than the cap
//!   of supernumeraries; it uses no place;
//! - surnombre non validant: any post of the group with fewer than the cap
//!   of supernumeraries, even full; it uses no place.

use std::collections::HashMap;

use super::{Outcome, Turn};
use crate::allocation::{compare_ars_ids, Allocation, Assignment, Status, Vacancy};
use crate::domain::{ArsId, ChoiceType, Intern, Post};

/// One group's posts and what is left of them.
#[derive(Debug, Clone)]
pub struct Seats<'a> {
    /// The group's posts, in the order of the posts file.
    posts: Vec<&'a Post>,
    /// Places taken by classique interns, per ARS number.
    taken: HashMap<ArsId, u32>,
    /// Supernumeraries placed, per ARS number.
    supernumeraries: HashMap<ArsId, u32>,
    /// How many supernumeraries one post may take.
    cap: u32,
}

impl<'a> Seats<'a> {
    /// The posts of the group of `group_posts`, nothing taken yet.
    pub fn new(group_posts: Vec<&'a Post>, cap: u32) -> Self {
        Self { posts: group_posts, taken: HashMap::new(), supernumeraries: HashMap::new(), cap }
    }

    /// Records what the settled `turns` of the group took.
    pub fn with_turns<'t>(mut self, turns: impl IntoIterator<Item = &'t Turn>) -> Self {
        for turn in turns {
            if let Some(Outcome::Chosen { ars_id, status }) = turn.settled.as_ref().map(|s| &s.outcome) {
                self.take(ars_id, *status);
            }
        }
        self
    }

    /// Records one validation.
    pub fn take(&mut self, ars_id: &ArsId, status: Status) {
        let counter = match status {
            Status::Surnombre => &mut self.supernumeraries,
            _ => &mut self.taken,
        };
        *counter.entry(ars_id.clone()).or_insert(0) += 1;
    }

    /// The group's post with this number.
    pub fn post(&self, ars_id: &ArsId) -> Option<&'a Post> {
        self.posts.iter().copied().find(|post| &post.ars_id == ars_id)
    }

    /// Places not yet taken on `post`.
    pub fn places_left(&self, post: &Post) -> u32 {
        post.places.saturating_sub(self.taken.get(&post.ars_id).copied().unwrap_or(0))
    }

    /// Whether an intern choosing as `choice_type` can obtain `post` now,
    /// and as what.
    pub fn obtainable(&self, post: &Post, choice_type: ChoiceType) -> Option<Status> {
        let room_for_supernumerary = self.supernumeraries.get(&post.ars_id).copied().unwrap_or(0) < self.cap;
        let place_left = self.places_left(post) > 0;
        match choice_type {
            ChoiceType::Classique => place_left.then_some(Status::Assigned),
            ChoiceType::SurnombreValidant => {
                (place_left && room_for_supernumerary).then_some(Status::Surnombre)
            }
            ChoiceType::SurnombreNonValidant => room_for_supernumerary.then_some(Status::Surnombre),
        }
    }

    /// The first of `wishes` that an intern choosing as `choice_type` can
    /// obtain now.
    pub fn first_obtainable(&self, choice_type: ChoiceType, wishes: &[ArsId]) -> Option<(ArsId, Status)> {
        wishes.iter().find_map(|wish| {
            let post = self.post(wish)?;
            self.obtainable(post, choice_type).map(|status| (wish.clone(), status))
        })
    }

    /// The posts an intern choosing as `choice_type` can obtain now, with
    /// their places left, in the order of the posts file.
    pub fn open_to(&self, choice_type: ChoiceType) -> Vec<(&'a Post, u32)> {
        self.posts
            .iter()
            .copied()
            .filter(|post| self.obtainable(post, choice_type).is_some())
            .map(|post| (post, self.places_left(post)))
            .collect()
    }
}

/// The amphi's result as an allocation, for the list to the ARS: each
/// intern's last settled turn (never called, or absent: `Absent`), and the
/// places nobody took. Ordered as [`crate::allocation::allocate`] orders
/// its own: by group then rank, vacancies by group then ARS number.
pub fn final_allocation(posts: &[Post], interns: &[Intern], turns: &[Turn]) -> Allocation {
    let mut last: HashMap<&str, &Turn> = HashMap::new();
    for turn in turns.iter().filter(|turn| !turn.is_open()) {
        let entry = last.entry(turn.intern.as_str()).or_insert(turn);
        if turn.round > entry.round {
            *entry = turn;
        }
    }
    let mut assignments: Vec<Assignment> = interns
        .iter()
        .map(|intern| {
            let outcome = last.get(intern.email.as_str()).and_then(|turn| turn.settled.as_ref());
            let (status, ars_id) = match outcome.map(|s| &s.outcome) {
                Some(Outcome::Chosen { ars_id, status }) => (*status, Some(ars_id.clone())),
                _ => (Status::Absent, None),
            };
            Assignment {
                email: intern.email.clone(),
                group: intern.group.clone(),
                rank: intern.rank,
                status,
                ars_id,
            }
        })
        .collect();
    assignments.sort_by(|a, b| a.group.cmp(&b.group).then(a.rank.cmp(&b.rank)).then(a.email.cmp(&b.email)));
    let mut taken: HashMap<(&str, &str), u32> = HashMap::new();
    for assignment in assignments.iter().filter(|a| a.status == Status::Assigned) {
        if let Some(ars_id) = &assignment.ars_id {
            *taken.entry((assignment.group.as_str(), ars_id.as_str())).or_insert(0) += 1;
        }
    }
    let mut places: HashMap<(&str, &str), (&Post, u32)> = HashMap::new();
    for post in posts {
        places.entry((post.group.as_str(), post.ars_id.as_str())).or_insert((post, 0)).1 += post.places;
    }
    let mut vacancies: Vec<Vacancy> = places
        .into_iter()
        .filter_map(|(key, (post, places))| {
            let places_left = places.saturating_sub(taken.get(&key).copied().unwrap_or(0));
            (places_left > 0).then(|| Vacancy {
                ars_id: post.ars_id.clone(),
                group: post.group.clone(),
                places_left,
            })
        })
        .collect();
    vacancies.sort_by(|a, b| {
        a.group.cmp(&b.group).then_with(|| compare_ars_ids(a.ars_id.as_str(), b.ars_id.as_str()))
    });
    Allocation { assignments, vacancies }
}
