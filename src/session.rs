//! The session as the daemon holds it in memory: read once from the
//! database at start, then kept in step as decisions are recorded, so that
//! a storm of replies does not reload the call list for each message.
//!
//! It also keeps each group's provisional allocation (what everyone would
//! get if the session closed now). A reply that changes wishes runs its
//! group's allocation again, as the confirmation needs it anyway, from the
//! intern who changed on (`allocation::reallocate_from`: those called
//! before cannot be reached), and the difference with the one kept tells
//! who was displaced (SPEC §11's notices).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::allocation::{self, AllocationInput, Assignment, Outcome};
use crate::decide::Directory;
use crate::domain::{ArsId, Email, Group, Intern, Post};
use crate::reply::KnownPosts;
use crate::store::{PendingProxy, Store, StoredIntern};

/// Everything the decisions and the answers read.
pub struct SessionData {
    /// Every post (shared with the batch being processed).
    pub posts: Arc<Vec<Post>>,
    /// Every intern with their token and proxy in force, by email.
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
    /// The interns who turned displacement notices off (`NOTIFS NON`).
    pub muted: HashSet<Email>,
    /// The proxy requests waiting for an acceptance.
    pending: Vec<PendingProxy>,
    /// Each group's posts, interns and provisional allocation.
    groups: HashMap<Group, GroupMembers>,
}

/// The posts, interns and provisional allocation of one group.
#[derive(Default)]
struct GroupMembers {
    /// The posts open to the group.
    posts: Vec<Post>,
    /// The group's interns.
    interns: Vec<Intern>,
    /// The provisional allocation of the group with the current wishes,
    /// in call order (which does not change while the interns do not).
    allocation: Vec<Assignment>,
    /// Each intern's place in `allocation`.
    position: HashMap<Email, usize>,
}

impl GroupMembers {
    /// Allocates the group with `wishes`, keeps the result, and returns
    /// the one it replaces.
    fn allocate(&mut self, wishes: &HashMap<Email, Vec<ArsId>>, supernumerary_cap: u32) -> Vec<Assignment> {
        let allocation = allocation::allocate(AllocationInput {
            posts: &self.posts,
            interns: &self.interns,
            wishes,
            supernumerary_cap,
        });
        if self.position.is_empty() {
            self.position =
                allocation.assignments.iter().enumerate().map(|(i, a)| (a.email.clone(), i)).collect();
        }
        std::mem::replace(&mut self.allocation, allocation.assignments)
    }

    /// The allocation again after `intern`'s wishes changed, from their
    /// place in the call order on ([`allocation::reallocate_from`]: those
    /// called before them keep what they had). Gives what each intern
    /// called again had before, with what they have now.
    fn reallocate(
        &mut self,
        intern: &Email,
        wishes: &HashMap<Email, Vec<ArsId>>,
        supernumerary_cap: u32,
    ) -> Vec<(Outcome, &Assignment)> {
        let from = match self.position.get(intern) {
            Some(&from) if self.allocation.len() == self.interns.len() => from,
            _ => {
                let before = self.allocate(wishes, supernumerary_cap);
                let before = before.into_iter().map(|was| Outcome { status: was.status, ars_id: was.ars_id });
                return before.zip(&self.allocation).collect();
            }
        };
        let input = AllocationInput { posts: &self.posts, interns: &self.interns, wishes, supernumerary_cap };
        let replaced = allocation::reallocate_from(input, &mut self.allocation, from);
        replaced.into_iter().zip(&self.allocation[from..]).collect()
    }
}

/// An intern whose provisional post another intern's reply took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Displaced {
    /// The intern displaced.
    pub intern: Email,
    /// The post they had.
    pub lost: ArsId,
}

