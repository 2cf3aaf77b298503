//! Composed messages parse back (with mail-parser, as the daemon and the
//! interns' clients will read them) with the headers SPEC §6 requires, the
//! French text intact and the attachments byte for byte.

use choixbot::answer::sample::Samples;
use choixbot::answer::{
    derived_message_id, subject, Attachment, Outgoing, Purpose, Templates, CSV_CONTENT_TYPE, PURPOSE_HEADER,
    XLSX_CONTENT_TYPE,
};
use choixbot::domain::{Email, Token};
use choixbot::settings::{MailSettings, Settings};
use mail_parser::{MessageParser, MimeHeaders};

fn mail_settings() -> MailSettings {
    Settings::parse(choixbot::settings::TEMPLATE).expect("the init template parses").mail
}

fn parse(bytes: &[u8]) -> mail_parser::Message<'_> {
    MessageParser::default().parse(bytes).expect("the composed message parses")
}

/// A confirmation answering an intern's message, as the daemon builds it.
fn confirmation(incoming_id: &str) -> Outgoing {
    let mail = mail_settings();
    let rendered = Templates::load(None).unwrap().confirmation(&Samples::new().confirmation).unwrap();
    let token = Token::parse("abcdefghijk23456").unwrap();
    let original = subject::invitation("Semestre d'été 2020", token.as_str());
    let mut outgoing = Outgoing::from_rendered(
        Purpose::Confirmation,
        incoming_id,
        &mail,
        subject::answer(&original),
        rendered,
    )
    .unwrap();
    outgoing.to = vec![Email::parse("zoe.lefevre@exemple.fr").unwrap()];
    outgoing.cc = vec![Email::parse("camille.roux@exemple.fr").unwrap()];
    outgoing.reply_to = Some(mail.reply_to_for(&token));
    outgoing.answering(incoming_id, &["<first@phone.example>".to_string()])
}

#[test]
fn an_answer_carries_auto_submitted_threading_and_the_purpose() {
    let bytes = confirmation("CAF=abc123@mail.gmail.com").to_bytes(&mail_settings()).unwrap();
    let message = parse(&bytes);
    assert_eq!(message.header_raw("Auto-Submitted").map(str::trim), Some("auto-replied"));
    assert_eq!(message.header_raw(PURPOSE_HEADER).map(str::trim), Some("confirmation"));
    assert_eq!(message.in_reply_to().as_text(), Some("CAF=abc123@mail.gmail.com"));
    let references: Vec<&str> =
        message.references().as_text_list().expect("two references").iter().map(|r| r.as_ref()).collect();
    assert_eq!(references, ["first@phone.example", "CAF=abc123@mail.gmail.com"]);
    let to: Vec<&str> = message.to().unwrap().iter().filter_map(|a| a.address()).collect();
    assert_eq!(to, ["zoe.lefevre@exemple.fr"]);
    assert_eq!(message.cc().unwrap().first().unwrap().address(), Some("camille.roux@exemple.fr"));
}

#[test]
fn the_reply_to_carries_the_token_and_the_subject_keeps_the_reference() {
    let bytes = confirmation("a@b.example").to_bytes(&mail_settings()).unwrap();
    let message = parse(&bytes);
    let reply_to = message.reply_to().unwrap().first().unwrap().address().unwrap();
    assert_eq!(reply_to, "choix+abcdefghijk23456@asso.example");
    assert_eq!(message.subject(), Some("Re: Choix de stage – Semestre d'été 2020 – réf. abcdefghijk23456"));
}

#[test]
fn the_message_id_is_the_same_when_the_answer_is_composed_again() {
    let mail = mail_settings();
    let first = confirmation("CAF=abc123@mail.gmail.com").to_bytes(&mail).unwrap();
    let second = confirmation("CAF=abc123@mail.gmail.com").to_bytes(&mail).unwrap();
    let other = confirmation("CAF=other@mail.gmail.com").to_bytes(&mail).unwrap();
    let id = |bytes: &[u8]| parse(bytes).message_id().map(str::to_string);
    assert_eq!(id(&first), id(&second));
    assert_ne!(id(&first), id(&other));
    assert!(id(&first).unwrap().ends_with("@asso.example"), "{:?}", id(&first));
}

