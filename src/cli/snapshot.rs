//! The session as the referent's commands see it: posts, call list, wishes,
//! and what the allocation would give now (`status`, `allocate`, `export`,
//! `export-person`).

use crate::allocation::{self, Allocation, AllocationInput};
use crate::domain::{Intern, Post};
use crate::settings::Settings;
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

/// The session now. Without a configuration, the supernumerary cap is 1.
///
/// In the virtual amphi, the result is what the turns validated, not an
/// allocation of the wishes: a validation is final, and an intern whose
/// turn has not come yet (or who got no post) shows as absent.
pub async fn snapshot(store: &Store, settings: Option<&Settings>) -> Result<Snapshot> {
    let posts = store.posts().await?;
    let interns = store.intern_list().await?;
    let wishes = store.wishes().await?;
    let allocation = match settings.and_then(Settings::amphi) {
        Some(_) => {
            let mut conn = store.pool().acquire().await.map_err(anyhow::Error::from)?;
            let turns = crate::store::amphi::turns(&mut conn).await?;
            crate::amphi::final_allocation(&posts, &interns, &turns)
        }
        None => allocation::allocate(AllocationInput {
            posts: &posts,
            interns: &interns,
            wishes: &wishes,
            supernumerary_cap: settings.map_or(1, |s| s.session.supernumerary_cap),
        }),
    };
    Ok(Snapshot { posts, interns, wishes, allocation })
}
