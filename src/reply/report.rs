//! What `parse-reply` shows: the JSON of SPEC §9, the human explanation,
//! and the content hash that recognises a message delivered twice.

use serde_json::json;
use sha2::{Digest, Sha256};

use super::{Kind, ParsedReply};

/// The `parse-reply --json` object of SPEC §9.
pub fn to_json(parsed: &ParsedReply) -> serde_json::Value {
    json!({
        "kind": parsed.kind.as_str(),
        "choices": parsed.choices.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        "invalid": parsed.invalid,
        "sender": parsed.sender.as_ref().map(|s| s.as_str()),
        "token": parsed.token.as_ref().map(|t| t.as_str()),
        "doubts": parsed.doubts,
    })
}

/// What was found and why, for a person reading `parse-reply`.
pub fn explain(parsed: &ParsedReply) -> String {
    let mut out = String::new();
    let kind = match parsed.kind {
        Kind::Choices => "a reply with choices",
        Kind::Empty => "a reply in which no choice was found",
        Kind::AutoReply => "an automatic reply (ignored)",
        Kind::Bounce => "a bounce (ignored)",
        Kind::Receipt => "a read receipt (ignored)",
    };
    out.push_str(&format!("Kind: {kind}\n"));
    let sender = parsed.sender.as_ref().map_or("(none)".to_string(), |s| s.to_string());
    out.push_str(&format!("Sender: {sender}\n"));
    out.push_str(&format!("Subject: {}\n", parsed.subject));
    let token = parsed.token.as_ref().map_or("(none)".to_string(), |t| t.to_string());
    out.push_str(&format!("Reference: {token}\n"));
    if parsed.kind == Kind::Bounce {
        let recipients: Vec<&str> = parsed.bounced_recipients.iter().map(|e| e.as_str()).collect();
        out.push_str(&format!(
            "Failed recipients: {}\n",
            if recipients.is_empty() { "(none found)".into() } else { recipients.join(", ") }
        ));
        if let Some(id) = &parsed.bounced_message_id {
            out.push_str(&format!("Returned message: <{id}>\n"));
        }
    }
    if matches!(parsed.kind, Kind::Choices | Kind::Empty) {
        let choices: Vec<&str> = parsed.choices.iter().map(|c| c.as_str()).collect();
        out.push_str(&format!(
            "Choices, in order: {}\n",
            if choices.is_empty() { "(none)".into() } else { choices.join(", ") }
        ));
        if !parsed.invalid.is_empty() {
            out.push_str(&format!("Not known ARS numbers: {}\n", parsed.invalid.join(", ")));
        }
        if !parsed.doubts.is_empty() {
            out.push_str("Doubts (the intern is asked to check the list):\n");
            for doubt in &parsed.doubts {
                out.push_str(&format!("  ? {doubt}\n"));
            }
        }
        out.push_str("Text taken as the intern's own:\n");
        for line in parsed.own_text.lines() {
            out.push_str(&format!("  | {line}\n"));
        }
    }
    out.push_str("How it was read:\n");
    for note in &parsed.notes {
        out.push_str(&format!("  - {note}\n"));
    }
    out
}

/// Header fields added in transit: they differ between two deliveries of the
/// same message, so they are left out of the hash.
fn is_trace_header(name: &str) -> bool {
    let name = name.trim().to_ascii_lowercase();
    matches!(
        name.as_str(),
        "received"
            | "return-path"
            | "delivered-to"
            | "x-original-to"
            | "authentication-results"
            | "dkim-signature"
    ) || name.starts_with("arc-")
}

/// SHA-256 (hex) of the message without its trace headers, with line
/// endings made LF, so the same message delivered twice hashes the same.
pub fn content_hash(raw: &[u8]) -> String {
    let mut hasher = Sha256::new();
    let mut rest = raw;
    let mut skipping = false;
    while !rest.is_empty() {
        let end = rest.iter().position(|&b| b == b'\n').map_or(rest.len(), |i| i + 1);
        let line = &rest[..end];
        rest = &rest[end..];
        let content = line.strip_suffix(b"\n").unwrap_or(line);
        let content = content.strip_suffix(b"\r").unwrap_or(content);
        if content.is_empty() {
            hasher.update(b"\n");
            hasher.update(normalize_endings(rest));
            break;
        }
        if !content.starts_with(b" ") && !content.starts_with(b"\t") {
            let name = content.split(|&b| b == b':').next().unwrap_or(b"");
            skipping = is_trace_header(&String::from_utf8_lossy(name));
        }
        if !skipping {
            hasher.update(content);
            hasher.update(b"\n");
        }
    }
    hex::encode(hasher.finalize())
}

fn normalize_endings(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    for (i, &b) in body.iter().enumerate() {
        if b == b'\r' && body.get(i + 1) == Some(&b'\n') {
            continue;
        }
        out.push(b);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::content_hash;

    #[test]
    fn trace_headers_do_not_change_the_hash() {
        let a = b"Received: from a\r\n  by b\r\nReturn-Path: <x@y.fr>\r\nFrom: x@y.fr\r\nSubject: s\r\n\r\n1234\r\n";
        let b = b"Delivered-To: z@y.fr\nARC-Seal: i=1\nFrom: x@y.fr\nSubject: s\n\n1234\n";
        assert_eq!(content_hash(a), content_hash(b));
        assert_ne!(content_hash(a), content_hash(b"From: x@y.fr\nSubject: s\n\n1235\n"));
    }
}
