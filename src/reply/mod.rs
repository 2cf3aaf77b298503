//! Understanding a reply: from the raw bytes of an email to what the intern
//! actually wrote (SPEC §6). Pure: no I/O, no database.
//!
//! The pipeline, one submodule per step:
//! 1. [`mime`]: read the headers and pick the body (text/plain first, else
//!    the HTML rendered by [`html`], which drops the quote containers);
//! 2. [`classify`]: automatic mail (bounce, read receipt, auto-reply) is
//!    recognised from headers and structure before any text is read;
//! 3. [`quotes`] and [`signature`]: keep only the lines the intern wrote;
//! 4. [`numbers`]: the grammar that finds the numbers in choice position;
//! 5. [`token`]: the personal reference, from a plus address or the subject;
//! 6. [`doubts`]: the words that may change what the numbers mean;
//! 7. [`command`]: a command (`STATUT`, `PROCURATION …`) instead of a list.
//!
//! Work is bounded (see the `MAX_*` constants) so that a hostile or absurd
//! message (20 MB, 100 nested parts) costs little and never panics.

mod authenticity;
mod classify;
mod command;
mod doubts;
mod html;
mod mime;
mod numbers;
mod quotes;
mod report;
mod signature;
mod token;

use std::collections::HashSet;

use crate::domain::{ArsId, Email, Token};

pub use authenticity::HeaderFacts;
pub use command::{Command, ProxyTarget};
pub use report::{content_hash, explain, to_json};

/// Only this many bytes of the chosen body are read (the intern's answer is
/// at the top; the rest is quotes and attachments).
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Only this many bytes of the intern's own text go to the number grammar.
pub const MAX_OWN_TEXT_BYTES: usize = 16 * 1024;
/// At most this many candidate numbers are considered.
pub const MAX_CANDIDATES: usize = 300;

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

impl Kind {
    /// The name used in `parse-reply --json` (SPEC §9).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Choices => "choices",
            Kind::Empty => "empty",
            Kind::AutoReply => "auto_reply",
            Kind::Bounce => "bounce",
            Kind::Receipt => "receipt",
        }
    }
}

/// The ARS numbers the session knows, when there are any. With an empty set,
/// every well-formed number in a choice position is taken as a choice.
#[derive(Debug, Clone, Default)]
pub struct KnownPosts {
    /// The known ARS numbers, exactly as imported.
    pub ars_ids: HashSet<String>,
}

impl KnownPosts {
    /// Builds the set from any list of identifiers.
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(ids: I) -> Self {
        Self { ars_ids: ids.into_iter().map(Into::into).collect() }
    }
}

/// What was understood of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedReply {
    /// What kind of message this is.
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
    /// The Message-ID header, if any, without its angle brackets.
    pub message_id: Option<String>,
    /// The message IDs of the References header, in order, without angle
    /// brackets (an answer continues the thread with them).
    pub references: Vec<String>,
    /// The decoded subject (empty when there is none).
    pub subject: String,
    /// The text taken as the intern's own words (for explanations and audit).
    pub own_text: String,
    /// For bounces: the failed recipient addresses found in the report.
    pub bounced_recipients: Vec<Email>,
    /// For bounces: the Message-ID (without angle brackets) of the message
    /// that could not be delivered, from the returned headers or the report.
    pub bounced_message_id: Option<String>,
    /// Human-readable notes on how the message was understood.
    pub notes: Vec<String>,
    /// Why the reading may not be what the intern meant: short French
    /// sentences quoting the words; empty when the reading is sure.
    pub doubts: Vec<String>,
    /// A command written instead of a list (SPEC §11). When there is one,
    /// the message holds no choices: `choices` and `invalid` are empty and
    /// the kind is [`Kind::Empty`].
    pub command: Option<Command>,
    /// The header facts later steps need, read in the same pass.
    pub headers: HeaderFacts,
    /// [`content_hash`] of the raw message: the same message delivered
    /// twice hashes the same.
    pub content_hash: String,
}

/// The `<…>` identifiers of a References header, at most 50 (a thread that
/// long is a loop or an attack, not a conversation).
fn message_ids(value: &str) -> Vec<String> {
    value
        .split('<')
        .skip(1)
        .filter_map(|part| part.split_once('>').map(|(id, _)| id.trim().to_string()))
        .filter(|id| !id.is_empty() && id.len() <= 250)
        .take(50)
        .collect()
}

