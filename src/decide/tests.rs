use super::*;
use crate::domain::{ChoiceType, Group, Intern, Post, Rank, Token};
use crate::reply::{Kind, ParsedReply};
use crate::store::StoredIntern;
use chrono::TimeZone;

fn email(text: &str) -> Email {
    Email::parse(text).unwrap()
}

fn intern(address: &str, group: &str, rank: u32, proxy: Option<&str>) -> StoredIntern {
    StoredIntern {
        intern: Intern {
            rank: Rank::new(rank).unwrap(),
            last_name: "Nom".into(),
            first_name: "Prénom".into(),
            group: Group::parse(group).unwrap(),
            email: email(address),
            choice_type: ChoiceType::Classique,
            proxy_email: proxy.map(email),
        },
        token: Token::generate(),
    }
}

struct Fixture {
    interns: Vec<StoredIntern>,
    directory: Directory,
}

fn fixture() -> Fixture {
    let interns = vec![
        intern("lea@ex.fr", "Pédiatrie", 1, Some("mandataire@ex.fr")),
        intern("hugo@ex.fr", "Pédiatrie", 2, None),
        intern("chloe@ex.fr", "Psychiatrie", 1, None),
        // An intern who is also the proxy of another.
        intern("paul@ex.fr", "Psychiatrie", 2, None),
        intern("zoe@ex.fr", "Psychiatrie", 3, Some("paul@ex.fr")),
    ];
    let posts = vec![
        Post::sample("1234", "Pédiatrie"),
        Post::sample("2345", "Pédiatrie"),
        Post::sample("3301", "Psychiatrie"),
    ];
    let directory = Directory::new(&interns, &posts);
    Fixture { interns, directory }
}

impl Fixture {
    fn token(&self, address: &str) -> Token {
        self.interns.iter().find(|s| s.intern.email.as_str() == address).unwrap().token.clone()
    }

    fn decide(&self, reply: &ParsedReply) -> Decision {
        decide(reply, self.context())
    }

    /// An open session, the reply received an hour before the deadline.
    fn context(&self) -> Context<'_> {
        let deadline = chrono::Utc.with_ymd_and_hms(2020, 5, 4, 21, 59, 0).unwrap();
        Context {
            directory: &self.directory,
            closed: false,
            received: deadline - chrono::Duration::hours(1),
            deadline,
            authentication_failed: false,
            ours: false,
            duplicate: None,
            bounced_intern: None,
            amphi: false,
        }
    }
}

fn reply(sender: &str, token: Option<Token>, choices: &[&str], invalid: &[&str]) -> ParsedReply {
    ParsedReply {
        kind: if choices.is_empty() && invalid.is_empty() { Kind::Empty } else { Kind::Choices },
        sender: Some(email(sender)),
        token,
        choices: choices.iter().map(|c| ArsId::parse(c).unwrap()).collect(),
        invalid: invalid.iter().map(|s| s.to_string()).collect(),
        message_id: None,
        references: vec![],
        subject: String::new(),
        own_text: String::new(),
        bounced_recipients: vec![],
        bounced_message_id: None,
        notes: vec![],
        doubts: Vec::new(),
        command: None,
        headers: Default::default(),
        content_hash: String::new(),
    }
}

#[test]
fn valid_choices_from_the_intern_are_confirmed_in_order() {
    let f = fixture();
    let decision = f.decide(&reply("lea@ex.fr", Some(f.token("lea@ex.fr")), &["2345", "1234"], &[]));
    let wishes = vec![ArsId::parse("2345").unwrap(), ArsId::parse("1234").unwrap()];
    assert_eq!(decision, Decision::Confirmed { intern: email("lea@ex.fr"), wishes });
}

#[test]
fn the_proxy_chooses_for_the_intern_without_a_token() {
    let f = fixture();
    let decision = f.decide(&reply("mandataire@ex.fr", None, &["1234"], &[]));
    assert!(matches!(decision, Decision::Confirmed { ref intern, .. } if intern.as_str() == "lea@ex.fr"));
}

#[test]
fn every_bad_number_is_a_reason_that_names_it() {
    let f = fixture();
    let decision = f.decide(&reply("lea@ex.fr", None, &["1234", "3301"], &["9999"]));
    let Decision::Rejected { intern, reasons, .. } = decision else { panic!("{decision:?}") };
    assert_eq!(intern, Some(email("lea@ex.fr")));
    assert_eq!(
        reasons,
        vec![
            Reason::UnknownNumber("9999".into()),
            Reason::NotOpenToGroup { ars_id: "3301".into(), group: "Pédiatrie".into() },
        ]
    );
}

#[test]
fn a_reply_with_no_number_is_rejected() {
    let f = fixture();
    let decision = f.decide(&reply("hugo@ex.fr", None, &[], &[]));
    assert!(
        matches!(decision, Decision::Rejected { ref reasons, .. } if reasons == &[Reason::NoNumberFound])
    );
}

