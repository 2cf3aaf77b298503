use chrono::{TimeZone, Utc};

use super::*;
use crate::domain::{ChoiceType, Intern, Post, Rank};

fn intern(email: &str, rank: u32, choice_type: ChoiceType) -> Intern {
    Intern {
        rank: Rank::parse(&rank.to_string()).unwrap(),
        last_name: email.to_uppercase(),
        first_name: email.to_string(),
        group: Group::parse("Cardiologie").unwrap(),
        email: Email::parse(&format!("{email}@example.org")).unwrap(),
        choice_type,
        proxy_email: None,
    }
}

fn post(ars_id: &str, places: u32) -> Post {
    Post { places, ..Post::sample(ars_id, "Cardiologie") }
}

fn id(text: &str) -> ArsId {
    ArsId::parse(text).unwrap()
}

fn settled(intern: &Intern, round: i64, outcome: Outcome) -> Turn {
    Turn {
        intern: intern.email.clone(),
        group: intern.group.clone(),
        round,
        called_at: 0,
        ends_at: 600_000,
        settled: Some(Settled { at: 1, outcome, how: How::Reply }),
    }
}

#[test]
fn the_line_is_rank_order_then_those_who_asked_to_choose_later() {
    let (a, b, c) = (
        intern("a", 1, ChoiceType::Classique),
        intern("b", 2, ChoiceType::Classique),
        intern("c", 3, ChoiceType::Classique),
    );
    let turns = vec![settled(&a, 1, Outcome::Later)];
    let line = Line::new(vec![&c, &a, &b], &turns);
    let order: Vec<_> =
        line.waiting().iter().map(|w| (w.intern.email.as_str().to_string(), w.round)).collect();
    assert_eq!(
        order,
        [
            ("b@example.org".to_string(), 1),
            ("c@example.org".to_string(), 1),
            ("a@example.org".to_string(), 2)
        ]
    );
    assert_eq!(line.next().unwrap().intern, &b);

    let mut open = settled(&b, 1, Outcome::Absent);
    open.settled = None;
    let turns = vec![settled(&a, 1, Outcome::Later), open];
    let line = Line::new(vec![&a, &b, &c], &turns);
    assert_eq!(line.next(), None, "nobody is called while a turn runs");
    assert!(!line.is_done());

    // A second PLUS TARD is not a third call.
    let turns = vec![
        settled(&a, 1, Outcome::Later),
        settled(&a, 2, Outcome::Later),
        settled(&b, 1, Outcome::Absent),
        settled(&c, 1, Outcome::Absent),
    ];
    assert!(Line::new(vec![&a, &b, &c], &turns).is_done());
}

#[test]
fn each_choice_type_obtains_what_section_5_gives_it_at_its_turn() {
    let posts = [post("10", 1), post("20", 2)];
    let mut seats = Seats::new(posts.iter().collect(), 1);
    seats.take(&id("10"), Status::Assigned);
    let wishes = [id("10"), id("20")];
    assert_eq!(seats.first_obtainable(ChoiceType::Classique, &wishes), Some((id("20"), Status::Assigned)));
    assert_eq!(
        seats.first_obtainable(ChoiceType::SurnombreValidant, &wishes),
        Some((id("20"), Status::Surnombre))
    );
    assert_eq!(
        seats.first_obtainable(ChoiceType::SurnombreNonValidant, &wishes),
        Some((id("10"), Status::Surnombre))
    );
    seats.take(&id("10"), Status::Surnombre);
    assert_eq!(
        seats.first_obtainable(ChoiceType::SurnombreNonValidant, &[id("10")]),
        None,
        "one supernumerary per post"
    );
    assert_eq!(seats.first_obtainable(ChoiceType::Classique, &[id("99")]), None, "not a post of the group");
    let open: Vec<_> =
        seats.open_to(ChoiceType::Classique).iter().map(|(p, left)| (p.ars_id.to_string(), *left)).collect();
    assert_eq!(open, [("20".to_string(), 2)]);
}

#[test]
fn a_reply_is_a_favourite_before_the_turn_a_choice_during_it_and_nothing_after() {
    let a = intern("a", 1, ChoiceType::Classique);
    let at = |ms: i64| Utc.timestamp_millis_opt(ms).unwrap();
    let wishes = [id("10")];
    let some = |_: &[ArsId]| Some((id("10"), Status::Assigned));
    let none = |_: &[ArsId]| None;
    assert_eq!(judge_reply(&Standing::Waiting, at(5), &wishes, some), ReplyEffect::Favourites);
    let mut running = settled(&a, 1, Outcome::Absent);
    running.settled = None;
    let choosing = Standing::of(std::slice::from_ref(&running));
    assert_eq!(
        judge_reply(&choosing, at(599_999), &wishes, some),
        ReplyEffect::Validate { ars_id: id("10"), status: Status::Assigned }
    );
    assert_eq!(judge_reply(&choosing, at(599_999), &wishes, none), ReplyEffect::NoneOpen);
    assert_eq!(
        judge_reply(&choosing, at(600_000), &wishes, some),
        ReplyEffect::AfterTurn { ended_at: 600_000 },
        "the turn's end is exclusive"
    );
    let done = settled(&a, 1, Outcome::Chosen { ars_id: id("10"), status: Status::Assigned });
    assert!(matches!(
        judge_reply(&Standing::of(&[done]), at(5), &wishes, some),
        ReplyEffect::AlreadySettled { .. }
    ));
    let later = Standing::of(&[settled(&a, 1, Outcome::Later)]);
    assert_eq!(
        judge_reply(&later, at(5), &wishes, some),
        ReplyEffect::Favourites,
        "called again later: wishes wait for that turn"
    );
}

#[test]
fn the_final_allocation_lists_every_intern_and_the_places_left() {
    let (a, b, c) = (
        intern("a", 1, ChoiceType::Classique),
        intern("b", 2, ChoiceType::SurnombreNonValidant),
        intern("c", 3, ChoiceType::Classique),
    );
    let posts = [post("10", 1), post("20", 2)];
    let turns = vec![
        settled(&a, 1, Outcome::Chosen { ars_id: id("10"), status: Status::Assigned }),
        settled(&b, 1, Outcome::Chosen { ars_id: id("10"), status: Status::Surnombre }),
        settled(&c, 1, Outcome::Later),
        settled(&c, 2, Outcome::Chosen { ars_id: id("20"), status: Status::Assigned }),
    ];
    let allocation = final_allocation(&posts, &[c.clone(), a.clone(), b.clone()], &turns);
    let statuses: Vec<_> = allocation
        .assignments
        .iter()
        .map(|x| (x.email.as_str().to_string(), x.status, x.ars_id.clone()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("a@example.org".to_string(), Status::Assigned, Some(id("10"))),
            ("b@example.org".to_string(), Status::Surnombre, Some(id("10"))),
            ("c@example.org".to_string(), Status::Assigned, Some(id("20"))),
        ]
    );
    assert_eq!(allocation.vacancies.len(), 1);
    assert_eq!((allocation.vacancies[0].ars_id.as_str(), allocation.vacancies[0].places_left), ("20", 1));
}
