//! The session as the daemon holds it in memory: read once from the
//! database at start, then kept in step as decisions are recorded, so that
//! a storm of replies does not reload the call list for each message.

use std::collections::HashMap;
use std::sync::Arc;

use crate::allocation::{self, AllocationInput, Assignment};
use crate::decide::Directory;
use crate::domain::{ArsId, Email, Intern, Post};
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
}

impl SessionData {
    pub async fn load_with_cap(store: &Store, supernumerary_cap: u32) -> anyhow::Result<Self> {
        let posts = store.posts().await?;
        let stored = store.interns().await?;
        let wishes = store.wishes().await?;
        let directory = Directory::new(&stored, &posts);
        let known = KnownPosts { ars_ids: directory.known_ars_ids() };
        let interns = stored.into_iter().map(|s| (s.intern.email.clone(), s)).collect();
        Ok(Self { posts: Arc::new(posts), interns, wishes, directory, known, supernumerary_cap })
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
    /// hundred interns where the session may be ten thousand.
    pub fn provisional(&self, email: &Email) -> Option<Assignment> {
        let group = &self.intern(email)?.group;
        let posts: Vec<Post> = self.posts.iter().filter(|p| &p.group == group).cloned().collect();
        let interns: Vec<Intern> =
            self.interns.values().filter(|s| &s.intern.group == group).map(|s| s.intern.clone()).collect();
        let allocation = allocation::allocate(AllocationInput {
            posts: &posts,
            interns: &interns,
            wishes: &self.wishes,
            supernumerary_cap: self.supernumerary_cap,
        });
        allocation.assignments.into_iter().find(|a| &a.email == email)
    }
}
