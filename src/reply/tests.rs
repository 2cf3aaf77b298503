//! End-to-end tests of [`super::parse`] on small messages, and the
//! robustness guarantees: any bytes, huge and deeply nested messages.

use proptest::prelude::*;

use super::{parse, to_json, Kind, KnownPosts};

const TOKEN: &str = "k7m2q3x4b3n5c6d7";
/// How deep the nested HTML of the robustness test goes.
const DEEP_HTML: usize = 1_000;

fn message(headers: &str, body: &str) -> Vec<u8> {
    format!("From: Jean Dupont <Jean.Dupont@example.fr>\nTo: choix+{TOKEN}@asso.example\nSubject: Re: Choix de stage\nMessage-ID: <m1@example.fr>\n{headers}\n{body}").into_bytes()
}

fn known() -> KnownPosts {
    KnownPosts::new(["1234", "5678", "9012", "7"])
}

#[test]
fn a_plain_reply_gives_sender_token_and_ordered_choices() {
    let raw = message("", "5678\n1234\n5678\n4444\n\nLe lun. 4 mai 2020 à 09:12, Choix <choix@asso.example> a écrit :\n> 9012\n");
    let parsed = parse(&raw, &known());
    let json = to_json(&parsed);
    assert_eq!(json["kind"], "choices");
    assert_eq!(json["choices"], serde_json::json!(["5678", "1234"]));
    assert_eq!(json["invalid"], serde_json::json!(["4444"]));
    assert_eq!(json["sender"], "jean.dupont@example.fr");
    assert_eq!(json["token"], TOKEN);
    assert_eq!(parsed.message_id.as_deref(), Some("m1@example.fr"));
}

#[test]
fn with_no_known_posts_every_number_in_choice_position_is_a_choice() {
    let parsed = parse(&message("", "4444, 7\n"), &KnownPosts::default());
    assert_eq!(to_json(&parsed)["choices"], serde_json::json!(["4444", "7"]));
}

#[test]
fn quoted_printable_soft_break_inside_a_number_is_joined() {
    let headers =
        "Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n";
    let parsed = parse(&message(headers, "Voil=E0 mes choix : 12=\n34, 5678\n"), &known());
    assert_eq!(to_json(&parsed)["choices"], serde_json::json!(["1234", "5678"]));
}

#[test]
fn html_only_reply_keeps_block_boundaries() {
    let headers = "Content-Type: text/html; charset=utf-8\n";
    let body = "<div>1234</div><div>5678</div><div class=\"gmail_quote\">9012</div>";
    let parsed = parse(&message(headers, body), &known());
    assert_eq!(to_json(&parsed)["choices"], serde_json::json!(["1234", "5678"]));
}

#[test]
fn automatic_mail_is_recognised_before_the_text() {
    let auto = parse(&message("Auto-Submitted: auto-replied\n", "Je suis absent. 1234\n"), &known());
    assert_eq!(auto.kind, Kind::AutoReply);
    let not_auto = parse(&message("Auto-Submitted: no\nX-Auto-Response-Suppress: All\n", "1234\n"), &known());
    assert_eq!(not_auto.kind, Kind::Choices);
    let raw = String::from_utf8(message(
        "", "1234
",
    ))
    .unwrap()
    .replacen("Re: Choix de stage", "Lu : Choix de stage", 1);
    let receipt = parse(raw.as_bytes(), &known());
    assert_eq!(receipt.kind, Kind::Receipt);
}

#[test]
fn exchange_loop_header_needs_the_suppress_header_and_empty_return_path_is_a_bounce() {
    let both = "X-MS-Exchange-Inbox-Rules-Loop: a@b.fr\nX-Auto-Response-Suppress: All\n";
    assert_eq!(parse(&message(both, "1234\n"), &known()).kind, Kind::AutoReply);
    let loop_only = "X-MS-Exchange-Inbox-Rules-Loop: a@b.fr\n";
    assert_eq!(parse(&message(loop_only, "1234\n"), &known()).kind, Kind::Choices);
    assert_eq!(parse(&message("Return-Path: <>\n", "1234\n"), &known()).kind, Kind::Bounce);
}

#[test]
fn a_delivery_status_report_gives_the_failed_recipient_and_message_id() {
    let raw = "From: MAILER-DAEMON@mx.example\nTo: choix@asso.example\nSubject: Undelivered Mail Returned to Sender\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\nSorry.\n--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example\n\nFinal-Recipient: rfc822; Absent@Example.fr\nAction: failed\nStatus: 5.1.1\n--b\nContent-Type: text/rfc822-headers\n\nMessage-ID: <invite-42@asso.example>\nTo: absent@example.fr\n--b--\n";
    let parsed = parse(raw.as_bytes(), &known());
    assert_eq!(parsed.kind, Kind::Bounce);
    assert_eq!(
        parsed.bounced_recipients.iter().map(|e| e.as_str()).collect::<Vec<_>>(),
        ["absent@example.fr"]
    );
    assert_eq!(parsed.bounced_message_id.as_deref(), Some("invite-42@asso.example"));
}

#[test]
fn a_twenty_megabyte_message_parses() {
    let mut body = String::from("1234\n5678\n");
    let filler = "> 9012 – a quoted line of the template that goes on and on\n";
    while body.len() < 20 * 1024 * 1024 {
        body.push_str(filler);
    }
    let parsed = parse(&message("", &body), &known());
    assert_eq!(to_json(&parsed)["choices"], serde_json::json!(["1234", "5678"]));
    assert!(parsed.notes.iter().any(|n| n.contains("bytes were read")), "{:?}", parsed.notes);
}

#[test]
fn a_twenty_megabyte_line_of_numbers_is_bounded() {
    let body = "1234 ".repeat(4 * 1024 * 1024);
    let parsed = parse(&message("", &body), &KnownPosts::default());
    assert_eq!(parsed.choices.len(), 1, "repeats are dropped");
    assert!(parsed.notes.iter().any(|n| n.contains("only the first")), "{:?}", parsed.notes);
}

#[test]
fn a_message_nested_a_hundred_levels_deep_parses() {
    let mut raw = String::from("From: a@example.fr\nSubject: deep\n");
    for depth in 0..100 {
        raw.push_str(&format!("Content-Type: multipart/mixed; boundary=\"b{depth}\"\n\n--b{depth}\n"));
    }
    raw.push_str("Content-Type: text/plain\n\n1234\n");
    for depth in (0..100).rev() {
        raw.push_str(&format!("--b{depth}--\n"));
    }
    let parsed = parse(raw.as_bytes(), &known());
    assert_eq!(parsed.sender.map(|s| s.to_string()).as_deref(), Some("a@example.fr"));

    let mut nested = String::from("From: a@example.fr\nSubject: deep\nContent-Type: text/html\n\n");
    nested.push_str(&"<div>".repeat(DEEP_HTML));
    nested.push_str("1234");
    let parsed = parse(nested.as_bytes(), &known());
    assert_eq!(parsed.kind, Kind::Choices);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn parse_never_panics_on_arbitrary_bytes(raw in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let parsed = parse(&raw, &known());
        let _ = to_json(&parsed);
        let _ = super::explain(&parsed);
        let _ = super::content_hash(&raw);
    }

    #[test]
    fn parse_never_panics_on_mail_like_text(body in "(\\PC|\\n|>|<div>|=\\n|[0-9]{1,6}| ){0,400}") {
        let parsed = parse(&message("Content-Type: text/html\n", &body), &known());
        let _ = to_json(&parsed);
        let parsed = parse(&message("Content-Transfer-Encoding: quoted-printable\n", &body), &known());
        let _ = to_json(&parsed);
    }
}
