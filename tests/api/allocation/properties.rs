//! Property tests of the allocation: against a naive reference, and the
//! invariants of SPEC §5 checked by replaying the result in rank order.

use std::collections::HashMap;

use proptest::prelude::*;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use choixbot::allocation::{allocate, reallocate_from, Allocation, Status};
use choixbot::domain::{ArsId, ChoiceType, Email, Group, Intern, Rank};

use super::Session;

const GROUPS: [&str; 3] = ["Cardiologie", "Pédiatrie", "Médecine générale"];

/// The raw material of one intern: group, choice type draw, rank key, wishes.
type RawIntern = (usize, u8, u16, Vec<u8>);

/// Small sessions: up to 8 ARS numbers opened to up to 3 groups, up to 20
/// interns with 0 to 5 wishes among 10 numbers (so some wishes are not
/// posts of the intern's group), many supernumeraries.
fn sessions() -> impl Strategy<Value = Session> {
    let posts = proptest::collection::btree_map((0..8u8, 0..GROUPS.len()), 1..4u32, 0..14);
    let interns = proptest::collection::vec(
        (0..GROUPS.len(), 0..10u8, any::<u16>(), proptest::collection::vec(0..10u8, 0..6)),
        0..20,
    );
    (posts, interns).prop_map(|(posts, interns)| build(posts.into_iter().collect(), interns))
}

/// The ARS number drawn as `n`.
fn ars(n: u8) -> ArsId {
    ArsId::parse(&format!("{}", 100 + u32::from(n) * 7)).unwrap()
}

fn build(posts: Vec<((u8, usize), u32)>, raw: Vec<RawIntern>) -> Session {
    let mut session = Session::default();
    for ((n, group), places) in posts {
        session = session.post(ars(n).as_str(), GROUPS[group], places);
    }
    for (index, (group, kind, key, wishes)) in raw.iter().enumerate() {
        // The rank is the place of (key, index) among the group's interns.
        let rank = 1 + raw
            .iter()
            .enumerate()
            .filter(|(j, other)| other.0 == *group && (other.2, *j) < (*key, index))
            .count() as u32;
        let kind = match kind {
            0..=5 => ChoiceType::Classique,
            6..=7 => ChoiceType::SurnombreValidant,
            _ => ChoiceType::SurnombreNonValidant,
        };
        session.interns.push(Intern {
            rank: Rank::new(rank).unwrap(),
            last_name: format!("Nom{index}"),
            first_name: format!("Prénom{index}"),
            group: Group::parse(GROUPS[*group]).unwrap(),
            email: Email::parse(&format!("interne{index}@ex.fr")).unwrap(),
            choice_type: kind,
            proxy_email: None,
        });
        // Every other intern with no wishes has no entry at all.
        if !wishes.is_empty() || index % 2 == 0 {
            let email = session.interns[index].email.clone();
            session.wishes.insert(email, wishes.iter().map(|&n| ars(n)).collect());
        }
    }
    session
}

/// The obviously correct version: plain loops over plain lists.
fn reference(s: &Session, cap: u32) -> Vec<(Email, Status, Option<ArsId>)> {
    // (ARS number, group, places left, supernumeraries)
    let mut slots: Vec<(ArsId, Group, u32, u32)> =
        s.posts.iter().map(|p| (p.ars_id.clone(), p.group.clone(), p.places, 0)).collect();
    let mut groups: Vec<Group> = s.interns.iter().map(|i| i.group.clone()).collect();
    groups.sort();
    groups.dedup();
    let mut result = Vec::new();
    for group in &groups {
        let mut members: Vec<&Intern> = s.interns.iter().filter(|i| &i.group == group).collect();
        members.sort_by_key(|i| i.rank);
        for intern in members {
            let wishes = s.wishes.get(&intern.email).cloned().unwrap_or_default();
            if wishes.is_empty() {
                result.push((intern.email.clone(), Status::Absent, None));
                continue;
            }
            let mut outcome = (intern.email.clone(), Status::Unassigned, None);
            'wishes: for wish in &wishes {
                for slot in slots.iter_mut() {
                    if &slot.0 != wish || &slot.1 != group {
                        continue;
                    }
                    let ok = match intern.choice_type {
                        ChoiceType::Classique => slot.2 > 0,
                        ChoiceType::SurnombreValidant => slot.2 > 0 && slot.3 < cap,
                        ChoiceType::SurnombreNonValidant => slot.3 < cap,
                    };
                    if ok {
                        if intern.choice_type == ChoiceType::Classique {
                            slot.2 -= 1;
                            outcome = (intern.email.clone(), Status::Assigned, Some(wish.clone()));
                        } else {
                            slot.3 += 1;
                            outcome = (intern.email.clone(), Status::Surnombre, Some(wish.clone()));
                        }
                        break 'wishes;
                    }
                }
            }
            result.push(outcome);
        }
    }
    result
}

