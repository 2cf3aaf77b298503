//! Deciding what a reply means for the session (SPEC §6): whose it is,
//! whether its choices stand, and who must be told. Pure: it looks at a
//! [`ParsedReply`] and a [`Directory`] of the session, and returns a
//! [`Decision`]; storing it and sending the answers is the daemon's job.
//!
//! Attribution is deliberately strict, because a wrong attribution replaces
//! someone's wishes. A reply belongs to an intern when its sender is the
//! intern's registered address or their proxy's and, where a token is
//! present, the token is that intern's. Anything else is rejected, and
//! answers only ever go to registered addresses: never to a From or Reply-To
//! read from the incoming message, which anyone can forge.

mod command;
mod directory;
mod reason;

use std::collections::HashSet;

use chrono::{DateTime, Utc};

pub use command::Action;
pub use directory::Directory;
pub use reason::Reason;

use crate::domain::{ArsId, Email};
use crate::reply::{Kind, ParsedReply};

/// The most numbers one reply may hold. More than that is not a list of
/// wishes but a paste of the template or garbage; refusing it keeps the
/// answer readable and bounds the work.
pub const MAX_WISHES: usize = 100;

/// The outcome for one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The wishes are valid and replace the previous ones.
    Confirmed {
        /// The intern the reply is for.
        intern: Email,
        /// The new wishes, in order.
        wishes: Vec<ArsId>,
    },
    /// The reply changes nothing; the intern (if known) is told why.
    Rejected {
        /// The intern the reply was attributed to, when it could be.
        intern: Option<Email>,
        /// Every reason, in the order found.
        reasons: Vec<Reason>,
        /// An intern whose token was used from another address: they are
        /// told, at their registered addresses.
        warn_owner: Option<Email>,
    },
    /// A command that stands (SPEC §11): what it does is `action`.
    Command {
        /// The intern the command is for (sent by them or their proxy; for
        /// `ACCEPTE`, the intern who designated the sender).
        intern: Email,
        /// What it does.
        action: Action,
    },
    /// The session is closed: the intern gets the "closed" answer.
    Closed {
        /// The intern the reply is for.
        intern: Email,
    },
    /// A bounce of one of our messages, recorded against the intern.
    Bounce {
        /// The intern whose address (or proxy's) bounced, when found.
        intern: Option<Email>,
    },
    /// No answer at all (automatic mail, our own messages, duplicates).
    Ignored {
        /// Why, for the log and the audit.
        why: String,
    },
}

impl Decision {
    /// The short word stored and logged for this decision.
    pub fn verdict(&self) -> &'static str {
        match self {
            Self::Confirmed { .. } => "confirmed",
            Self::Command { .. } => "command",
            Self::Rejected { .. } => "rejected",
            Self::Closed { .. } => "closed",
            Self::Bounce { .. } => "bounce",
            Self::Ignored { .. } => "ignored",
        }
    }

    /// The intern this decision is about, if any.
    pub fn intern(&self) -> Option<&Email> {
        match self {
            Self::Confirmed { intern, .. } | Self::Command { intern, .. } | Self::Closed { intern } => {
                Some(intern)
            }
            Self::Rejected { intern, .. } | Self::Bounce { intern } => intern.as_ref(),
            Self::Ignored { .. } => None,
        }
    }
}

/// A message seen before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duplicate {
    /// Twice in the same fetch.
    InBatch,
    /// Already recorded, as this message.
    Processed(i64),
}

/// What the decision needs to know besides the message: the session, the
/// clock, and what the daemon looked up for this message. Every lookup is
/// made before and passed in, so that deciding stays a pure function.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Who is who in the session.
    pub directory: &'a Directory,
    /// Whether the session is closed: the final list has been made.
    pub closed: bool,
    /// When the message counts as received: when the IMAP server received
    /// it (INTERNALDATE), or when it was read if the server gave no date.
    /// A reply counts when this is before the deadline (SPEC §11), even if
    /// it is read after it.
    pub received: DateTime<Utc>,
    /// The session's deadline.
    pub deadline: DateTime<Utc>,
    /// Whether a trusted Authentication-Results header reports a DKIM or
    /// DMARC failure for this message.
    pub authentication_failed: bool,
    /// Whether it is one of choixbot's own messages (from its addresses,
    /// or with its header) that came back.
    pub ours: bool,
    /// Whether it was seen before (same Message-ID and content).
    pub duplicate: Option<Duplicate>,
    /// For a bounce: the intern whose message it returns, found by the
    /// returned Message-ID in the outbox. It is exact where the failed
    /// address may not be ours to recognise (a forward or an alias that
    /// bounced), so it wins over the address in the report.
    pub bounced_intern: Option<&'a Email>,
    /// Whether the session runs as the virtual amphi (`ABSENT` and
    /// `PLUS TARD` mean something only there).
    pub amphi: bool,
}

impl Context<'_> {
    /// Whether the message can no longer change anything: the list has
    /// been made, or the server received it at or after the deadline.
    pub fn too_late(&self) -> bool {
        self.closed || self.received >= self.deadline
    }
}

