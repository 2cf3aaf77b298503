//! The allocation of SPEC §5, from the outside: one example test per rule,
//! then property tests against a naive reference written here (no code
//! shared with the library) and the invariants the issue asks to show.

use std::collections::HashMap;

use choixbot::allocation::{allocate, provisional, Allocation, AllocationInput, Status, Vacancy};
use choixbot::domain::{ArsId, ChoiceType, Email, Group, Intern, Post, Rank};

mod properties;

/// A session written by hand for the example tests.
#[derive(Debug, Clone, Default)]
pub struct Session {
    /// The posts.
    pub posts: Vec<Post>,
    /// The interns.
    pub interns: Vec<Intern>,
    /// The wishes, by email.
    pub wishes: HashMap<Email, Vec<ArsId>>,
}

impl Session {
    pub fn post(mut self, ars_id: &str, group: &str, places: u32) -> Self {
        self.posts.push(Post {
            ars_id: ArsId::parse(ars_id).unwrap(),
            group: Group::parse(group).unwrap(),
            places,
            hospital: format!("Hôpital {ars_id}"),
            service: String::new(),
            city: String::new(),
        });
        self
    }

    /// An intern named `name` (their email is `name@ex.fr`) with `wishes`
    /// (`None`: no entry at all).
    pub fn intern(
        mut self,
        name: &str,
        group: &str,
        rank: u32,
        kind: ChoiceType,
        wishes: Option<&[&str]>,
    ) -> Self {
        let email = email(name);
        self.interns.push(Intern {
            rank: Rank::new(rank).unwrap(),
            last_name: name.to_uppercase(),
            first_name: name.to_string(),
            group: Group::parse(group).unwrap(),
            email: email.clone(),
            choice_type: kind,
            proxy_email: None,
        });
        if let Some(wishes) = wishes {
            self.wishes.insert(email, wishes.iter().map(|w| ArsId::parse(w).unwrap()).collect());
        }
        self
    }

    pub fn allocate(&self, cap: u32) -> Allocation {
        allocate(self.input(cap))
    }

    pub fn input(&self, cap: u32) -> AllocationInput<'_> {
        AllocationInput {
            posts: &self.posts,
            interns: &self.interns,
            wishes: &self.wishes,
            supernumerary_cap: cap,
        }
    }
}

pub fn email(name: &str) -> Email {
    Email::parse(&format!("{name}@ex.fr")).unwrap()
}

/// What `name` got: status and ARS number.
fn got(allocation: &Allocation, name: &str) -> (Status, Option<String>) {
    let a = allocation.assignment_of(&email(name)).unwrap_or_else(|| panic!("{name} has no assignment"));
    (a.status, a.ars_id.as_ref().map(|id| id.to_string()))
}

fn assigned(ars_id: &str) -> (Status, Option<String>) {
    (Status::Assigned, Some(ars_id.to_string()))
}

fn surnombre(ars_id: &str) -> (Status, Option<String>) {
    (Status::Surnombre, Some(ars_id.to_string()))
}

use ChoiceType::{Classique, SurnombreNonValidant, SurnombreValidant};

#[test]
fn classique_gets_the_first_wish_with_a_place_left() {
    let s = Session::default()
        .post("10", "G", 1)
        .post("20", "G", 1)
        .post("30", "G", 1)
        .intern("a", "G", 1, Classique, Some(&["20", "10"]))
        .intern("b", "G", 2, Classique, Some(&["20", "30", "10"]));
    let allocation = s.allocate(1);
    assert_eq!(got(&allocation, "a"), assigned("20"));
    assert_eq!(got(&allocation, "b"), assigned("30"));
}

#[test]
fn the_better_rank_chooses_first_whatever_the_input_order() {
    let s = Session::default().post("10", "G", 1).intern("late", "G", 7, Classique, Some(&["10"])).intern(
        "early",
        "G",
        2,
        Classique,
        Some(&["10"]),
    );
    let allocation = s.allocate(1);
    assert_eq!(got(&allocation, "early"), assigned("10"));
    assert_eq!(got(&allocation, "late"), (Status::Unassigned, None));
}

#[test]
fn a_post_with_two_places_takes_two_classique_interns() {
    let s = Session::default()
        .post("10", "G", 2)
        .intern("a", "G", 1, Classique, Some(&["10"]))
        .intern("b", "G", 2, Classique, Some(&["10"]))
        .intern("c", "G", 3, Classique, Some(&["10"]));
    let allocation = s.allocate(1);
    assert_eq!(got(&allocation, "b"), assigned("10"));
    assert_eq!(got(&allocation, "c"), (Status::Unassigned, None));
}

#[test]
fn surnombre_validant_uses_no_place() {
    let s = Session::default()
        .post("10", "G", 1)
        .intern("sv", "G", 1, SurnombreValidant, Some(&["10"]))
        .intern("b", "G", 2, Classique, Some(&["10"]));
    let allocation = s.allocate(1);
    assert_eq!(got(&allocation, "sv"), surnombre("10"));
    assert_eq!(got(&allocation, "b"), assigned("10"));
    assert!(allocation.vacancies.is_empty());
}

#[test]
fn surnombre_validant_skips_a_post_full_at_their_rank() {
    let s = Session::default()
        .post("10", "G", 1)
        .post("20", "G", 1)
        .intern("a", "G", 1, Classique, Some(&["10"]))
        .intern("sv", "G", 2, SurnombreValidant, Some(&["10", "20"]));
    assert_eq!(got(&s.allocate(1), "sv"), surnombre("20"));
}