/// Parses one raw message. Never panics; see the `MAX_*` bounds.
pub fn parse(raw: &[u8], known: &KnownPosts) -> ParsedReply {
    let envelope = mime::Envelope::read(raw);
    let mut parsed = ParsedReply {
        headers: HeaderFacts::read(&envelope),
        content_hash: content_hash(raw),
        kind: Kind::Empty,
        sender: envelope.sender.clone(),
        token: token::find(&envelope),
        choices: Vec::new(),
        invalid: Vec::new(),
        message_id: envelope.message_id.clone(),
        references: envelope.header("references").map(message_ids).unwrap_or_default(),
        subject: envelope.subject.clone(),
        own_text: String::new(),
        bounced_recipients: Vec::new(),
        bounced_message_id: None,
        notes: envelope.notes.clone(),
        doubts: Vec::new(),
        command: None,
    };
    if let Some(automatic) = classify::automatic(&envelope) {
        parsed.kind = automatic.kind;
        parsed.notes.push(automatic.reason);
        parsed.bounced_recipients = automatic.bounced_recipients;
        parsed.bounced_message_id = automatic.bounced_message_id;
        return parsed;
    }
    let own = quotes::own_text(&envelope.body);
    parsed.notes.extend(own.notes);
    let mut own_text = own.text;
    if own_text.len() > MAX_OWN_TEXT_BYTES {
        own_text.truncate(floor_char_boundary(&own_text, MAX_OWN_TEXT_BYTES));
        parsed
            .notes
            .push(format!("only the first {MAX_OWN_TEXT_BYTES} bytes of the intern's text were read"));
    }
    let grouped = (!known.ars_ids.is_empty())
        .then(|| numbers::join_thousands(&own_text, |n| known.ars_ids.contains(n)))
        .flatten();
    let reading_text = match &grouped {
        Some((text, joined)) => {
            parsed
                .notes
                .extend(joined.iter().map(|g| format!("« {g} » read as one number, its thousands grouped")));
            text.as_str()
        }
        None => own_text.as_str(),
    };
    let mut read = read_numbers(reading_text, &mut parsed.notes);
    if read.follow_said_order() {
        parsed.notes.push("the order said in words (\"en premier\", \"en dernier\"…) was followed".into());
    }
    for (number, why) in read.aside.iter().take(MAX_ASIDE_NOTES) {
        parsed.notes.push(format!("{number} set aside: {why}"));
    }
    let numbers = read.choices;
    if let Some((command, place)) = command::find(&own_text, &parsed.subject, !numbers.is_empty()) {
        parsed.notes.push(format!("the command {} was read in {place}", command.word()));
        parsed.command = Some(command);
        parsed.own_text = own_text;
        return parsed;
    }
    if numbers.len() >= MAX_CANDIDATES {
        parsed.notes.push(format!("only the first {MAX_CANDIDATES} numbers were considered"));
    }
    sort_numbers(&mut parsed, numbers, known);
    parsed.kind =
        if parsed.choices.is_empty() && parsed.invalid.is_empty() { Kind::Empty } else { Kind::Choices };
    if !parsed.choices.is_empty() {
        let withdrawn: Vec<&str> = read
            .aside
            .iter()
            .filter(|(_, why)| *why == numbers::WITHDRAWN_AFTER_CHOSEN)
            .map(|(number, _)| number.as_str())
            .collect();
        parsed.doubts = doubts::doubts(reading_text, &parsed.choices, &withdrawn);
    }
    parsed.own_text = own_text;
    parsed
}

/// Splits the numbers in choice position into known choices and invalid ones,
/// keeping the intern's order and dropping repeats.
fn sort_numbers(parsed: &mut ParsedReply, numbers: Vec<String>, known: &KnownPosts) {
    let mut seen = HashSet::new();
    for number in numbers {
        if !seen.insert(number.clone()) {
            continue;
        }
        let is_known = known.ars_ids.is_empty() || known.ars_ids.contains(&number);
        match ArsId::parse(&number) {
            Ok(id) if is_known => parsed.choices.push(id),
            _ => parsed.invalid.push(number),
        }
    }
}

/// The numbers of the intern's own text; after a self-correction ("en
/// fait non, mettez…"), the list is read from the correction on, and what
/// came before is set aside (`notes` says so).
fn read_numbers(own_text: &str, notes: &mut Vec<String>) -> numbers::Numbers {
    let read = numbers::read_numbers(own_text);
    let Some((start, sentence)) = doubts::correction_start(own_text) else { return read };
    let corrected = numbers::read_numbers(&own_text[start..]);
    if corrected.choices.is_empty() {
        return read;
    }
    let before = numbers::read_numbers(&own_text[..start]);
    // "1043, 2345, 2210 ou plutôt 2210 d'abord" moves a post of the list,
    // it does not replace the list: the place said is followed instead.
    let moves = corrected.places.iter().any(Option::is_some)
        && corrected.choices.iter().all(|c| before.choices.contains(c));
    if moves {
        return read;
    }
    notes.push(format!(
        "« {} » corrects what came before: the list is read from there",
        sentence.chars().take(120).collect::<String>()
    ));
    let replaced = before.choices.into_iter().map(|n| (n, "replaced by a later correction"));
    numbers::Numbers {
        choices: corrected.choices,
        places: corrected.places,
        aside: before.aside.into_iter().chain(replaced).chain(corrected.aside).collect(),
    }
}

/// How many numbers set aside "How it was read" names, at most.
const MAX_ASIDE_NOTES: usize = 30;

/// The largest index `<= max` that falls on a character boundary of `text`.
pub(crate) fn floor_char_boundary(text: &str, max: usize) -> usize {
    if max >= text.len() {
        return text.len();
    }
    (0..=max).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0)
}

#[cfg(test)]
mod tests;
