//! Reading the message with mail-parser 0.11: the headers the classifier and
//! the token need, and the one body that holds the intern's answer.
//!
//! The text/plain alternative is preferred: every client quotes it in a way
//! [`super::quotes`] recognises, and it is far cheaper than building a DOM.
//! HTML-only messages go through [`super::html`], never through mail-parser's
//! own HTML-to-text, which glues `<div>12</div><div>45</div>` into "12457".

use mail_parser::{Message, MessageParser, MimeHeaders, PartType};
use once_cell::sync::Lazy;

use super::{floor_char_boundary, html, MAX_BODY_BYTES};
use crate::domain::Email;

/// mail-parser builds a table of header parsers in `default()`: build it once.
static PARSER: Lazy<MessageParser> = Lazy::new(MessageParser::default);

/// Everything later steps need from the message, already decoded.
#[derive(Debug, Default)]
pub(crate) struct Envelope {
    /// Top-level headers: lower-case name and unfolded raw value, in order.
    pub headers: Vec<(String, String)>,
    /// The sender's address (From, else Sender).
    pub sender: Option<Email>,
    /// The decoded subject (RFC 2047), or empty.
    pub subject: String,
    /// The Message-ID, without angle brackets.
    pub message_id: Option<String>,
    /// `type/subtype` of the top-level part, lower case.
    pub content_type: String,
    /// The `report-type` parameter of a multipart/report, lower case.
    pub report_type: Option<String>,
    /// `type/subtype` of every part of the top-level message.
    pub part_types: Vec<String>,
    /// The text of a message/delivery-status part, if any.
    pub delivery_status: Option<String>,
    /// The header section of the returned message in a bounce, if any.
    pub returned_headers: Option<String>,
    /// The body chosen as the reply, with LF line endings.
    pub body: String,
    /// Where [`Envelope::body`] came from, for the explanation.
    pub notes: Vec<String>,
}

impl Envelope {
    /// Reads a raw message; an unreadable one gives an empty envelope.
    pub fn read(raw: &[u8]) -> Self {
        let Some(message) = PARSER.parse(raw) else {
            return Self {
                notes: vec!["the message could not be read as an email".into()],
                ..Self::default()
            };
        };
        let mut envelope = Self {
            headers: message
                .headers_raw()
                .map(|(name, value)| (name.to_ascii_lowercase(), unfold(value)))
                .collect(),
            sender: sender(&message),
            subject: message.subject().unwrap_or_default().to_string(),
            message_id: message.message_id().map(str::to_string),
            ..Self::default()
        };
        read_structure(&message, &mut envelope);
        let (body, note) = body(&message);
        envelope.body = body;
        envelope.notes.push(note);

        envelope
    }

    /// The first value of a header (name in lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// Joins folded header lines and trims the value.
fn unfold(value: &str) -> String {
    value.split(['\r', '\n']).map(str::trim).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ")
}

fn sender(message: &Message) -> Option<Email> {
    [message.from(), message.sender()]
        .into_iter()
        .flatten()
        .filter_map(|address| address.first()?.address.as_deref().map(Email::parse))
        .find_map(Result::ok)
}

fn type_of(ctype: Option<&mail_parser::ContentType>) -> String {
    match ctype {
        Some(ct) => format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or("")).to_ascii_lowercase(),
        None => "text/plain".into(),
    }
}

/// Records the MIME structure a bounce or a receipt is recognised by.
fn read_structure(message: &Message, envelope: &mut Envelope) {
    let root = message.root_part();
    envelope.content_type = type_of(root.content_type());
    envelope.report_type =
        root.content_type().and_then(|ct| ct.attribute("report-type")).map(|t| t.to_ascii_lowercase());
    for part in message.parts.iter().take(1000) {
        let ptype = type_of(part.content_type());
        match ptype.as_str() {
            "message/delivery-status" | "message/global-delivery-status" => {
                envelope.delivery_status.get_or_insert_with(|| lossy(part.contents()));
            }
            "text/rfc822-headers" | "message/global-headers" => {
                envelope.returned_headers.get_or_insert_with(|| lossy(part.contents()));
            }
            "message/rfc822" | "message/global" => {
                if let PartType::Message(inner) = &part.body {
                    let end = (inner.root_part().offset_body as usize).min(inner.raw_message().len());
                    envelope.returned_headers.get_or_insert_with(|| lossy(&inner.raw_message()[..end]));
                }
            }
            _ => {}
        }
        envelope.part_types.push(ptype);
    }
}

