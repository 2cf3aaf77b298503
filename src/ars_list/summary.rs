//! The body of the email to the ARS: a plain-text summary in French that a
//! person reads before opening the attachments: the counts of each group and
//! the names of the interns left without a post.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{rows, ListInput, Row};
use crate::allocation::Status;

/// The counts of one group.
#[derive(Debug, Default)]
struct Counts {
    /// Interns on the call list.
    interns: usize,
    /// Interns with a place.
    assigned: usize,
    /// Interns placed as supernumeraries.
    surnombre: usize,
    /// Interns without wishes.
    absent: usize,
    /// Interns whose wishes were all taken.
    unassigned: usize,
    /// Places nobody took.
    places_left: u64,
}

/// A readable summary in French for the body of the email to the ARS.
pub fn summary(input: ListInput<'_>) -> String {
    let rows = rows(&input);
    let mut groups: BTreeMap<&str, Counts> = BTreeMap::new();
    for row in &rows {
        let counts = groups.entry(row.group).or_default();
        counts.interns += 1;
        match row.status {
            Status::Assigned => counts.assigned += 1,
            Status::Surnombre => counts.surnombre += 1,
            Status::Absent => counts.absent += 1,
            Status::Unassigned => counts.unassigned += 1,
        }
    }
    for vacancy in &input.allocation.vacancies {
        groups.entry(vacancy.group.as_str()).or_default().places_left += u64::from(vacancy.places_left);
    }

    let mut text = String::with_capacity(256 + 64 * groups.len());
    let _ = writeln!(text, "Session : {}", input.session_name);
    let _ = writeln!(text, "\nRésultat par groupe (DES) :");
    let mut total = Counts::default();
    for (group, counts) in &groups {
        let _ = writeln!(text, "- {group} : {}", counts_line(counts));
        total.interns += counts.interns;
        total.assigned += counts.assigned;
        total.surnombre += counts.surnombre;
        total.absent += counts.absent;
        total.unassigned += counts.unassigned;
        total.places_left += counts.places_left;
    }
    let _ = writeln!(text, "Total : {}", counts_line(&total));
    names_section(&mut text, "Internes absent(e)s (aucun vœu)", &rows, Status::Absent);
    names_section(&mut text, "Internes non affecté(e)s (vœux épuisés)", &rows, Status::Unassigned);
    let _ = writeln!(
        text,
        "\nLa liste complète (affectations et postes vacants) est jointe aux formats CSV et XLSX."
    );
    text
}

fn counts_line(c: &Counts) -> String {
    format!(
        "{} interne(s), {} affecté(e)(s), {} en surnombre, {} absent(e)(s), {} non affecté(e)(s), {} place(s) restante(s)",
        c.interns, c.assigned, c.surnombre, c.absent, c.unassigned, c.places_left
    )
}

/// The interns of one status, by group and rank, or "aucun".
fn names_section(text: &mut String, title: &str, rows: &[Row<'_>], status: Status) {
    let _ = writeln!(text, "\n{title} :");
    let mut any = false;
    for row in rows.iter().filter(|r| r.status == status) {
        any = true;
        let name =
            [row.last_name, row.first_name].iter().filter(|s| !s.is_empty()).copied().collect::<Vec<_>>();
        let _ = writeln!(text, "- {} (rang {}) : {}", row.group, row.rank, name.join(" "));
    }
    if !any {
        let _ = writeln!(text, "- aucun(e)");
    }
}
