//! Deciding who gets which post: a serial dictatorship by rank, per group
//! (SPEC §5). Pure code, no I/O: the same inputs always give the same result.
//!
//! The rules, for each group and each intern in rank order, looking at the
//! intern's current wishes in order:
//! - classique: the first wish with a place left; it uses one place;
//! - surnombre validant: the first wish that still has a place left at the
//!   intern's turn and fewer than `supernumerary_cap` supernumeraries; it
//!   uses no place;
//! - surnombre non validant: the first wish among the group's posts, even
//!   full, with fewer than `supernumerary_cap` supernumeraries; it uses no
//!   place;
//! - a wish that is not a post of the intern's group is skipped (the daemon
//!   rejects those, but wishes recorded before a re-import of the posts may
//!   have gone stale);
//! - no wishes at all: absent; wishes but none obtainable: unassigned.
//!
//! The work is done on indices (see [`board`]): strings are hashed once per
//! wish and cloned once per intern for the output, so 10,000 interns take a
//! few milliseconds.

mod board;
mod order;
mod standing;

use std::collections::HashMap;

use crate::domain::{ArsId, Email, Group, Intern, Post, Rank};

use board::Board;
pub use order::compare_ars_ids;
pub use standing::{standing, Standing};

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

/// The result of one intern.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Assignment {
    /// The intern's email, their key in the session.
    pub email: Email,
    /// The intern's group (DES).
    pub group: Group,
    /// The intern's rank within the group.
    pub rank: Rank,
    /// What the intern gets.
    pub status: Status,
    /// The post obtained, for `Assigned` and `Surnombre`.
    pub ars_id: Option<ArsId>,
}

impl Assignment {
    /// What the intern gets, without who they are.
    pub fn outcome(&self) -> Outcome {
        Outcome { status: self.status, ars_id: self.ars_id.clone() }
    }
}

/// What one intern gets: an [`Assignment`] without the intern, which
/// [`reallocate_from`] gives back for each intern it called again (their
/// place in the call order says who they are, and cloning their email and
/// group for each was a tenth of the allocation's time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// What the intern gets.
    pub status: Status,
    /// The post obtained, for `Assigned` and `Surnombre`.
    pub ars_id: Option<ArsId>,
}

/// Places left on one (post, group) after the allocation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Vacancy {
    /// The post's ARS number; its labels are those of the [`Post`] with this
    /// ARS number and group.
    pub ars_id: ArsId,
    /// The group the places are open to.
    pub group: Group,
    /// Places nobody of the group took (≥ 1).
    pub places_left: u32,
}

/// The outcome of a whole session.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Allocation {
    /// One per intern, ordered by group name then rank.
    pub assignments: Vec<Assignment>,
    /// Posts with places left, ordered by group name then ARS number (in
    /// numeric order when both are numbers, see [`compare_ars_ids`]).
    pub vacancies: Vec<Vacancy>,
}

impl Allocation {
    /// The result of the intern with this email, if they are in the session.
    pub fn assignment_of(&self, email: &Email) -> Option<&Assignment> {
        self.assignments.iter().find(|a| &a.email == email)
    }
}

/// Runs the allocation of SPEC §5.
///
/// Posts given twice with the same (ARS number, group) have their places
/// added up (the import refuses such files, so this only matters for hand
/// made inputs). Interns of equal rank in a group, which the import also
/// refuses, are taken in email order so the result stays deterministic.
pub fn allocate(input: AllocationInput<'_>) -> Allocation {
    let mut board = Board::new(input.posts, input.interns);
    let assignments =
        board.call_order(input.interns).into_iter().map(|index| assign(&mut board, &input, index)).collect();
    Allocation { assignments, vacancies: board.vacancies() }
}

/// [`allocate`]'s assignments after the wishes of the intern at place
/// `from` of `assignments` changed: `assignments` is the allocation of
/// `input`'s interns before the change, in call order (as [`allocate`]
/// gives it), and is brought up to date. Gives what the interns it called
/// again had before, from `from` on, in order (those after them did not
/// change).
///
/// What each reply needs, cheaper than a new allocation: the interns
/// called before `from` keep what they had, since the change cannot reach
/// them, so the board is set as they leave it; the rest are called again
/// until the board is back where it was at the same point of the previous
/// allocation (the changed intern took the same post, or the chain of
/// displacements closed), after which everyone gets what they had.
pub fn reallocate_from(
    input: AllocationInput<'_>,
    assignments: &mut [Assignment],
    from: usize,
) -> Vec<Outcome> {
    let mut board = Board::new(input.posts, input.interns);
    let order = board.call_order(input.interns);
    assert_eq!(order.len(), assignments.len(), "the allocation given is not of these interns");
    for (&index, kept) in order.iter().zip(&assignments[..from]) {
        board.take(index, kept.status, kept.ars_id.as_ref());
    }
    // How the board differs from the previous allocation's at this point.
    let mut difference = board::Difference::default();
    let mut replaced = Vec::new();
    for (&index, slot) in order[from..].iter().zip(&mut assignments[from..]) {
        if !replaced.is_empty() && difference.is_none() {
            break;
        }
        let now = outcome(&mut board, &input, index);
        board.differ(
            &mut difference,
            index,
            (now.status, now.ars_id.as_ref()),
            (slot.status, slot.ars_id.as_ref()),
        );
        replaced.push(Outcome {
            status: std::mem::replace(&mut slot.status, now.status),
            ars_id: std::mem::replace(&mut slot.ars_id, now.ars_id),
        });
    }
    replaced
}

/// Calls the intern at `index` of the input: what they get on `board`.
fn assign(board: &mut Board<'_>, input: &AllocationInput<'_>, index: usize) -> Assignment {
    let intern = &input.interns[index];
    let Outcome { status, ars_id } = outcome(board, input, index);
    Assignment { email: intern.email.clone(), group: intern.group.clone(), rank: intern.rank, status, ars_id }
}

/// [`assign`] without the intern's identity.
fn outcome(board: &mut Board<'_>, input: &AllocationInput<'_>, index: usize) -> Outcome {
    let intern = &input.interns[index];
    let wishes = input.wishes.get(&intern.email).map_or(&[][..], Vec::as_slice);
    if wishes.is_empty() {
        return Outcome { status: Status::Absent, ars_id: None };
    }
    match board.choose(index, intern, wishes, input.supernumerary_cap) {
        Some((status, ars_id)) => Outcome { status, ars_id: Some(ars_id.clone()) },
        None => Outcome { status: Status::Unassigned, ars_id: None },
    }
}

/// The provisional result of one intern (SPEC §5): what they would get if
/// the session closed now, given the current wishes of better-ranked
/// interns. It is the intern's entry in [`allocate`]; only their group is
/// computed, since groups do not interact.
///
/// `None` when no intern has this email.
pub fn provisional(input: AllocationInput<'_>, email: &Email) -> Option<Assignment> {
    let group = &input.interns.iter().find(|i| &i.email == email)?.group;
    let posts: Vec<Post> = input.posts.iter().filter(|p| &p.group == group).cloned().collect();
    let interns: Vec<Intern> = input.interns.iter().filter(|i| &i.group == group).cloned().collect();
    let allocation = allocate(AllocationInput { posts: &posts, interns: &interns, ..input });
    allocation.assignment_of(email).cloned()
}