#[test]
fn surnombre_validant_skips_a_post_that_already_has_a_supernumerary() {
    let s = Session::default()
        .post("10", "G", 3)
        .post("20", "G", 1)
        .intern("first", "G", 1, SurnombreNonValidant, Some(&["10"]))
        .intern("sv", "G", 2, SurnombreValidant, Some(&["10", "20"]));
    assert_eq!(got(&s.allocate(1), "sv"), surnombre("20"));
}

#[test]
fn surnombre_non_validant_may_take_a_full_post() {
    let s = Session::default().post("10", "G", 1).intern("a", "G", 1, Classique, Some(&["10"])).intern(
        "snv",
        "G",
        2,
        SurnombreNonValidant,
        Some(&["10"]),
    );
    assert_eq!(got(&s.allocate(1), "snv"), surnombre("10"));
}

#[test]
fn surnombre_non_validant_is_unassigned_when_every_wish_has_its_supernumerary() {
    let s = Session::default()
        .post("10", "G", 1)
        .intern("sv", "G", 1, SurnombreValidant, Some(&["10"]))
        .intern("snv", "G", 2, SurnombreNonValidant, Some(&["10"]));
    assert_eq!(got(&s.allocate(1), "snv"), (Status::Unassigned, None));
}

#[test]
fn a_supernumerary_cap_of_two_takes_two_supernumeraries() {
    let s = Session::default()
        .post("10", "G", 1)
        .intern("x", "G", 1, SurnombreNonValidant, Some(&["10"]))
        .intern("y", "G", 2, SurnombreValidant, Some(&["10"]))
        .intern("z", "G", 3, SurnombreNonValidant, Some(&["10"]));
    let allocation = s.allocate(2);
    assert_eq!(got(&allocation, "y"), surnombre("10"));
    assert_eq!(got(&allocation, "z"), (Status::Unassigned, None));
    assert_eq!(got(&s.allocate(1), "y"), (Status::Unassigned, None));
}

#[test]
fn a_stale_wish_not_open_to_the_group_is_skipped() {
    let s = Session::default()
        .post("10", "G", 1)
        .post("20", "H", 1)
        .intern("a", "G", 1, Classique, Some(&["99", "20", "10"]))
        .intern("snv", "G", 2, SurnombreNonValidant, Some(&["20"]));
    let allocation = s.allocate(1);
    assert_eq!(got(&allocation, "a"), assigned("10"));
    assert_eq!(got(&allocation, "snv"), (Status::Unassigned, None));
}

#[test]
fn capacity_is_per_post_and_group() {
    let s = Session::default()
        .post("10", "G", 1)
        .post("10", "H", 1)
        .intern("g", "G", 1, Classique, Some(&["10"]))
        .intern("h", "H", 1, Classique, Some(&["10"]))
        .intern("g2", "G", 2, SurnombreValidant, Some(&["10"]))
        .intern("h2", "H", 2, SurnombreNonValidant, Some(&["10"]));
    let allocation = s.allocate(1);
    assert_eq!(got(&allocation, "g"), assigned("10"));
    assert_eq!(got(&allocation, "h"), assigned("10"));
    assert_eq!(got(&allocation, "g2"), (Status::Unassigned, None));
    assert_eq!(got(&allocation, "h2"), surnombre("10"));
}

#[test]
fn no_wishes_is_absent_and_exhausted_wishes_are_unassigned() {
    let s = Session::default()
        .post("10", "G", 1)
        .intern("a", "G", 1, Classique, Some(&["10"]))
        .intern("none", "G", 2, Classique, None)
        .intern("empty", "G", 3, SurnombreValidant, Some(&[]))
        .intern("late", "G", 4, Classique, Some(&["10"]));
    let allocation = s.allocate(1);
    assert_eq!(got(&allocation, "none"), (Status::Absent, None));
    assert_eq!(got(&allocation, "empty"), (Status::Absent, None));
    assert_eq!(got(&allocation, "late"), (Status::Unassigned, None));
}

#[test]
fn assignments_by_group_name_then_rank_and_vacancies_in_numeric_order() {
    let s = Session::default()
        .post("100", "B", 2)
        .post("9", "B", 1)
        .post("10", "A", 1)
        .intern("b2", "B", 2, Classique, Some(&["100"]))
        .intern("a1", "A", 1, Classique, None)
        .intern("b1", "B", 1, Classique, Some(&["9"]));
    let allocation = s.allocate(1);
    let order: Vec<&str> = allocation.assignments.iter().map(|a| a.email.local_part()).collect();
    assert_eq!(order, ["a1", "b1", "b2"]);
    let vacancy = |ars: &str, group: &str, places_left| Vacancy {
        ars_id: ArsId::parse(ars).unwrap(),
        group: Group::parse(group).unwrap(),
        places_left,
    };
    assert_eq!(allocation.vacancies, [vacancy("10", "A", 1), vacancy("100", "B", 1)]);
}

#[test]
fn the_provisional_result_ignores_worse_ranked_interns_and_matches_the_allocation() {
    let s = Session::default()
        .post("10", "G", 1)
        .post("20", "G", 1)
        .post("10", "H", 1)
        .intern("a", "G", 2, Classique, Some(&["10", "20"]))
        .intern("better", "G", 1, Classique, Some(&["10"]))
        .intern("worse", "G", 3, Classique, Some(&["20"]))
        .intern("other", "H", 1, Classique, Some(&["10"]));
    let full = s.allocate(1);
    for intern in &s.interns {
        let alone = provisional(s.input(1), &intern.email).unwrap();
        assert_eq!(Some(&alone), full.assignment_of(&intern.email));
    }
    assert_eq!(provisional(s.input(1), &email("a")).unwrap().ars_id.unwrap().as_str(), "20");
    assert_eq!(provisional(s.input(1), &email("nobody")), None);
}
