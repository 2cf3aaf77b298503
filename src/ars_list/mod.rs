//! The consolidated list sent to the ARS at the deadline (SPEC §8): per group,
//! in rank order, who gets which post, the absent and unassigned interns, then
//! the vacant posts. Rendered as CSV (for Excel), XLSX and a plain-text
//! summary for the body of the email. Pure: bytes in memory, no I/O.
//!
//! The three renderings read the same rows ([`rows`] and [`vacant_rows`]),
//! so the CSV, the XLSX and the summary cannot disagree.

mod csv_text;
mod summary;
mod workbook;

use std::collections::HashMap;

use crate::allocation::{Allocation, Status};
use crate::domain::{Email, Intern, Post};

pub use summary::summary;

/// Everything the list is made from.
#[derive(Debug, Clone, Copy)]
pub struct ListInput<'a> {
    /// The session's name (`[session] name`), for the summary.
    pub session_name: &'a str,
    /// Every post, for the labels of the ARS numbers.
    pub posts: &'a [Post],
    /// Every intern, for their names and choice types.
    pub interns: &'a [Intern],
    /// The allocation the list states.
    pub allocation: &'a Allocation,
}

/// `;`-separated, UTF-8 with a BOM, CRLF line ends: what Excel opens
/// correctly by double click.
pub fn to_csv(input: ListInput<'_>) -> Vec<u8> {
    csv_text::render(input)
}

/// An XLSX workbook with a sheet "Affectations" and a sheet "Postes vacants".
pub fn to_xlsx(input: ListInput<'_>) -> anyhow::Result<Vec<u8>> {
    workbook::render(input)
}

/// The headers of the list of interns, in French.
pub const HEADERS: [&str; 9] =
    ["rang", "nom", "prénom", "DES", "type de choix", "n° ARS", "hôpital", "service", "statut"];

/// The headers of the list of vacant posts, in French.
pub const VACANT_HEADERS: [&str; 6] = ["n° ARS", "DES", "hôpital", "service", "ville", "places restantes"];

/// The XLSX sheet of the interns.
pub const ASSIGNMENTS_SHEET: &str = "Affectations";

/// The title of the vacant posts (the CSV section and the XLSX sheet).
pub const VACANT_TITLE: &str = "Postes vacants";

/// The French label of a status, as the ARS reads it in the list.
pub fn status_label(status: Status) -> &'static str {
    match status {
        Status::Assigned => "affecté(e)",
        Status::Surnombre => "surnombre",
        Status::Absent => "absent(e)",
        Status::Unassigned => "non affecté(e) (vœux épuisés)",
    }
}

/// One line of the list of interns, as the ARS reads it.
#[derive(Debug, Clone)]
pub(crate) struct Row<'a> {
    /// The rank within the group.
    pub rank: u32,
    /// "nom" (the email when the intern is missing from the call list).
    pub last_name: &'a str,
    /// "prénom".
    pub first_name: &'a str,
    /// "DES".
    pub group: &'a str,
    /// "type de choix", French label.
    pub choice_type: &'a str,
    /// "n° ARS", empty for absent and unassigned interns.
    pub ars_id: &'a str,
    /// "hôpital" of the post obtained.
    pub hospital: &'a str,
    /// "service" of the post obtained.
    pub service: &'a str,
    /// What the intern gets.
    pub status: Status,
}

impl<'a> Row<'a> {
    /// The text cells in the order of [`HEADERS`], the rank excepted.
    pub fn text_cells(&self) -> [&'a str; 8] {
        [
            self.last_name,
            self.first_name,
            self.group,
            self.choice_type,
            self.ars_id,
            self.hospital,
            self.service,
            status_label(self.status),
        ]
    }
}

/// One vacant post.
#[derive(Debug, Clone)]
pub(crate) struct VacantRow<'a> {
    /// "n° ARS".
    pub ars_id: &'a str,
    /// "DES".
    pub group: &'a str,
    /// "hôpital".
    pub hospital: &'a str,
    /// "service".
    pub service: &'a str,
    /// "ville".
    pub city: &'a str,
    /// "places restantes".
    pub places_left: u32,
}

/// The post of each (ARS number, group), for the labels.
fn posts_by_key(posts: &[Post]) -> HashMap<(&str, &str), &Post> {
    let mut map = HashMap::with_capacity(posts.len());
    for post in posts {
        map.entry((post.ars_id.as_str(), post.group.as_str())).or_insert(post);
    }
    map
}

/// The list of interns, in the order of the allocation (group name, then
/// rank).
pub(crate) fn rows<'a>(input: &ListInput<'a>) -> Vec<Row<'a>> {
    let interns: HashMap<&Email, &Intern> = input.interns.iter().map(|i| (&i.email, i)).collect();
    let posts = posts_by_key(input.posts);
    input
        .allocation
        .assignments
        .iter()
        .map(|a| {
            let intern = interns.get(&a.email);
            let ars_id = a.ars_id.as_ref().map_or("", |id| id.as_str());
            let post = posts.get(&(ars_id, a.group.as_str()));
            Row {
                rank: a.rank.get(),
                last_name: intern.map_or(a.email.as_str(), |i| i.last_name.as_str()),
                first_name: intern.map_or("", |i| i.first_name.as_str()),
                group: a.group.as_str(),
                choice_type: intern.map_or("", |i| i.choice_type.label()),
                ars_id,
                hospital: post.map_or("", |p| p.hospital.as_str()),
                service: post.map_or("", |p| p.service.as_str()),
                status: a.status,
            }
        })
        .collect()
}

/// The vacant posts, in the order of the allocation (group name, then ARS
/// number).
pub(crate) fn vacant_rows<'a>(input: &ListInput<'a>) -> Vec<VacantRow<'a>> {
    let posts = posts_by_key(input.posts);
    input
        .allocation
        .vacancies
        .iter()
        .map(|v| {
            let post = posts.get(&(v.ars_id.as_str(), v.group.as_str()));
            VacantRow {
                ars_id: v.ars_id.as_str(),
                group: v.group.as_str(),
                hospital: post.map_or("", |p| p.hospital.as_str()),
                service: post.map_or("", |p| p.service.as_str()),
                city: post.map_or("", |p| p.city.as_str()),
                places_left: v.places_left,
            }
        })
        .collect()
}
