//! The "to follow up" part of `status`: the people and messages choixbot
//! cannot deal with by itself, named, so the referent can pick up the
//! phone. The counts alone ("3 bounced") leave the referent asking "who?",
//! and `audit` needs an address to start from.

use std::collections::HashMap;

use serde::Serialize;

use crate::domain::Intern;
use crate::store::{BounceRow, Store, ToCheckRow, UnansweredRow};

/// How many lines of each list the text view shows; `--json` has them all.
const TEXT_LINES: usize = 20;

/// An intern of the call list, as the referent knows them.
#[derive(Debug, Clone, Serialize)]
pub struct InternLine {
    /// The address choixbot writes to.
    pub email: String,
    /// First and last name, if the intern is still on the call list.
    pub name: Option<String>,
    /// The group (DES).
    pub group: Option<String>,
    /// The rank in the group.
    pub rank: Option<u32>,
}

/// An intern whose invitation (or a later answer) bounced.
#[derive(Debug, Clone, Serialize)]
pub struct Bounced {
    /// Who.
    #[serde(flatten)]
    pub intern: InternLine,
    /// Who sent the last bounce, and its subject.
    pub detail: String,
    /// When it came (milliseconds since the epoch).
    pub at: i64,
}

/// A message that got no answer.
#[derive(Debug, Clone, Serialize)]
pub struct Unanswered {
    /// Its number, for `audit SENDER --raw N`.
    pub message: i64,
    /// Its sender, if it could be read.
    pub sender: Option<String>,
    /// When it was recorded (milliseconds since the epoch).
    pub at: i64,
}

/// An intern whose wishes in force were read with doubts.
#[derive(Debug, Clone, Serialize)]
pub struct ToCheck {
    /// Who.
    #[serde(flatten)]
    pub intern: InternLine,
    /// The reply the wishes come from, for `audit EMAIL --raw N`.
    pub message: i64,
    /// The doubts, quoting the intern's words.
    pub doubts: Vec<String>,
}

/// Everything the referent should look at by hand.
#[derive(Debug, Clone, Serialize)]
pub struct FollowUp {
    /// Interns whose mail bounced: they may never have seen the invitation.
    pub bounced: Vec<Bounced>,
    /// Replies from addresses nobody registered, rejected with no answer.
    pub from_strangers: Vec<Unanswered>,
    /// Messages kept as unprocessable, with no answer.
    pub unprocessable: Vec<Unanswered>,
    /// Interns who have not replied, by group then rank.
    pub no_reply: Vec<InternLine>,
    /// Interns whose wishes in force were read with doubts: they were
    /// asked to check them; a call settles it.
    pub to_check: Vec<ToCheck>,
}

impl FollowUp {
    /// Reads the lists and names the interns from the call list.
    pub async fn read(store: &Store, interns: &[Intern]) -> anyhow::Result<Self> {
        let by_email: HashMap<&str, &Intern> = interns.iter().map(|i| (i.email.as_str(), i)).collect();
        let line = |email: String| InternLine::new(email, &by_email);
        let bounced = store
            .bounces()
            .await?
            .into_iter()
            .map(|BounceRow { intern_email, detail, recorded_at }| Bounced {
                intern: line(intern_email),
                detail,
                at: recorded_at,
            })
            .collect();
        let mut no_reply: Vec<InternLine> =
            store.interns_without_reply().await?.into_iter().map(line).collect();
        no_reply.sort_by(|a, b| (&a.group, a.rank).cmp(&(&b.group, b.rank)));
        let to_check = store
            .wishes_to_check()
            .await?
            .into_iter()
            .map(|ToCheckRow { intern_email, id, doubts }| ToCheck {
                intern: line(intern_email),
                message: id,
                doubts,
            })
            .collect();
        Ok(Self {
            to_check,
            bounced,
            from_strangers: unanswered(store.replies_from_strangers().await?),
            unprocessable: unanswered(store.unprocessable_messages().await?),
            no_reply,
        })
    }

    /// The text view: each list with a line of advice, cut after
    /// [`TEXT_LINES`] lines. Empty when there is nothing to follow up.
    /// Once the session is `closed`, the interns without a reply are the
    /// absent ones.
    pub fn to_text(&self, closed: bool) -> String {
        let mut text = String::new();
        section(
            &mut text,
            "Invitations or answers that bounced: reach these interns another way, then fix the \
             address in the call list and import it again",
            self.bounced.iter().map(|b| format!("{} — {}", b.intern, b.detail)),
        );
        section(
            &mut text,
            "Replies from addresses that are on no list, rejected without an answer (often an intern \
             writing from another address)",
            self.from_strangers.iter().map(Unanswered::to_line),
        );
        section(
            &mut text,
            "Messages that could not be processed, without an answer",
            self.unprocessable.iter().map(Unanswered::to_line),
        );
        section(
            &mut text,
            "To check: wishes read from a reply whose words raised a doubt (the intern was asked to check \
             them; call them if they do not write again)",
            self.to_check.iter().map(|c| {
                format!(
                    "{} — {} (read it: choixbot audit {} --raw {})",
                    c.intern,
                    c.doubts.join(" "),
                    c.intern.email,
                    c.message
                )
            }),
        );
        let no_reply = if closed { "No reply before the close" } else { "No reply yet" };
        section(&mut text, no_reply, self.no_reply.iter().map(InternLine::to_string));
        if text.is_empty() {
            text
        } else {
            format!("\nTo follow up:\n{text}")
        }
    }
}