#[test]
fn a_stranger_is_rejected_and_attributed_to_nobody() {
    let f = fixture();
    let decision = f.decide(&reply("stranger@evil.example", None, &["1234"], &[]));
    let Decision::Rejected { intern, reasons, warn_owner } = decision else { panic!() };
    assert_eq!(intern, None);
    assert_eq!(warn_owner, None);
    assert_eq!(reasons, vec![Reason::UnknownSender { address: "stranger@evil.example".into() }]);
}

#[test]
fn a_token_used_from_a_foreign_address_warns_its_owner() {
    let f = fixture();
    let decision = f.decide(&reply("stranger@evil.example", Some(f.token("lea@ex.fr")), &["1234"], &[]));
    let Decision::Rejected { intern, reasons, warn_owner } = decision else { panic!() };
    assert_eq!(intern, None, "the stranger is nobody");
    assert_eq!(reasons, vec![Reason::TokenOfSomeoneElse]);
    assert_eq!(warn_owner, Some(email("lea@ex.fr")));
}

#[test]
fn an_intern_using_another_interns_token_is_rejected_and_both_are_told() {
    let f = fixture();
    let decision = f.decide(&reply("hugo@ex.fr", Some(f.token("lea@ex.fr")), &["1234"], &[]));
    let Decision::Rejected { intern, warn_owner, .. } = decision else { panic!() };
    assert_eq!(intern, Some(email("hugo@ex.fr")));
    assert_eq!(warn_owner, Some(email("lea@ex.fr")));
}

#[test]
fn an_intern_who_is_also_a_proxy_needs_a_token() {
    let f = fixture();
    let decision = f.decide(&reply("paul@ex.fr", None, &["3301"], &[]));
    assert!(
        matches!(decision, Decision::Rejected { ref reasons, .. } if reasons == &[Reason::AmbiguousSender])
    );
    let for_zoe = f.decide(&reply("paul@ex.fr", Some(f.token("zoe@ex.fr")), &["3301"], &[]));
    assert!(matches!(for_zoe, Decision::Confirmed { ref intern, .. } if intern.as_str() == "zoe@ex.fr"));
    let for_paul = f.decide(&reply("paul@ex.fr", Some(f.token("paul@ex.fr")), &["3301"], &[]));
    assert!(matches!(for_paul, Decision::Confirmed { ref intern, .. } if intern.as_str() == "paul@ex.fr"));
}

#[test]
fn after_the_close_a_reply_gets_the_closed_answer() {
    let f = fixture();
    let parsed = reply("lea@ex.fr", None, &["1234"], &[]);
    let decision = decide(&parsed, Context { closed: true, ..f.context() });
    assert_eq!(decision, Decision::Closed { intern: email("lea@ex.fr") });
}

#[test]
fn a_reply_received_before_the_deadline_counts_whenever_it_is_read() {
    // Read after the deadline (the session not closed yet: the close waits
    // for the mailbox), it was received a second before: it counts.
    let f = fixture();
    let parsed = reply("lea@ex.fr", None, &["1234"], &[]);
    let context = f.context();
    let decision =
        decide(&parsed, Context { received: context.deadline - chrono::Duration::seconds(1), ..context });
    assert!(matches!(decision, Decision::Confirmed { .. }), "{decision:?}");
}

#[test]
fn a_reply_received_at_the_deadline_is_late() {
    let f = fixture();
    let parsed = reply("lea@ex.fr", None, &["1234"], &[]);
    let context = f.context();
    let decision = decide(&parsed, Context { received: context.deadline, ..context });
    assert_eq!(decision, Decision::Closed { intern: email("lea@ex.fr") });
}

#[test]
fn automatic_mail_is_ignored_and_bounces_are_attributed() {
    let f = fixture();
    let mut auto = reply("lea@ex.fr", None, &["1234"], &[]);
    auto.kind = Kind::AutoReply;
    assert!(matches!(f.decide(&auto), Decision::Ignored { .. }));
    let mut bounce = reply("mailer-daemon@ex.fr", None, &[], &[]);
    bounce.kind = Kind::Bounce;
    bounce.bounced_recipients = vec![email("hugo@ex.fr")];
    assert_eq!(f.decide(&bounce), Decision::Bounce { intern: Some(email("hugo@ex.fr")) });
}

#[test]
fn too_many_numbers_are_refused_as_one_reason() {
    let f = fixture();
    let invalid: Vec<String> = (0..50_000).map(|n| (100_000 + n).to_string()).collect();
    let invalid: Vec<&str> = invalid.iter().map(String::as_str).collect();
    let decision = f.decide(&reply("lea@ex.fr", None, &[], &invalid));
    assert!(matches!(decision, Decision::Rejected { ref reasons, .. }
        if reasons == &[Reason::TooManyNumbers { count: 50_000, max: MAX_WISHES }]));
}

