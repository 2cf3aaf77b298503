//! The session as the daemon holds it in memory: read once from the
//! database at start, then kept in step as decisions are recorded, so that
//! a storm of replies does not reload the call list for each message.

use std::collections::HashMap;
use std::sync::Arc;

use crate::allocation::{self, AllocationInput, Assignment};
use crate::decide::Directory;
use crate::domain::{ArsId, Email, Group, Intern, Post};
use crate::reply::KnownPosts;
use crate::store::{Store, StoredIntern};

/// Everything the decisions and the answers read.
pub struct SessionData {
    /// Every post (shared with the batch being processed).
    pub posts: Arc<Vec<Post>>,
    /// Every intern with their token, by email.
    pub interns: HashMap<Email, StoredIntern>,
    /// The current wishes of every intern who has some.
    pub wishes: HashMap<Email, Vec<ArsId>>,
    /// Who is who, for the decisions.
    pub directory: Directory,
    /// The ARS numbers, for the parser.
    pub known: KnownPosts,
    /// The supernumerary cap of the session.
    pub supernumerary_cap: u32,
    /// The session's revision when it was read (see [`Store::revision`]):
    /// an import since then means the copy in memory is stale.
    pub revision: Option<String>,
    /// Each group's posts and interns, sorted out once for the provisional
    /// allocations (one per confirmation).
    groups: HashMap<Group, GroupMembers>,
}

/// The posts and interns of one group.
#[derive(Default)]
struct GroupMembers {
    /// The posts open to the group.
    posts: Vec<Post>,
    /// The group's interns.
    interns: Vec<Intern>,
}

impl SessionData {
    pub async fn load_with_cap(store: &Store, supernumerary_cap: u32) -> anyhow::Result<Self> {
        // Read first: an import committed while the rest is read makes the
        // copy look stale at the next batch, never fresh when it is not.
        let revision = store.revision().await?;
        let posts = store.posts().await?;
        let stored = store.interns().await?;
        let wishes = store.wishes().await?;
        let mut directory = Directory::new(&stored, &posts);
        directory.retire_tokens(store.retired_tokens().await?);
        let known = KnownPosts { ars_ids: directory.known_ars_ids() };
        let mut groups: HashMap<Group, GroupMembers> = HashMap::new();
        for post in &posts {
            groups.entry(post.group.clone()).or_default().posts.push(post.clone());
        }
        for s in &stored {
            groups.entry(s.intern.group.clone()).or_default().interns.push(s.intern.clone());
        }
        let interns = stored.into_iter().map(|s| (s.intern.email.clone(), s)).collect();
        Ok(Self {
            posts: Arc::new(posts),
            interns,
            wishes,
            directory,
            known,
            supernumerary_cap,
            revision,
            groups,
        })
    }

    /// Reads the session again from the database (after a rollback).
    pub async fn reload(&mut self, store: &Store) -> anyhow::Result<()> {
        *self = Self::load_with_cap(store, self.supernumerary_cap).await?;
        Ok(())
    }

    pub fn intern(&self, email: &Email) -> Option<&Intern> {
        self.interns.get(email).map(|s| &s.intern)
    }

    /// What `email` would get if the session closed now. Only the intern's
    /// group is allocated: groups are independent, and a group is a few
    /// hundred interns where the session may be ten thousand. The group's
    /// members were sorted out at load: scanning and cloning the whole
    /// session for each confirmation was most of a storm's CPU time.
    pub fn provisional(&self, email: &Email) -> Option<Assignment> {
        let members = self.groups.get(&self.intern(email)?.group)?;
        let allocation = allocation::allocate(AllocationInput {
            posts: &members.posts,
            interns: &members.interns,
            wishes: &self.wishes,
            supernumerary_cap: self.supernumerary_cap,
        });
        allocation.assignments.into_iter().find(|a| &a.email == email)
    }
}
