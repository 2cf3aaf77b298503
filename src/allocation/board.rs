//! The state of the allocation as it runs: one slot per (post, group) with
//! its places left and its supernumeraries, reached through indices so the
//! inner loop neither clones nor compares strings.
//!
//! Hash maps are only used for lookups, never iterated: every order that
//! reaches the result (groups, interns, vacancies) comes from a sort, so the
//! result does not depend on hashing.
//!
//! They hash with FxHash rather than the standard SipHash: a board is
//! built for every confirmed reply (`reallocate_from`), and SipHash was
//! about a twentieth of the deciding's CPU. SipHash's resistance to chosen
//! collisions buys nothing here: the keys are the posts and groups of the
//! referent's import, and what an intern writes is only looked up.

use rustc_hash::FxHashMap as HashMap;

use super::order::compare_ars_ids;
use super::{Status, Vacancy};
use crate::domain::{ArsId, ChoiceType, Group, Intern, Post};

/// One (post, group) during the allocation.
#[derive(Debug)]
struct Slot {
    /// Index of the group in the sorted group names.
    group: usize,
    /// Index in the posts of the first post with this (ARS number, group).
    post: usize,
    /// Places not yet taken by a classique intern.
    places_left: u32,
    /// Supernumeraries already placed here.
    supernumeraries: u32,
}

/// The slots of a session and the way to them.
pub(super) struct Board<'a> {
    /// The posts, for the ARS numbers and groups of the slots.
    posts: &'a [Post],
    /// Every group name, sorted: a group's index is its place in this list.
    groups: Vec<&'a Group>,
    /// The group index of each intern, in the order of the input.
    intern_group: Vec<usize>,
    /// (group index, ARS number) → slot index.
    slot_of: HashMap<(usize, &'a str), usize>,
    /// The slots, in the order their post first appears.
    slots: Vec<Slot>,
}

impl<'a> Board<'a> {
    pub(super) fn new(posts: &'a [Post], interns: &'a [Intern]) -> Self {
        let mut groups: Vec<&Group> =
            posts.iter().map(|p| &p.group).chain(interns.iter().map(|i| &i.group)).collect();
        groups.sort_unstable();
        groups.dedup();
        let group_index: HashMap<&str, usize> =
            groups.iter().enumerate().map(|(index, group)| (group.as_str(), index)).collect();
        let mut slot_of: HashMap<(usize, &str), usize> =
            HashMap::with_capacity_and_hasher(posts.len(), Default::default());
        let mut slots: Vec<Slot> = Vec::with_capacity(posts.len());
        for (index, post) in posts.iter().enumerate() {
            let key = (group_index[post.group.as_str()], post.ars_id.as_str());
            match slot_of.get(&key) {
                Some(&slot) => slots[slot].places_left += post.places,
                None => {
                    slot_of.insert(key, slots.len());
                    slots.push(Slot {
                        group: key.0,
                        post: index,
                        places_left: post.places,
                        supernumeraries: 0,
                    });
                }
            }
        }
        let intern_group = interns.iter().map(|i| group_index[i.group.as_str()]).collect();
        Self { posts, groups, intern_group, slot_of, slots }
    }

    /// The order in which interns choose: by group name, then rank (then
    /// email, should two interns share a rank).
    pub(super) fn call_order(&self, interns: &[Intern]) -> Vec<usize> {
        let mut order: Vec<usize> = (0..interns.len()).collect();
        order.sort_unstable_by(|&a, &b| {
            (self.intern_group[a], interns[a].rank, &interns[a].email).cmp(&(
                self.intern_group[b],
                interns[b].rank,
                &interns[b].email,
            ))
        });
        order
    }