#[test]
fn derived_message_ids_depend_on_the_seed_and_the_purpose() {
    let a = derived_message_id("<x@y>", "confirmation", "asso.example");
    assert_eq!(a, derived_message_id("<x@y>", "confirmation", "asso.example"));
    assert_ne!(a, derived_message_id("<x@y>", "rejection", "asso.example"));
    assert_ne!(a, derived_message_id("<x@z>", "confirmation", "asso.example"));
    assert!(a.starts_with('<') && a.ends_with("@asso.example>"), "{a}");
}

#[test]
fn non_ascii_subjects_are_encoded_and_french_text_survives() {
    let outgoing = confirmation("a@b.example");
    let bytes = outgoing.to_bytes(&mail_settings()).unwrap();
    let header_end = bytes.windows(4).position(|w| w == b"\r\n\r\n").expect("a header section");
    assert!(bytes[..header_end].is_ascii(), "raw 8-bit bytes in the headers");
    let message = parse(&bytes);
    let text = message.body_text(0).expect("a text part");
    assert!(text.contains("Vos vœux pour « Semestre d'été 2020 » sont enregistrés"), "{text}");
    assert_eq!(text.replace("\r\n", "\n").trim_end(), outgoing.text.trim_end());
    let html = message.body_html(0).expect("an HTML part");
    assert!(html.contains("<li>n° 4521 – Hôpital Robert-Debré"), "{html}");
}

#[test]
fn an_invitation_is_auto_generated() {
    let mail = mail_settings();
    let samples = Samples::new();
    let rendered = Templates::load(None).unwrap().invitation(&samples.invitation).unwrap();
    let token = Token::parse(&samples.invitation.token).unwrap();
    let subject = subject::invitation("Semestre d'été 2020", token.as_str());
    let mut outgoing =
        Outgoing::new(Purpose::Invitation, token.as_str(), &mail, subject.clone(), rendered.text).unwrap();
    outgoing.to = vec![Email::parse("zoe.lefevre@exemple.fr").unwrap()];
    outgoing.reply_to = Some(mail.reply_to_for(&token));
    let bytes = outgoing.to_bytes(&mail).unwrap();
    let message = parse(&bytes);
    assert_eq!(message.header_raw("Auto-Submitted").map(str::trim), Some("auto-generated"));
    assert_eq!(message.subject(), Some(subject.as_str()));
    assert!(message.in_reply_to().as_text().is_none());
    assert_eq!(Purpose::parse(message.header_raw(PURPOSE_HEADER).unwrap()), Some(Purpose::Invitation));
}

#[test]
fn the_ars_email_has_both_attachments_intact_with_their_content_types() {
    let mail = mail_settings();
    let csv = "\u{feff}rang;nom;prénom;DES\r\n1;LEFÈVRE;Zoé;Pédiatrie\r\n".as_bytes().to_vec();
    let xlsx: Vec<u8> = (0..=255u8).cycle().take(5000).collect(); // every byte value
    let mut outgoing = Outgoing::new(
        Purpose::ArsList,
        "Semestre d'été 2020",
        &mail,
        subject::ars_list("Semestre d'été 2020"),
        "Madame, Monsieur,\nVeuillez trouver ci-joint la liste.".into(),
    )
    .unwrap();
    outgoing.to = vec![Email::parse("internat@ars.example").unwrap()];
    outgoing.cc = vec![Email::parse("referent@asso.example").unwrap()];
    outgoing.attachments = vec![
        Attachment {
            name: "choix-été-2020.csv".into(),
            content_type: CSV_CONTENT_TYPE.into(),
            bytes: csv.clone(),
        },
        Attachment {
            name: "choix-ete-2020.xlsx".into(),
            content_type: XLSX_CONTENT_TYPE.into(),
            bytes: xlsx.clone(),
        },
    ];
    let bytes = outgoing.to_bytes(&mail).unwrap();
    let message = parse(&bytes);
    assert_eq!(message.header_raw("Auto-Submitted").map(str::trim), Some("auto-generated"));
    let attachments: Vec<_> = message.attachments().collect();
    assert_eq!(attachments.len(), 2, "{}", String::from_utf8_lossy(&bytes));
    let csv_part = attachments[0];
    let content_type = csv_part.content_type().unwrap();
    assert_eq!((content_type.ctype(), content_type.subtype()), ("text", Some("csv")));
    assert_eq!(content_type.attribute("charset").map(str::to_ascii_lowercase).as_deref(), Some("utf-8"));
    assert_eq!(csv_part.attachment_name(), Some("choix-été-2020.csv"));
    assert_eq!(csv_part.contents(), csv.as_slice());
    let xlsx_part = attachments[1];
    let content_type = xlsx_part.content_type().unwrap();
    assert_eq!(format!("{}/{}", content_type.ctype(), content_type.subtype().unwrap()), XLSX_CONTENT_TYPE);
    assert_eq!(xlsx_part.contents(), xlsx.as_slice());
    assert!(message.body_text(0).unwrap().contains("Veuillez trouver ci-joint"));
}

