//! Deciding a command (SPEC §11): whose it is, and whether it stands.
//!
//! Attribution is the one of a list ([`super::attribute`]): a stranger's
//! command is rejected with no one to answer. `ACCEPTE` is the exception:
//! it comes from an address that is nobody's yet, the one an intern
//! designated, and is attributed through that request.

use super::{attribute, rejected, unknown_sender, Context, Decision, Reason};
use crate::domain::Email;
use crate::reply::{Command, ParsedReply, ProxyTarget};

/// What a command does once it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `STATUT`: the wishes and the provisional (or, after the deadline,
    /// the final) result.
    Status,
    /// `POSTES`: the group's posts and what is left at the intern's rank.
    Posts,
    /// `AIDE`: how to answer.
    Help,
    /// `ANNULER`: the wishes are withdrawn.
    Cancel,
    /// `NOTIFS OUI` (true) or `NOTIFS NON`.
    Notices(bool),
    /// `PROCURATION adresse`: a request goes to that address.
    RequestProxy(Email),
    /// `PROCURATION AUCUNE`: the proxy in force (if any) and the request
    /// waiting (if any) are revoked.
    RevokeProxy {
        /// The proxy that was in force.
        previous: Option<Email>,
        /// The address whose request was waiting.
        pending: Option<Email>,
    },
    /// `ABSENT`, in the amphi: the intern will not choose at their turn.
    Absent,
    /// `PLUS TARD`, in the amphi: the intern is called after the last of
    /// their group.
    Later,
    /// `ACCEPTE` from the designated address: they are the proxy now.
    AcceptProxy {
        /// The address that accepted.
        proxy: Email,
        /// The proxy it replaces, if one was in force.
        previous: Option<Email>,
    },
}

impl Action {
    /// The name stored in the audit.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Status => "status",
            Self::Posts => "posts",
            Self::Help => "help",
            Self::Cancel => "cancel",
            Self::Notices(true) => "notices_on",
            Self::Notices(false) => "notices_off",
            Self::RequestProxy(_) => "proxy_request",
            Self::RevokeProxy { .. } => "proxy_revoke",
            Self::AcceptProxy { .. } => "proxy_accept",
            Self::Absent => "absent",
            Self::Later => "later",
        }
    }
}

/// Decides `command`, read from `parsed`.
pub(super) fn decide(command: &Command, parsed: &ParsedReply, context: Context<'_>) -> Decision {
    if *command == Command::Accept {
        return accept(parsed, context);
    }
    let intern = match attribute(parsed, context.directory) {
        Ok(intern) => intern,
        Err(rejection) => return rejection,
    };
    if context.authentication_failed {
        return rejected(intern, vec![Reason::AuthenticationFailed]);
    }
    if context.too_late() {
        // Only STATUT still means something: it gives the final result.
        return match command {
            Command::Status => Decision::Command { intern, action: Action::Status },
            _ => Decision::Closed { intern },
        };
    }
    let action = match command {
        Command::Status => Action::Status,
        Command::Posts => Action::Posts,
        Command::Help => Action::Help,
        Command::Cancel => Action::Cancel,
        Command::Notices(on) => Action::Notices(*on),
        Command::Absent | Command::Later if !context.amphi => {
            return rejected(intern, vec![Reason::AmphiOnly(command.word().to_string())])
        }
        Command::Absent => Action::Absent,
        Command::Later => Action::Later,
        Command::Proxy(target) => match proxy(target, parsed, &intern, context) {
            Ok(action) => action,
            Err(reason) => return rejected(intern, vec![reason]),
        },
        Command::Accept => unreachable!("decided above"),
    };
    Decision::Command { intern, action }
}

/// `PROCURATION …`, from the intern themselves only: a proxy chooses for
/// the intern, but does not hand that on.
fn proxy(
    target: &ProxyTarget,
    parsed: &ParsedReply,
    intern: &Email,
    context: Context<'_>,
) -> Result<Action, Reason> {
    let directory = context.directory;
    if parsed.sender.as_ref() != Some(intern) {
        return Err(Reason::ProxyByInternOnly);
    }
    match target {
        ProxyTarget::Unreadable(text) => Err(Reason::ProxyAddressUnreadable(text.clone())),
        ProxyTarget::Nobody => Ok(Action::RevokeProxy {
            previous: directory.proxy_of(intern).cloned(),
            pending: directory.pending_of(intern).map(|p| p.proxy.clone()),
        }),
        ProxyTarget::Address(address) if address == intern => Err(Reason::ProxyIsYourself),
        ProxyTarget::Address(address) if directory.proxy_of(intern) == Some(address) => {
            Err(Reason::ProxyAlreadyYours { address: address.to_string() })
        }
        ProxyTarget::Address(address) => match directory.proxy_elsewhere(address, intern) {
            Some(_) => Err(Reason::ProxyTaken { address: address.to_string() }),
            None => Ok(Action::RequestProxy(address.clone())),
        },
    }
}

/// `ACCEPTE`: from the address a request was sent to, carrying that
/// request's token (or the intern's), or no token at all. From anyone
/// else it is refused, and a stranger gets no answer.
fn accept(parsed: &ParsedReply, context: Context<'_>) -> Decision {
    let directory = context.directory;
    let Some(sender) = parsed.sender.as_ref() else { return unknown_sender("(no sender)") };
    let request = directory.pending_for(sender).filter(|request| match &parsed.token {
        None => true,
        Some(token) => *token == request.token || directory.owner_of_token(token) == Some(&request.intern),
    });
    let Some(request) = request else {
        return match attribute(parsed, directory) {
            Ok(intern) => rejected(intern, vec![Reason::NoProxyRequest]),
            Err(rejection) => rejection,
        };
    };
    let intern = request.intern.clone();
    if context.authentication_failed {
        return rejected(intern, vec![Reason::AuthenticationFailed]);
    }
    if context.too_late() {
        return Decision::Closed { intern };
    }
    if directory.proxy_elsewhere(sender, &intern).is_some() {
        return rejected(intern, vec![Reason::ProxyTaken { address: sender.to_string() }]);
    }
    let previous = directory.proxy_of(&intern).cloned();
    Decision::Command { intern, action: Action::AcceptProxy { proxy: sender.clone(), previous } }
}