    /// Gives the intern at `index` of the input what the rules of their
    /// choice type allow among `wishes` (not empty), and records it. `None`
    /// when no wish is obtainable.
    pub(super) fn choose(
        &mut self,
        index: usize,
        intern: &Intern,
        wishes: &[ArsId],
        cap: u32,
    ) -> Option<(Status, &'a ArsId)> {
        let group = self.intern_group[index];
        let choice_type = intern.choice_type;
        let obtainable = |slot: &Slot| match choice_type {
            ChoiceType::Classique => slot.places_left > 0,
            ChoiceType::SurnombreValidant => slot.places_left > 0 && slot.supernumeraries < cap,
            ChoiceType::SurnombreNonValidant => slot.supernumeraries < cap,
        };
        // A wish that is not a post of the group (stale after a re-import)
        // has no slot and is skipped.
        let slot = wishes
            .iter()
            .filter_map(|wish| self.slot_of.get(&(group, wish.as_str())).copied())
            .find(|&slot| obtainable(&self.slots[slot]))?;
        let slot = &mut self.slots[slot];
        let status = if choice_type.is_supernumerary() {
            slot.supernumeraries += 1;
            Status::Surnombre
        } else {
            slot.places_left -= 1;
            Status::Assigned
        };
        Some((status, &self.posts[slot.post].ars_id))
    }

    /// Records what the intern at `index` of the input already has
    /// (`status` on `ars_id`), as [`Board::choose`] would have.
    pub(super) fn take(&mut self, index: usize, status: Status, ars_id: Option<&ArsId>) {
        let Some(ars_id) = ars_id else { return };
        let Some(&slot) = self.slot_of.get(&(self.intern_group[index], ars_id.as_str())) else { return };
        let slot = &mut self.slots[slot];
        match status {
            Status::Assigned => slot.places_left = slot.places_left.saturating_sub(1),
            Status::Surnombre => slot.supernumeraries += 1,
            Status::Absent | Status::Unassigned => {}
        }
    }

    /// Adds to `difference` what the intern at `index` taking `now`
    /// instead of `before` changes on the board (each a status and its post).
    pub(super) fn differ(
        &self,
        difference: &mut Difference,
        index: usize,
        now: (Status, Option<&ArsId>),
        before: (Status, Option<&ArsId>),
    ) {
        for ((status, ars_id), sign) in [(now, 1), (before, -1)] {
            let Some(ars_id) = ars_id else { continue };
            let Some(&slot) = self.slot_of.get(&(self.intern_group[index], ars_id.as_str())) else {
                continue;
            };
            let (places, supernumeraries) = match status {
                Status::Assigned => (sign, 0),
                Status::Surnombre => (0, sign),
                Status::Absent | Status::Unassigned => continue,
            };
            difference.add(slot, places, supernumeraries);
        }
    }

    /// Every slot with places left, by group name then ARS number.
    pub(super) fn vacancies(&self) -> Vec<Vacancy> {
        let mut open: Vec<&Slot> = self.slots.iter().filter(|slot| slot.places_left > 0).collect();
        open.sort_unstable_by(|a, b| {
            a.group.cmp(&b.group).then_with(|| {
                compare_ars_ids(self.posts[a.post].ars_id.as_str(), self.posts[b.post].ars_id.as_str())
            })
        });
        open.into_iter()
            .map(|slot| Vacancy {
                ars_id: self.posts[slot.post].ars_id.clone(),
                group: self.groups[slot.group].clone(),
                places_left: slot.places_left,
            })
            .collect()
    }
}

/// How two runs of the board differ: per slot, places taken and
/// supernumeraries placed in one run and not in the other. Empty when the
/// boards are alike.
#[derive(Debug, Default)]
pub(super) struct Difference {
    /// (slot, places, supernumeraries), none of them all zero.
    slots: Vec<(usize, i64, i64)>,
}

impl Difference {
    fn add(&mut self, slot: usize, places: i64, supernumeraries: i64) {
        match self.slots.iter().position(|&(s, _, _)| s == slot) {
            Some(at) => {
                let entry = &mut self.slots[at];
                entry.1 += places;
                entry.2 += supernumeraries;
                if entry.1 == 0 && entry.2 == 0 {
                    self.slots.swap_remove(at);
                }
            }
            None => self.slots.push((slot, places, supernumeraries)),
        }
    }

    /// Whether the boards are alike.
    pub(super) fn is_none(&self) -> bool {
        self.slots.is_empty()
    }
}
