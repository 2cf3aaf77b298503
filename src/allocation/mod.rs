//! Deciding who gets which post: a serial dictatorship by rank, per group
//! (SPEC §5). Pure code, no I/O: the same inputs always give the same result.

use std::collections::HashMap;

use crate::domain::{ArsId, Email, Group, Intern, Post, Rank};

/// Everything the allocation looks at.
#[derive(Debug, Clone, Copy)]
pub struct AllocationInput<'a> {
    /// Every post of the session, all groups together.
    pub posts: &'a [Post],
    /// Every intern of the session, all groups together, in any order.
    pub interns: &'a [Intern],
    /// Each intern's current wishes, in preference order. An intern with no
    /// entry (or an empty list) is absent.
    pub wishes: &'a HashMap<Email, Vec<ArsId>>,
    /// How many supernumeraries one (post, group) may take (1 by default).
    pub supernumerary_cap: u32,
}

/// What one intern gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// A place on a post (classique).
    Assigned,
    /// A post as a supernumerary (surnombre validant or non validant).
    Surnombre,
    /// No wishes at all.
    Absent,
    /// Wishes, but none could be obtained (wishes exhausted).
    Unassigned,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Assignment {
    pub email: Email,
    pub group: Group,
    pub rank: Rank,
    pub status: Status,
    /// The post obtained, for `Assigned` and `Surnombre`.
    pub ars_id: Option<ArsId>,
}

/// Places left on one (post, group) after the allocation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Vacancy {
    pub ars_id: ArsId,
    pub group: Group,
    pub places_left: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Allocation {
    /// One per intern, ordered by group name then rank.
    pub assignments: Vec<Assignment>,
    /// Posts with places left, ordered by group name then ARS number.
    pub vacancies: Vec<Vacancy>,
}

/// Runs the allocation of SPEC §5.
pub fn allocate(input: AllocationInput<'_>) -> Allocation {
    let _ = input;
    todo!("allocation: filled in by the foundation work")
}
