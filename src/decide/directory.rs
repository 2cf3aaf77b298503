//! Who is who in a session, indexed for the decisions: interns by address,
//! proxies, tokens, and which posts are open to which group.

use std::collections::{HashMap, HashSet};

use crate::domain::{ArsId, Email, Group, Post, Token};
use crate::store::{PendingProxy, StoredIntern};

/// The session as the decisions see it. Built once when the daemon starts
/// (and again when the call list or the posts change).
#[derive(Debug, Clone, Default)]
pub struct Directory {
    /// Each intern's group, by the intern's email.
    groups: HashMap<Email, Group>,
    /// The interns each address may act for: their own address, and the
    /// address of the proxy of each intern who named one.
    acts_for: HashMap<Email, Vec<Email>>,
    /// The owner of each token.
    tokens: HashMap<Token, Email>,
    /// Tokens of addresses no longer on the call list (see
    /// [`Directory::retire_tokens`]).
    retired: HashSet<Token>,
    /// Every (ARS number, group) opening.
    openings: HashSet<(ArsId, Group)>,
    /// Every ARS number, all groups together.
    known: HashSet<ArsId>,
    /// The proxy in force of each intern who has one.
    proxy_of: HashMap<Email, Email>,
    /// The requests waiting for an `ACCEPTE`, by the designated address.
    pending: HashMap<Email, PendingProxy>,
}

impl Directory {
    pub fn new(interns: &[StoredIntern], posts: &[Post]) -> Self {
        let mut directory = Self::default();
        for stored in interns {
            let intern = &stored.intern;
            directory.groups.insert(intern.email.clone(), intern.group.clone());
            directory.acts_for.entry(intern.email.clone()).or_default().push(intern.email.clone());
            if let Some(proxy) = &intern.proxy_email {
                directory.acts_for.entry(proxy.clone()).or_default().push(intern.email.clone());
                directory.proxy_of.insert(intern.email.clone(), proxy.clone());
            }
            directory.tokens.insert(stored.token.clone(), intern.email.clone());
        }
        for post in posts {
            directory.openings.insert((post.ars_id.clone(), post.group.clone()));
            directory.known.insert(post.ars_id.clone());
        }
        directory
    }

    /// The interns `address` may choose for (empty for a stranger).
    pub fn represented_by(&self, address: &Email) -> Vec<&Email> {
        self.acts_for.get(address).map(|interns| interns.iter().collect()).unwrap_or_default()
    }

    /// Adds the tokens of addresses a re-import took off the call list.
    /// Such a token is expired, not merely unknown: it was really issued,
    /// so a reply carrying it is the answer to an invitation that no longer
    /// stands, and is rejected with that reason instead of being judged by
    /// its sender alone.
    pub fn retire_tokens(&mut self, tokens: impl IntoIterator<Item = Token>) {
        self.retired.extend(tokens.into_iter().filter(|token| !self.tokens.contains_key(token)));
    }

    pub fn owner_of_token(&self, token: &Token) -> Option<&Email> {
        self.tokens.get(token)
    }

    /// The tokens [`Directory::retire_tokens`] added.
    pub fn retired_tokens(&self) -> Vec<Token> {
        self.retired.iter().cloned().collect()
    }

    /// Whether `token` was issued to an address no longer on the call list.
    pub fn is_retired(&self, token: &Token) -> bool {
        self.retired.contains(token)
    }

    pub fn group_of(&self, intern: &Email) -> Option<&Group> {
        self.groups.get(intern)
    }

    pub fn is_known(&self, ars_id: &ArsId) -> bool {
        self.known.contains(ars_id)
    }

    pub fn is_open_to(&self, ars_id: &ArsId, group: &Group) -> bool {
        self.openings.contains(&(ars_id.clone(), group.clone()))
    }

    /// Adds the proxy requests waiting for an acceptance.
    pub fn with_pending(mut self, pending: impl IntoIterator<Item = PendingProxy>) -> Self {
        self.pending = pending.into_iter().map(|p| (p.proxy.clone(), p)).collect();
        self
    }

    /// The proxy in force of `intern`.
    pub fn proxy_of(&self, intern: &Email) -> Option<&Email> {
        self.proxy_of.get(intern)
    }

    /// The request `address` was sent and has not answered yet.
    pub fn pending_for(&self, address: &Email) -> Option<&PendingProxy> {
        self.pending.get(address)
    }

    /// The request `intern` made that waits for an answer.
    pub fn pending_of(&self, intern: &Email) -> Option<&PendingProxy> {
        self.pending.values().find(|p| &p.intern == intern)
    }

    /// The intern other than `intern` for whom `address` is proxy, or has
    /// been asked to be: one person holds at most one proxy (seed 000).
    pub fn proxy_elsewhere(&self, address: &Email, intern: &Email) -> Option<&Email> {
        let in_force =
            self.acts_for.get(address).into_iter().flatten().find(|of| *of != address && *of != intern);
        in_force.or_else(|| self.pending.get(address).map(|p| &p.intern).filter(|of| *of != intern))
    }

    /// Every ARS number, as the reply parser wants them.
    pub fn known_ars_ids(&self) -> HashSet<String> {
        self.known.iter().map(|id| id.as_str().to_string()).collect()
    }
}