fn reference_vacancies(s: &Session, allocation: &Allocation) -> Vec<(Group, ArsId, u32)> {
    let mut vacancies = Vec::new();
    for post in &s.posts {
        let taken = allocation
            .assignments
            .iter()
            .filter(|a| {
                a.status == Status::Assigned
                    && a.group == post.group
                    && a.ars_id.as_ref() == Some(&post.ars_id)
            })
            .count() as u32;
        if taken < post.places {
            vacancies.push((post.group.clone(), post.ars_id.clone(), post.places - taken));
        }
    }
    vacancies.sort();
    vacancies
}

/// Replays the allocation in rank order and checks every rule at each turn.
fn check_invariants(s: &Session, allocation: &Allocation, cap: u32) {
    let post = |ars: &ArsId, group: &Group| s.posts.iter().find(|p| &p.ars_id == ars && &p.group == group);
    let mut taken: HashMap<(ArsId, Group), u32> = HashMap::new();
    let mut extra: HashMap<(ArsId, Group), u32> = HashMap::new();
    assert_eq!(allocation.assignments.len(), s.interns.len(), "one assignment per intern");
    let keys: Vec<_> = allocation.assignments.iter().map(|a| (a.group.clone(), a.rank)).collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "assignments not in (group, rank) order");
    for a in &allocation.assignments {
        let intern = s.interns.iter().find(|i| i.email == a.email).expect("assignment of an unknown intern");
        let wishes = s.wishes.get(&a.email).cloned().unwrap_or_default();
        assert_eq!(a.status == Status::Absent, wishes.is_empty(), "absent iff no wishes: {a:?}");
        let is_full = |ars: &ArsId, taken: &HashMap<_, u32>| {
            post(ars, &a.group).map_or(true, |p| {
                taken.get(&(ars.clone(), a.group.clone())).copied().unwrap_or(0) >= p.places
            })
        };
        let has_cap = |ars: &ArsId, extra: &HashMap<_, u32>| {
            extra.get(&(ars.clone(), a.group.clone())).copied().unwrap_or(0) >= cap
        };
        let obtained =
            a.ars_id.as_ref().map(|id| wishes.iter().position(|w| w == id).expect("a post not wished"));
        let earlier = &wishes[..obtained.unwrap_or(wishes.len())];
        for wish in earlier {
            let out_of_reach = match intern.choice_type {
                ChoiceType::Classique => is_full(wish, &taken),
                ChoiceType::SurnombreValidant => is_full(wish, &taken) || has_cap(wish, &extra),
                ChoiceType::SurnombreNonValidant => post(wish, &a.group).is_none() || has_cap(wish, &extra),
            };
            assert!(out_of_reach, "{a:?} passed over {wish} which was open at their turn");
        }
        if let Some(id) = &a.ars_id {
            assert!(post(id, &a.group).is_some(), "{a:?} got a post not open to the group");
            let key = (id.clone(), a.group.clone());
            match a.status {
                Status::Assigned => {
                    assert_eq!(intern.choice_type, ChoiceType::Classique);
                    *taken.entry(key.clone()).or_default() += 1;
                    assert!(taken[&key] <= post(id, &a.group).unwrap().places, "places exceeded on {key:?}");
                }
                Status::Surnombre => {
                    assert!(intern.choice_type.is_supernumerary());
                    if intern.choice_type == ChoiceType::SurnombreValidant {
                        assert!(!is_full(id, &taken), "{a:?} got a post already full at their turn");
                    }
                    *extra.entry(key.clone()).or_default() += 1;
                    assert!(extra[&key] <= cap, "supernumerary cap exceeded on {key:?}");
                }
                other => panic!("{other:?} with a post"),
            }
        }
    }
}