fn lossy(bytes: &[u8]) -> String {
    let bytes = &bytes[..bytes.len().min(MAX_BODY_BYTES)];
    String::from_utf8_lossy(bytes).into_owned()
}

/// The body that holds the reply: the first text body, else the first HTML
/// body; with the line endings made LF and format=flowed undone.
fn body(message: &Message) -> (String, String) {
    let chosen = message.text_body.first().or(message.html_body.first()).and_then(|&id| message.part(id));
    let Some(part) = chosen else {
        return (String::new(), "the message has no text body".into());
    };
    let (text, note) = decoded_body(part);
    if part.contents().len() > MAX_BODY_BYTES {
        return (text, format!("{note}; only its first {MAX_BODY_BYTES} bytes were read"));
    }
    (text, note)
}

fn decoded_body(part: &mail_parser::MessagePart) -> (String, String) {
    match &part.body {
        PartType::Html(html_text) => {
            let html_text = clip(html_text);
            (normalize(&html::to_text(html_text)), "the reply was read from the HTML body".into())
        }
        PartType::Text(text) => {
            let text = normalize(clip(text));
            let flowed =
                part.content_type().and_then(|ct| ct.attribute("format")).map(str::to_ascii_lowercase);
            if flowed.as_deref() == Some("flowed") {
                let delsp =
                    part.content_type().and_then(|ct| ct.attribute("delsp")).map(str::to_ascii_lowercase);
                let text = unflow(&text, delsp.as_deref() == Some("yes"));
                (text, "the reply was read from the text/plain body (format=flowed)".into())
            } else {
                (text, "the reply was read from the text/plain body".into())
            }
        }
        _ => (String::new(), "the message has no readable text body".into()),
    }
}

fn clip(text: &str) -> &str {
    &text[..floor_char_boundary(text, MAX_BODY_BYTES)]
}

/// LF line endings; non-breaking and narrow spaces become plain spaces.
/// One pass over the bytes: this runs on every body and showed up first in
/// the benchmark's profile when written as three `str::replace`.
fn normalize(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let (replacement, width) = match bytes[i] {
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => (b'\n', 2),
            b'\r' => (b'\n', 1),
            0xC2 if bytes.get(i + 1) == Some(&0xA0) => (b' ', 2),
            0xE2 if bytes.get(i + 1) == Some(&0x80) && matches!(bytes.get(i + 2), Some(0xAF | 0x87)) => {
                (b' ', 3)
            }
            other => (other, 1),
        };
        out.push(replacement);
        i += width;
    }
    // Only whole characters were replaced, by ASCII: still valid UTF-8.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Undoes RFC 3676 format=flowed: a line ending in a space continues on the
/// next one (same quote depth); space-stuffing is removed.
fn unflow(text: &str, delsp: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut open_depth: Option<usize> = None;
    for line in text.split('\n') {
        let depth = line.bytes().take_while(|&b| b == b'>').count();
        let mut content = &line[depth..];
        if content.starts_with(' ') {
            content = &content[1..];
        }
        let continues = open_depth == Some(depth);
        if !continues {
            if open_depth.is_some() {
                out.push('\n');
            }
            out.push_str(&line[..depth]);
            if depth > 0 {
                out.push(' ');
            }
        }
        let soft = content.ends_with(' ') && content.trim() != "--";
        if soft {
            out.push_str(if delsp { &content[..content.len() - 1] } else { content });
            open_depth = Some(depth);
        } else {
            out.push_str(content);
            out.push('\n');
            open_depth = None;
        }
    }
    if open_depth.is_some() {
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::unflow;

    #[test]
    fn normalize_makes_lf_and_plain_spaces() {
        assert_eq!(super::normalize("a\r\nb\rc\u{a0}:\u{202f}d–e"), "a\nb\nc : d–e");
    }

    #[test]
    fn unflow_joins_soft_breaks_only() {
        assert_eq!(unflow("Mes choix : 1234, \n5678\n9012\n", false), "Mes choix : 1234, 5678\n9012\n\n");
        assert_eq!(unflow("> a \n> b\nc\n", false), "> a b\nc\n\n");
    }
}