impl InternLine {
    fn new(email: String, by_email: &HashMap<&str, &Intern>) -> Self {
        let intern = by_email.get(email.as_str());
        Self {
            name: intern.map(|i| i.full_name()),
            group: intern.map(|i| i.group.as_str().to_string()),
            rank: intern.map(|i| i.rank.get()),
            email,
        }
    }
}

impl std::fmt::Display for InternLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.group, self.rank, &self.name) {
            (Some(group), Some(rank), Some(name)) => {
                write!(f, "{group}, rank {rank}: {name} <{}>", self.email)
            }
            _ => write!(f, "{} (no longer on the call list)", self.email),
        }
    }
}

impl Unanswered {
    fn to_line(&self) -> String {
        // `--raw` dumps the message whatever the address, which only has
        // to be there: "unknown" when the sender could not be read.
        let (from, address) = match self.sender.as_deref() {
            Some(sender) => (sender, sender),
            None => ("(no sender)", "unknown"),
        };
        format!(
            "#{} {} UTC from {from} (read it: choixbot audit {address} --raw {})",
            self.message,
            super::report::when(self.at),
            self.message
        )
    }
}

fn unanswered(rows: Vec<UnansweredRow>) -> Vec<Unanswered> {
    rows.into_iter()
        .map(|UnansweredRow { id, sender, received_at }| Unanswered { message: id, sender, at: received_at })
        .collect()
}

/// Appends "  TITLE (N):" and up to [`TEXT_LINES`] lines, if there are any.
fn section(text: &mut String, title: &str, lines: impl ExactSizeIterator<Item = String>) {
    let count = lines.len();
    if count == 0 {
        return;
    }
    text.push_str(&format!("  {title} ({count}):\n"));
    for line in lines.take(TEXT_LINES) {
        text.push_str(&format!("    {line}\n"));
    }
    if count > TEXT_LINES {
        text.push_str(&format!(
            "    … and {} more: `choixbot status --json` lists them all.\n",
            count - TEXT_LINES
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intern(email: &str, group: &str, rank: u32) -> InternLine {
        InternLine {
            email: email.into(),
            name: Some(format!("Prénom {rank}")),
            group: Some(group.into()),
            rank: Some(rank),
        }
    }

    fn empty() -> FollowUp {
        FollowUp {
            bounced: vec![],
            from_strangers: vec![],
            unprocessable: vec![],
            no_reply: vec![],
            to_check: vec![],
        }
    }

    #[test]
    fn nothing_to_follow_up_prints_nothing() {
        assert_eq!(empty().to_text(false), "");
    }

    #[test]
    fn each_list_names_who_or_what_and_long_lists_are_cut() {
        let mut follow_up = empty();
        follow_up.bounced.push(Bounced {
            intern: intern("a@ex.fr", "Pédiatrie", 3),
            detail: "550 5.1.1 user unknown".into(),
            at: 0,
        });
        follow_up.from_strangers.push(Unanswered { message: 42, sender: Some("x@gmail.com".into()), at: 0 });
        follow_up.no_reply =
            (1..=25).map(|rank| intern(&format!("i{rank}@ex.fr"), "Pédiatrie", rank)).collect();
        let text = follow_up.to_text(false);
        assert!(follow_up.to_text(true).contains("No reply before the close"));
        assert!(text.contains("Pédiatrie, rank 3: Prénom 3 <a@ex.fr> — 550 5.1.1 user unknown"), "{text}");
        assert!(text.contains("#42 1970-01-01 00:00:00 UTC from x@gmail.com"), "{text}");
        assert!(text.contains("choixbot audit x@gmail.com --raw 42"), "{text}");
        assert!(text.contains("No reply yet (25):"), "{text}");
        assert!(text.contains("<i20@ex.fr>") && !text.contains("<i21@ex.fr>"), "{text}");
        assert!(text.contains("… and 5 more"), "{text}");
        assert!(!text.contains("could not be processed"), "{text}");
    }

    #[test]
    fn a_message_without_a_sender_still_gets_a_command_that_works() {
        let line = Unanswered { message: 9, sender: None, at: 0 }.to_line();
        assert!(line.contains("from (no sender) (read it: choixbot audit unknown --raw 9)"), "{line}");
    }

    #[test]
    fn an_intern_no_longer_on_the_call_list_is_shown_by_address() {
        let line = InternLine { email: "gone@ex.fr".into(), name: None, group: None, rank: None };
        assert_eq!(line.to_string(), "gone@ex.fr (no longer on the call list)");
    }
}