#[test]
fn a_failed_authentication_rejects_even_a_valid_reply() {
    let f = fixture();
    let parsed = reply("lea@ex.fr", None, &["1234"], &[]);
    let decision = decide(&parsed, Context { authentication_failed: true, ..f.context() });
    assert!(
        matches!(decision, Decision::Rejected { ref reasons, .. } if reasons == &[Reason::AuthenticationFailed])
    );
}

#[test]
fn an_expired_token_is_rejected_even_from_a_registered_address() {
    let mut f = fixture();
    // Hugo was imported under another address before, and replies from
    // his current one to the old invitation.
    let old = Token::generate();
    f.directory.retire_tokens([old.clone()]);
    let decision = f.decide(&reply("hugo@ex.fr", Some(old.clone()), &["1234"], &[]));
    let Decision::Rejected { intern, reasons, warn_owner } = decision else { panic!("{decision:?}") };
    assert_eq!(intern, Some(email("hugo@ex.fr")), "a registered sender is told why");
    assert_eq!(reasons, vec![Reason::ExpiredToken]);
    assert_eq!(warn_owner, None);

    // The removed intern's own address is nobody's now: no one to tell.
    let decision = f.decide(&reply("removed@ex.fr", Some(old), &["1234"], &[]));
    assert!(
        matches!(decision, Decision::Rejected { intern: None, ref reasons, .. } if reasons == &[Reason::ExpiredToken]),
        "{decision:?}"
    );
}

#[test]
fn a_token_in_use_is_never_retired() {
    let mut f = fixture();
    let lea = f.token("lea@ex.fr");
    f.directory.retire_tokens([lea.clone()]);
    assert!(!f.directory.is_retired(&lea));
    let decision = f.decide(&reply("lea@ex.fr", Some(lea), &["1234"], &[]));
    assert!(matches!(decision, Decision::Confirmed { .. }), "{decision:?}");
}

#[test]
fn our_own_message_and_a_duplicate_are_ignored_before_anything_else() {
    let f = fixture();
    let parsed = reply("lea@ex.fr", Some(f.token("lea@ex.fr")), &["2345"], &[]);
    let ours = decide(&parsed, Context { ours: true, ..f.context() });
    assert_eq!(ours, Decision::Ignored { why: "our own message".into() });
    let again = decide(&parsed, Context { duplicate: Some(Duplicate::Processed(7)), ..f.context() });
    assert_eq!(again, Decision::Ignored { why: "already processed as message 7".into() });
    let twice = decide(&parsed, Context { duplicate: Some(Duplicate::InBatch), ..f.context() });
    assert!(matches!(twice, Decision::Ignored { .. }), "{twice:?}");
}

#[test]
fn the_intern_found_by_the_returned_message_id_wins_over_the_report() {
    let f = fixture();
    let mut parsed = reply("mailer-daemon@ex.fr", None, &[], &[]);
    parsed.kind = Kind::Bounce;
    parsed.bounced_recipients = vec![email("lea@ex.fr")];
    assert_eq!(f.decide(&parsed), Decision::Bounce { intern: Some(email("lea@ex.fr")) });
    let found = email("paul@ex.fr");
    let decision = decide(&parsed, Context { bounced_intern: Some(&found), ..f.context() });
    assert_eq!(decision, Decision::Bounce { intern: Some(found.clone()) });
}

#[test]
fn the_loop_breaker_allows_answers_up_to_the_hourly_limit() {
    assert!(super::may_answer(0, 5));
    assert!(super::may_answer(4, 5));
    assert!(!super::may_answer(5, 5));
    assert!(!super::may_answer(1, 0), "a limit of 0 answers nobody");
    let now = chrono::Utc::now();
    assert_eq!(now - super::answer_window_start(now), chrono::Duration::hours(1));
}

#[test]
fn absent_and_plus_tard_stand_in_the_amphi_and_are_refused_by_name_outside_it() {
    use crate::reply::Command;
    let f = fixture();
    for (command, action) in [(Command::Absent, Action::Absent), (Command::Later, Action::Later)] {
        let mut parsed = reply("hugo@ex.fr", None, &[], &[]);
        parsed.command = Some(command.clone());
        let in_amphi = decide(&parsed, Context { amphi: true, ..f.context() });
        assert_eq!(in_amphi, Decision::Command { intern: email("hugo@ex.fr"), action });
        let outside = f.decide(&parsed);
        let word = command.word().to_string();
        assert_eq!(
            outside,
            Decision::Rejected {
                intern: Some(email("hugo@ex.fr")),
                reasons: vec![Reason::AmphiOnly(word)],
                warn_owner: None
            }
        );
    }
}
