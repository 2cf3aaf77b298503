//! The order of the calls in one group: every intern at their rank, then
//! those who asked `PLUS TARD`, again in rank order, after the last of the
//! group (the national rules allow it once: a second `PLUS TARD` is not
//! offered).

use std::collections::HashMap;

use super::{Outcome, Turn};
use crate::domain::Intern;

/// One group's interns and their turns.
#[derive(Debug, Clone)]
pub struct Line<'a> {
    /// The group's interns, in rank order.
    interns: Vec<&'a Intern>,
    /// Each intern's turns, oldest first.
    turns: HashMap<&'a str, Vec<&'a Turn>>,
}

/// An intern still to be called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waiting<'a> {
    /// The intern.
    pub intern: &'a Intern,
    /// The round of the call to come (2: after `PLUS TARD`).
    pub round: i64,
}

impl<'a> Line<'a> {
    /// The line of a group: its interns (any order) and its turns.
    pub fn new(mut interns: Vec<&'a Intern>, turns: &'a [Turn]) -> Self {
        interns.sort_by(|a, b| a.rank.cmp(&b.rank).then(a.email.cmp(&b.email)));
        let mut by_intern: HashMap<&str, Vec<&Turn>> = HashMap::new();
        for turn in turns {
            by_intern.entry(turn.intern.as_str()).or_default().push(turn);
        }
        for turns in by_intern.values_mut() {
            turns.sort_by_key(|turn| turn.round);
        }
        Self { interns, turns: by_intern }
    }

    /// The turn running now, if any.
    pub fn open_turn(&self) -> Option<&'a Turn> {
        self.turns.values().flat_map(|turns| turns.iter().copied()).find(|turn| turn.is_open())
    }

    /// Everyone still to be called, in the order they will be.
    pub fn waiting(&self) -> Vec<Waiting<'a>> {
        let last =
            |intern: &Intern| self.turns.get(intern.email.as_str()).and_then(|turns| turns.last().copied());
        let first_round = self.interns.iter().copied().filter(|intern| last(intern).is_none());
        let again = self.interns.iter().copied().filter(|intern| {
            last(intern).is_some_and(|turn| {
                turn.round == 1 && turn.settled.as_ref().is_some_and(|s| s.outcome == Outcome::Later)
            })
        });
        first_round
            .map(|intern| Waiting { intern, round: 1 })
            .chain(again.map(|intern| Waiting { intern, round: 2 }))
            .collect()
    }

    /// Who is to be called now: nobody while a turn runs.
    pub fn next(&self) -> Option<Waiting<'a>> {
        if self.open_turn().is_some() {
            return None;
        }
        self.waiting().into_iter().next()
    }

    /// Whether everyone of the group is settled.
    pub fn is_done(&self) -> bool {
        self.open_turn().is_none() && self.waiting().is_empty()
    }

    /// The group's interns, in rank order.
    pub fn interns(&self) -> &[&'a Intern] {
        &self.interns
    }
}