/// Decides one parsed message.
pub fn decide(parsed: &ParsedReply, context: Context<'_>) -> Decision {
    if context.ours {
        return Decision::Ignored { why: "our own message".into() };
    }
    match context.duplicate {
        Some(Duplicate::InBatch) => {
            return Decision::Ignored { why: "the same message twice in one fetch".into() };
        }
        Some(Duplicate::Processed(first)) => {
            return Decision::Ignored { why: format!("already processed as message {first}") };
        }
        None => {}
    }
    match parsed.kind {
        Kind::AutoReply => return Decision::Ignored { why: "automatic reply".into() },
        Kind::Receipt => return Decision::Ignored { why: "read receipt".into() },
        Kind::Bounce => {
            let intern =
                context.bounced_intern.cloned().or_else(|| bounced_intern(parsed, context.directory));
            return Decision::Bounce { intern };
        }
        Kind::Choices | Kind::Empty => {}
    }
    if let Some(command) = &parsed.command {
        return command::decide(command, parsed, context);
    }
    let intern = match attribute(parsed, context.directory) {
        Ok(intern) => intern,
        Err(rejection) => return rejection,
    };
    if context.authentication_failed {
        return rejected(intern, vec![Reason::AuthenticationFailed]);
    }
    if context.too_late() {
        return Decision::Closed { intern };
    }
    let reasons = check_choices(parsed, &intern, context.directory);
    if reasons.is_empty() {
        Decision::Confirmed { intern, wishes: parsed.choices.clone() }
    } else {
        rejected(intern, reasons)
    }
}

fn rejected(intern: Email, reasons: Vec<Reason>) -> Decision {
    Decision::Rejected { intern: Some(intern), reasons, warn_owner: None }
}

/// Whose reply this is, or the rejection that says why it is nobody's.
fn attribute(parsed: &ParsedReply, directory: &Directory) -> Result<Email, Decision> {
    let Some(sender) = parsed.sender.as_ref() else {
        return Err(unknown_sender("(no sender)"));
    };
    let represented = directory.represented_by(sender);
    if parsed.token.as_ref().is_some_and(|token| directory.is_retired(token)) {
        // Told to the sender when the sender is registered; a stranger
        // (typically the removed intern's own address) gets nothing.
        return Err(Decision::Rejected {
            intern: represented.first().map(|e| (*e).clone()),
            reasons: vec![Reason::ExpiredToken],
            warn_owner: None,
        });
    }
    let token_owner = parsed.token.as_ref().and_then(|token| directory.owner_of_token(token));
    match (token_owner, represented.as_slice()) {
        // The token is the sender's own (as intern or as proxy).
        (Some(owner), interns) if interns.contains(&owner) => Ok(owner.clone()),
        // A token used from an address that is not registered for it.
        (Some(owner), interns) => Err(Decision::Rejected {
            intern: interns.first().map(|e| (*e).clone()),
            reasons: vec![Reason::TokenOfSomeoneElse],
            warn_owner: Some(owner.clone()),
        }),
        // No usable token: the sender alone decides.
        (None, [only]) => Ok((*only).clone()),
        (None, []) => Err(unknown_sender(sender.as_str())),
        (None, [first, ..]) => Err(Decision::Rejected {
            intern: Some((*first).clone()),
            reasons: vec![Reason::AmbiguousSender],
            warn_owner: None,
        }),
    }
}

fn unknown_sender(address: &str) -> Decision {
    Decision::Rejected {
        intern: None,
        reasons: vec![Reason::UnknownSender { address: address.to_string() }],
        warn_owner: None,
    }
}

/// Every reason the intern's numbers cannot stand, in the order written.
fn check_choices(parsed: &ParsedReply, intern: &Email, directory: &Directory) -> Vec<Reason> {
    let count = parsed.choices.len() + parsed.invalid.len();
    if count == 0 {
        return vec![Reason::NoNumberFound];
    }
    if count > MAX_WISHES {
        return vec![Reason::TooManyNumbers { count, max: MAX_WISHES }];
    }
    let group = directory.group_of(intern).expect("attributed interns are in the directory");
    let mut reasons: Vec<Reason> =
        parsed.invalid.iter().map(|number| Reason::UnknownNumber(number.clone())).collect();
    let mut seen = HashSet::new();
    for ars_id in &parsed.choices {
        if !seen.insert(ars_id) {
            continue;
        }
        if !directory.is_known(ars_id) {
            reasons.push(Reason::UnknownNumber(ars_id.to_string()));
        } else if !directory.is_open_to(ars_id, group) {
            reasons.push(Reason::NotOpenToGroup { ars_id: ars_id.to_string(), group: group.to_string() });
        }
    }
    reasons
}

/// The intern whose address a bounce reports, if any.
fn bounced_intern(parsed: &ParsedReply, directory: &Directory) -> Option<Email> {
    parsed
        .bounced_recipients
        .iter()
        .find_map(|address| directory.represented_by(address).first().map(|e| (*e).clone()))
}

/// The loop breaker: whether an intern may get one more answer, given how
/// many were queued for them in the hour before the message was decided
/// (recorded ones and those of the batch being decided) and the limit
/// (`mail.max_answers_per_sender_per_hour`). An auto-responder that slips
/// through the automatic-mail checks still gets a bounded number of
/// answers; the message itself is recorded and decided all the same.
pub fn may_answer(answered_last_hour: i64, limit_per_hour: u32) -> bool {
    answered_last_hour < i64::from(limit_per_hour)
}

/// The hour [`may_answer`] counts: answers queued at or after this instant.
pub fn answer_window_start(now: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    now - chrono::Duration::hours(1)
}

#[cfg(test)]
mod tests;
