//! Understanding a reply: from the raw bytes of an email to what the intern
//! actually wrote (SPEC §6). Pure: no I/O, no database.

use std::collections::HashSet;

use crate::domain::{ArsId, Email, Token};

/// What kind of message this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A person's reply that contains ARS numbers (valid or not).
    Choices,
    /// A person's reply in which no choice could be found.
    Empty,
    /// An automatic reply (out of office, auto-responder, list mail…).
    AutoReply,
    /// A bounce or delivery status notification.
    Bounce,
    /// A read receipt.
    Receipt,
}

/// The ARS numbers the session knows, when there are any. With an empty set,
/// every well-formed number in a choice position is taken as a choice.
#[derive(Debug, Clone, Default)]
pub struct KnownPosts {
    pub ars_ids: HashSet<String>,
}

/// What was understood of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedReply {
    pub kind: Kind,
    /// The sender's address (From, else Sender), if it could be read.
    pub sender: Option<Email>,
    /// The choixbot reference found in a plus address of the recipients or in
    /// the subject.
    pub token: Option<Token>,
    /// The numbers written as choices that are known ARS numbers, in order,
    /// without repeats.
    pub choices: Vec<ArsId>,
    /// The numbers written as choices that are not known ARS numbers.
    pub invalid: Vec<String>,
    /// The Message-ID header, if any.
    pub message_id: Option<String>,
    pub subject: String,
    /// The text taken as the intern's own words (for explanations and audit).
    pub own_text: String,
    /// For bounces: the failed recipient addresses found in the report.
    pub bounced_recipients: Vec<Email>,
    /// Human-readable notes on how the message was understood.
    pub notes: Vec<String>,
}

/// Parses one raw message.
pub fn parse(raw: &[u8], known: &KnownPosts) -> ParsedReply {
    let _ = (raw, known);
    todo!()
}

/// The JSON of `parse-reply --json` (SPEC §9).
pub fn to_json(parsed: &ParsedReply) -> serde_json::Value {
    let _ = parsed;
    todo!()
}

/// The explanation `parse-reply` prints.
pub fn explain(parsed: &ParsedReply) -> String {
    let _ = parsed;
    todo!()
}