impl SessionData {
    pub async fn load_with_cap(store: &Store, supernumerary_cap: u32) -> anyhow::Result<Self> {
        // Read first: an import committed while the rest is read makes the
        // copy look stale at the next batch, never fresh when it is not.
        let revision = store.revision().await?;
        let posts = store.posts().await?;
        let stored = store.interns().await?;
        let wishes = store.wishes().await?;
        let pending = store.pending_proxies().await?;
        let muted = store.muted_interns().await?.into_iter().collect();
        let mut directory = Directory::new(&stored, &posts).with_pending(pending.clone());
        directory.retire_tokens(store.retired_tokens().await?);
        let known = KnownPosts { ars_ids: directory.known_ars_ids() };
        let mut groups: HashMap<Group, GroupMembers> = HashMap::new();
        for post in &posts {
            groups.entry(post.group.clone()).or_default().posts.push(post.clone());
        }
        for s in &stored {
            groups.entry(s.intern.group.clone()).or_default().interns.push(s.intern.clone());
        }
        for members in groups.values_mut() {
            members.allocate(&wishes, supernumerary_cap);
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
            muted,
            pending,
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

    /// What `email` would get if the session closed now, given the
    /// current wishes of better-ranked interns.
    pub fn provisional(&self, email: &Email) -> Option<Assignment> {
        let members = self.groups.get(&self.intern(email)?.group)?;
        members.position.get(email).and_then(|&i| members.allocation.get(i)).cloned()
    }

    /// The provisional allocation of `group`, in call order, and its posts.
    pub fn group(&self, group: &Group) -> (&[Assignment], &[Post]) {
        self.groups.get(group).map_or((&[], &[]), |m| (m.allocation.as_slice(), m.posts.as_slice()))
    }

    /// Every group with interns or posts, sorted by name.
    pub fn group_names(&self) -> Vec<&Group> {
        let mut names: Vec<&Group> = self.groups.keys().collect();
        names.sort();
        names
    }

    /// The interns of `group`.
    pub fn members(&self, group: &Group) -> &[Intern] {
        self.groups.get(group).map_or(&[], |m| m.interns.as_slice())
    }

    /// Replaces `intern`'s wishes (none: withdrawn), allocates their group
    /// again, and returns the other interns who lost their provisional
    /// post because of it.
    pub fn set_wishes(&mut self, intern: &Email, wishes: Vec<ArsId>) -> Vec<Displaced> {
        if wishes.is_empty() {
            self.wishes.remove(intern);
        } else {
            self.wishes.insert(intern.clone(), wishes);
        }
        let Some(group) = self.intern(intern).map(|i| i.group.clone()) else { return Vec::new() };
        let Some(members) = self.groups.get_mut(&group) else { return Vec::new() };
        members
            .reallocate(intern, &self.wishes, self.supernumerary_cap)
            .into_iter()
            .filter(|(_, now)| &now.email != intern)
            .filter_map(|(was, now)| match was.ars_id {
                Some(lost) if now.ars_id.as_ref() != Some(&lost) => {
                    Some(Displaced { intern: now.email.clone(), lost })
                }
                _ => None,
            })
            .collect()
    }

    /// `NOTIFS NON` (`muted`) or `NOTIFS OUI` for `intern`.
    pub fn set_muted(&mut self, intern: &Email, muted: bool) {
        if muted {
            self.muted.insert(intern.clone());
        } else {
            self.muted.remove(intern);
        }
    }

    /// A proxy request recorded for `pending.intern`.
    pub fn request_proxy(&mut self, pending: PendingProxy) {
        self.pending.retain(|p| p.intern != pending.intern);
        self.pending.push(pending);
        self.rebuild_directory();
    }

    /// `proxy` (`None`: nobody) is now `intern`'s proxy in force; the
    /// request waiting, if any, is gone.
    pub fn set_proxy(&mut self, intern: &Email, proxy: Option<Email>) {
        self.pending.retain(|p| &p.intern != intern);
        if let Some(stored) = self.interns.get_mut(intern) {
            stored.intern.proxy_email = proxy;
        }
        self.rebuild_directory();
    }

    /// The directory again, after a proxy changed (rare: a few per
    /// session, so rebuilding beats keeping two indexes in step).
    fn rebuild_directory(&mut self) {
        let mut stored: Vec<StoredIntern> = self.interns.values().cloned().collect();
        // The database's order, so that an address acting for two interns
        // lists them as a fresh load would.
        stored.sort_by(|a, b| (&a.intern.group, a.intern.rank).cmp(&(&b.intern.group, b.intern.rank)));
        let retired = self.directory.retired_tokens();
        let mut directory = Directory::new(&stored, &self.posts).with_pending(self.pending.clone());
        directory.retire_tokens(retired);
        self.directory = directory;
    }
}
