//! Plain-text and JSON views of the session for the referent's terminal.

use std::collections::BTreeMap;

use serde::Serialize;

use super::commands::Snapshot;
use crate::allocation::Status;

/// One group's line in `status`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GroupStatus {
    /// The group (DES).
    pub group: String,
    /// Interns on the call list.
    pub interns: u64,
    /// Interns with at least one wish.
    pub with_wishes: u64,
    /// Places opened to the group, all posts together.
    pub places: u64,
    /// Places left if the session closed now.
    pub places_left: u64,
    /// Interns who would get a place or a supernumerary post now.
    pub assigned: u64,
    /// Interns with no wish.
    pub absent: u64,
    /// Interns whose wishes are all taken.
    pub unassigned: u64,
}

pub fn group_status(snapshot: &Snapshot) -> Vec<GroupStatus> {
    let mut groups: BTreeMap<String, GroupStatus> = BTreeMap::new();
    for post in &snapshot.posts {
        group_mut(&mut groups, post.group.as_str()).places += u64::from(post.places);
    }
    for intern in &snapshot.interns {
        let group = group_mut(&mut groups, intern.group.as_str());
        group.interns += 1;
        if snapshot.wishes.get(&intern.email).is_some_and(|w| !w.is_empty()) {
            group.with_wishes += 1;
        }
    }
    for vacancy in &snapshot.allocation.vacancies {
        group_mut(&mut groups, vacancy.group.as_str()).places_left += u64::from(vacancy.places_left);
    }
    for assignment in &snapshot.allocation.assignments {
        let group = group_mut(&mut groups, assignment.group.as_str());
        match assignment.status {
            Status::Assigned | Status::Surnombre => group.assigned += 1,
            Status::Absent => group.absent += 1,
            Status::Unassigned => group.unassigned += 1,
        }
    }
    groups.into_values().collect()
}

fn group_mut<'a>(groups: &'a mut BTreeMap<String, GroupStatus>, name: &str) -> &'a mut GroupStatus {
    groups
        .entry(name.to_string())
        .or_insert_with(|| GroupStatus { group: name.to_string(), ..Default::default() })
}

pub fn status_table(groups: &[GroupStatus]) -> String {
    let mut text = format!(
        "{:<32} {:>7} {:>7} {:>7} {:>7} {:>8} {:>6} {:>10}\n",
        "group", "interns", "wishes", "places", "left", "assigned", "absent", "unassigned"
    );
    for g in groups {
        text.push_str(&format!(
            "{:<32} {:>7} {:>7} {:>7} {:>7} {:>8} {:>6} {:>10}\n",
            truncate(&g.group, 32),
            g.interns,
            g.with_wishes,
            g.places,
            g.places_left,
            g.assigned,
            g.absent,
            g.unassigned
        ));
    }
    text
}

pub fn allocation_table(snapshot: &Snapshot) -> String {
    let mut text = String::new();
    let mut current_group = None;
    for a in &snapshot.allocation.assignments {
        if current_group != Some(&a.group) {
            text.push_str(&format!("\n{}\n", a.group));
            current_group = Some(&a.group);
        }
        let outcome = match (&a.status, &a.ars_id) {
            (Status::Assigned, Some(id)) => format!("post {id}"),
            (Status::Surnombre, Some(id)) => format!("post {id} (supernumerary)"),
            (Status::Absent, _) => "absent (no wishes)".to_string(),
            _ => "unassigned (wishes exhausted)".to_string(),
        };
        text.push_str(&format!("  {:>4}  {:<40} {}\n", a.rank, a.email, outcome));
    }
    text
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        text.chars().take(max - 1).chain(['…']).collect()
    }
}
