//! The session as the referent's commands see it: posts, call list, wishes,
//! and what the allocation would give now (`status`, `allocate`, `export`,
//! `export-person`).

use crate::allocation::{self, Allocation, AllocationInput};
use crate::domain::{Intern, Post};
use crate::store::Store;
use crate::Result;

/// The current state of the session, and its allocation on the current wishes.
pub struct Snapshot {
    /// Every post.
    pub posts: Vec<Post>,
    /// The call list.
    pub interns: Vec<Intern>,
    /// The current wishes of every intern who has some.
    pub wishes: std::collections::HashMap<crate::domain::Email, Vec<crate::domain::ArsId>>,
    /// What the session would give if it closed now.
    pub allocation: Allocation,
}

pub async fn snapshot(store: &Store, supernumerary_cap: u32) -> Result<Snapshot> {
    let posts = store.posts().await?;
    let interns = store.intern_list().await?;
    let wishes = store.wishes().await?;
    let allocation = allocation::allocate(AllocationInput {
        posts: &posts,
        interns: &interns,
        wishes: &wishes,
        supernumerary_cap,
    });
    Ok(Snapshot { posts, interns, wishes, allocation })
}