fn shuffled(s: &Session, seed: u64) -> Session {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut copy = s.clone();
    copy.posts.shuffle(&mut rng);
    copy.interns.shuffle(&mut rng);
    copy
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn allocation_matches_the_naive_reference(s in sessions(), cap in 0..=2u32) {
        let allocation = s.allocate(cap);
        let got: Vec<_> = allocation.assignments.iter().map(|a| (a.email.clone(), a.status, a.ars_id.clone())).collect();
        prop_assert_eq!(got, reference(&s, cap));
        let mut vacancies: Vec<_> =
            allocation.vacancies.iter().map(|v| (v.group.clone(), v.ars_id.clone(), v.places_left)).collect();
        vacancies.sort();
        prop_assert_eq!(vacancies, reference_vacancies(&s, &allocation));
    }

    #[test]
    fn allocation_keeps_every_rule_of_spec_5(s in sessions(), cap in 1..=2u32) {
        check_invariants(&s, &s.allocate(cap), cap);
    }

    /// What the daemon does at each reply: only the interns called from
    /// the one whose wishes changed are called again.
    #[test]
    fn reallocating_from_the_intern_who_changed_equals_allocating_again(
        s in sessions(),
        cap in 0..=2u32,
        who in any::<proptest::sample::Index>(),
        wishes in proptest::collection::vec(0..10u8, 0..6),
    ) {
        prop_assume!(!s.interns.is_empty());
        let intern = s.interns[who.index(s.interns.len())].email.clone();
        let mut assignments = s.allocate(cap).assignments;
        let before = assignments.clone();
        let mut changed = s.clone();
        changed.wishes.insert(intern.clone(), wishes.iter().map(|&n| ars(n)).collect());
        let from = assignments.iter().position(|a| a.email == intern).unwrap();
        let replaced = reallocate_from(changed.input(cap), &mut assignments, from);
        prop_assert_eq!(&assignments, &changed.allocate(cap).assignments);
        // The assignments replaced are the previous ones, from the
        // intern's place on; after them, nothing changed.
        prop_assert!(!replaced.is_empty());
        let previous: Vec<_> = before[from..from + replaced.len()].iter().map(|a| a.outcome()).collect();
        prop_assert_eq!(&replaced, &previous);
    }

    #[test]
    fn the_same_input_gives_the_same_output_in_any_order(s in sessions(), cap in 1..=2u32, seed in any::<u64>()) {
        let first = s.allocate(cap);
        prop_assert_eq!(&first, &s.allocate(cap));
        prop_assert_eq!(&first, &shuffled(&s, seed).allocate(cap));
    }
}

#[test]
fn a_large_synthetic_session_keeps_every_rule() {
    let synthetic = choixbot::synthetic::session(3_000, 3_500, 8, 7);
    let session = Session { posts: synthetic.posts, interns: synthetic.interns, wishes: synthetic.wishes };
    let allocation = allocate(session.input(1));
    check_invariants(&session, &allocation, 1);
    let assigned = allocation.assignments.iter().filter(|a| a.status == Status::Assigned).count();
    assert!(assigned > 1_000, "only {assigned} assigned: the synthetic session lost its shape");
}

#[test]
fn the_synthetic_generator_is_deterministic_and_follows_its_seed() {
    let a = choixbot::synthetic::session(500, 600, 5, 3);
    let b = choixbot::synthetic::session(500, 600, 5, 3);
    let c = choixbot::synthetic::session(500, 600, 5, 4);
    assert_eq!((&a.posts, &a.interns, &a.wishes), (&b.posts, &b.interns, &b.wishes));
    assert_ne!(a.interns, c.interns);
    assert_eq!(a.interns.len(), 500);
    assert_eq!(a.posts.iter().map(|p| p.places).sum::<u32>(), 600);
    let absent = a.interns.iter().filter(|i| !a.wishes.contains_key(&i.email)).count();
    assert!(absent > 0 && absent < 100, "{absent} absent interns out of 500");
}

#[test]
fn the_synthetic_session_is_written_in_the_import_format() {
    let session = choixbot::synthetic::session(200, 240, 3, 1);
    let dir = tempfile::tempdir().unwrap();
    session.write_csv(dir.path()).unwrap();
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
    let posts = read("posts.csv");
    assert!(posts.starts_with("n° ARS;DES;nombre de postes;hôpital;service;ville\n"));
    assert_eq!(posts.lines().count(), session.posts.len() + 1);
    let interns = read("interns.csv");
    assert!(interns.starts_with("rang;nom;prénom;DES;courriel;type de choix;procuration\n"));
    assert_eq!(interns.lines().count(), 201);
    let choices = read("choices.csv");
    assert!(choices.starts_with("courriel;choix 1;choix 2;"));
    let first = choices.lines().nth(1).unwrap();
    let email = Email::parse(first.split(';').next().unwrap()).unwrap();
    let wishes: Vec<&str> = first.split(';').skip(1).filter(|f| !f.is_empty()).collect();
    let expected: Vec<&str> = session.wishes[&email].iter().map(ArsId::as_str).collect();
    assert_eq!(wishes, expected);
}

#[test]
fn posts_given_twice_add_their_places() {
    let s = Session::default()
        .post("10", "G", 1)
        .post("10", "G", 1)
        .intern("a", "G", 1, ChoiceType::Classique, Some(&["10"]))
        .intern("b", "G", 2, ChoiceType::Classique, Some(&["10"]));
    let allocation = s.allocate(1);
    assert!(allocation.assignments.iter().all(|a| a.status == Status::Assigned));
}