#[test]
fn a_message_without_recipients_is_refused() {
    let outgoing =
        Outgoing::new(Purpose::Result, "seed", &mail_settings(), "Résultat".into(), "texte".into()).unwrap();
    let error = outgoing.to_bytes(&mail_settings()).unwrap_err().to_string();
    assert!(error.contains("no recipient"), "{error}");
}

#[test]
fn a_rejection_is_text_and_html_alternatives_in_utf8() {
    let mail = mail_settings();
    let rendered = Templates::load(None).unwrap().rejection(&Samples::new().rejection).unwrap();
    let mut outgoing =
        Outgoing::from_rendered(Purpose::Rejection, "<in@x.example>", &mail, "Re: Choix".into(), rendered)
            .unwrap();
    outgoing.to = vec![Email::parse("zoe.lefevre@exemple.fr").unwrap()];
    let outgoing = outgoing.answering("in@x.example", &[]);
    let bytes = outgoing.to_bytes(&mail).unwrap();
    let message = parse(&bytes);
    let content_type = message.content_type().expect("a content type");
    assert_eq!((content_type.ctype(), content_type.subtype()), ("multipart", Some("alternative")));
    let text = message.body_text(0).unwrap();
    assert!(text.contains("Le numéro 9999 ne correspond à aucun poste ouvert."), "{text}");
    let html = message.body_html(0).unwrap();
    assert!(html.contains("<li>Le numéro 9999 ne correspond à aucun poste ouvert.</li>"), "{html}");
    assert_eq!(message.header_raw("Auto-Submitted").map(str::trim), Some("auto-replied"));
    assert_eq!(message.references().as_text(), Some("in@x.example"));
}

#[test]
fn a_message_with_text_only_is_one_plain_text_part_in_utf8() {
    let mail = mail_settings();
    let mut outgoing =
        Outgoing::new(Purpose::Result, "seed", &mail, "Résultat".into(), "Poste n° 1234 – été".into())
            .unwrap();
    outgoing.to = vec![Email::parse("zoe.lefevre@exemple.fr").unwrap()];
    let message = parse(&outgoing.to_bytes(&mail).unwrap()).into_owned();
    let content_type = message.content_type().expect("a content type");
    assert_eq!((content_type.ctype(), content_type.subtype()), ("text", Some("plain")));
    assert_eq!(content_type.attribute("charset").map(str::to_ascii_lowercase).as_deref(), Some("utf-8"));
    assert_eq!(message.body_text(0).unwrap().trim_end(), "Poste n° 1234 – été");
}

#[test]
fn html_and_attachments_together_keep_both_bodies_and_the_files() {
    let mail = mail_settings();
    let rendered = Templates::load(None).unwrap().invitation(&Samples::new().invitation).unwrap();
    let mut outgoing =
        Outgoing::from_rendered(Purpose::Invitation, "tok:zoe@exemple.fr", &mail, "Choix".into(), rendered)
            .unwrap();
    outgoing.to = vec![Email::parse("zoe.lefevre@exemple.fr").unwrap()];
    outgoing.attachments = vec![Attachment {
        name: "postes.csv".into(),
        content_type: CSV_CONTENT_TYPE.into(),
        bytes: b"1234;2".to_vec(),
    }];
    let bytes = outgoing.to_bytes(&mail).unwrap();
    let message = parse(&bytes);
    assert!(message.body_text(0).unwrap().contains("POSTES OUVERTS"));
    assert!(message.body_html(0).unwrap().contains("<td>1234</td>"));
    let attachments: Vec<_> = message.attachments().collect();
    assert_eq!(attachments.len(), 1);
    assert_eq!(attachments[0].contents(), b"1234;2");
}

#[test]
fn a_line_break_in_an_incoming_message_id_cannot_inject_a_header() {
    let outgoing = confirmation("evil@x.example>\r\nBcc: victim@example.com");
    let bytes = outgoing.to_bytes(&mail_settings()).unwrap();
    let message = parse(&bytes);
    assert!(message.header_raw("Bcc").is_none(), "{}", String::from_utf8_lossy(&bytes));
    assert!(!String::from_utf8_lossy(&bytes).contains("\r\nBcc:"));
}
