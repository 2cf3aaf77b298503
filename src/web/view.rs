//! What the pages show, as plain values for the templates: built from the
//! session's [`Snapshot`] and `status`, so that the page and the terminal
//! never disagree.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::allocation::{Assignment, Status as AssignmentStatus};
use crate::cli::snapshot::Snapshot;
use crate::domain::Post;
use crate::store::LastMessage;

/// The session's name, deadline and state, on every page.
#[derive(Debug, Serialize)]
pub struct Heading {
    /// The session's name.
    pub session: String,
    /// The deadline, in words, in the session's time zone.
    pub deadline: Option<String>,
    /// The deadline in milliseconds since the epoch, for the countdown.
    pub deadline_ms: Option<i64>,
    /// The time left, in words ("2 j 5 h 03 min"), empty once passed.
    pub time_left: String,
    /// Whether the list has been made.
    pub closed: bool,
}

impl Heading {
    pub fn new(
        session: &str,
        deadline: Option<DateTime<Utc>>,
        tz: Tz,
        now: DateTime<Utc>,
        closed: bool,
    ) -> Self {
        Self {
            session: session.to_string(),
            deadline: deadline.map(|d| crate::answer::french::deadline_in_words(d, tz)),
            deadline_ms: deadline.map(|d| d.timestamp_millis()),
            time_left: deadline.map(|d| time_left(d - now)).unwrap_or_default(),
            closed,
        }
    }
}

/// "2 j 5 h 03 min", "45 min", or empty when the time is up.
pub fn time_left(left: chrono::Duration) -> String {
    let minutes = left.num_minutes();
    if left <= chrono::Duration::zero() {
        return String::new();
    }
    let (days, hours, minutes) = (minutes / (24 * 60), minutes / 60 % 24, minutes % 60);
    match (days, hours) {
        (0, 0) => format!("{} min", minutes.max(1)),
        (0, _) => format!("{hours} h {minutes:02} min"),
        _ => format!("{days} j {hours} h {minutes:02} min"),
    }
}

/// One post, as the public page lists it.
#[derive(Debug, Serialize)]
pub struct PostLine {
    /// The ARS number.
    pub ars_id: String,
    /// The hospital.
    pub hospital: String,
    /// The service.
    pub service: String,
    /// The city.
    pub city: String,
    /// Places opened to the group.
    pub places: u32,
    /// Places the current provisional allocation leaves.
    pub left: u32,
}

/// One group's posts.
#[derive(Debug, Serialize)]
pub struct GroupPosts {
    /// The group (DES).
    pub name: String,
    /// All its places.
    pub places: u32,
    /// Its places left now.
    pub left: u32,
    /// Its posts, in ARS order.
    pub posts: Vec<PostLine>,
}

/// Every group's posts with the places left now.
pub fn posts_by_group(snapshot: &Snapshot) -> Vec<GroupPosts> {
    let left: HashMap<(&str, &str), u32> = snapshot
        .allocation
        .vacancies
        .iter()
        .map(|v| ((v.group.as_str(), v.ars_id.as_str()), v.places_left))
        .collect();
    let mut groups: Vec<GroupPosts> = Vec::new();
    let mut posts: Vec<&Post> = snapshot.posts.iter().collect();
    posts.sort_by(|a, b| {
        a.group
            .as_str()
            .cmp(b.group.as_str())
            .then_with(|| crate::allocation::compare_ars_ids(a.ars_id.as_str(), b.ars_id.as_str()))
    });
    for post in posts {
        let line = PostLine {
            ars_id: post.ars_id.as_str().to_string(),
            hospital: post.hospital.clone(),
            service: post.service.clone(),
            city: post.city.clone(),
            places: post.places,
            left: left.get(&(post.group.as_str(), post.ars_id.as_str())).copied().unwrap_or(0),
        };
        match groups.last_mut() {
            Some(group) if group.name == post.group.as_str() => push(group, line),
            _ => {
                let mut group = GroupPosts {
                    name: post.group.as_str().to_string(),
                    places: 0,
                    left: 0,
                    posts: Vec::new(),
                };
                push(&mut group, line);
                groups.push(group);
            }
        }
    }
    groups
}

fn push(group: &mut GroupPosts, line: PostLine) {
    group.places += line.places;
    group.left += line.left;
    group.posts.push(line);
}

/// One intern's result, as the seed's platform publishes it after the close.
#[derive(Debug, Serialize)]
pub struct Published {
    /// Last and first name.
    pub name: String,
    /// The group (DES).
    pub group: String,
    /// The post obtained, in words; empty without one.
    pub post: String,
}

/// The assignments, by group then rank: published after the close only.
pub fn published(snapshot: &Snapshot) -> Vec<Published> {
    let names: HashMap<_, _> = snapshot.interns.iter().map(|i| (&i.email, i.full_name())).collect();
    let labels: HashMap<_, _> =
        snapshot.posts.iter().map(|p| ((p.group.as_str(), p.ars_id.as_str()), p.label())).collect();
    snapshot
        .allocation
        .assignments
        .iter()
        .map(|a| Published {
            name: names.get(&a.email).cloned().unwrap_or_default(),
            group: a.group.as_str().to_string(),
            post: outcome(a, &labels),
        })
        .collect()
}

/// What an intern gets, in French.
fn outcome(a: &Assignment, labels: &HashMap<(&str, &str), String>) -> String {
    let post = |id: &crate::domain::ArsId| {
        labels
            .get(&(a.group.as_str(), id.as_str()))
            .map_or_else(|| format!("n° {}", id.as_str()), |label| format!("n° {} – {label}", id.as_str()))
    };
    match (&a.status, &a.ars_id) {
        (AssignmentStatus::Assigned, Some(id)) => post(id),
        (AssignmentStatus::Surnombre, Some(id)) => format!("{} (surnombre)", post(id)),
        (AssignmentStatus::Absent, _) => "sans vœux".to_string(),
        _ => "aucun poste (vœux épuisés)".to_string(),
    }
}

/// One intern, as the referents' table shows them.
#[derive(Debug, Serialize)]
pub struct InternRow {
    /// The rank in the group.
    pub rank: u32,
    /// Last and first name.
    pub name: String,
    /// The address choixbot writes to.
    pub email: String,
    /// The group (DES).
    pub group: String,
    /// The wishes in force, in order.
    pub wishes: Vec<String>,
    /// What the allocation gives now.
    pub result: String,
    /// The last message recorded for them.
    pub last: Option<LastMessage>,
}

/// The call list, filtered by `query` (a part of the name or the address,
/// any case) and `group`, with what each intern would get now.
pub fn intern_rows(
    snapshot: &Snapshot,
    last: &HashMap<String, LastMessage>,
    query: &str,
    group: &str,
) -> Vec<InternRow> {
    let labels: HashMap<_, _> =
        snapshot.posts.iter().map(|p| ((p.group.as_str(), p.ars_id.as_str()), p.label())).collect();
    let results: HashMap<_, _> = snapshot.allocation.assignments.iter().map(|a| (&a.email, a)).collect();
    let query = query.trim().to_lowercase();
    let mut interns: Vec<_> = snapshot
        .interns
        .iter()
        .filter(|i| group.is_empty() || i.group.as_str() == group)
        .filter(|i| {
            query.is_empty()
                || i.full_name().to_lowercase().contains(&query)
                || i.email.as_str().to_lowercase().contains(&query)
        })
        .collect();
    interns.sort_by(|a, b| (a.group.as_str(), a.rank.get()).cmp(&(b.group.as_str(), b.rank.get())));
    interns
        .into_iter()
        .map(|i| InternRow {
            rank: i.rank.get(),
            name: i.full_name(),
            email: i.email.as_str().to_string(),
            group: i.group.as_str().to_string(),
            wishes: snapshot
                .wishes
                .get(&i.email)
                .map(|w| w.iter().map(|id| id.as_str().to_string()).collect())
                .unwrap_or_default(),
            result: results.get(&i.email).map(|a| outcome(a, &labels)).unwrap_or_default(),
            last: last.get(i.email.as_str()).cloned(),
        })
        .collect()
}

/// What was recorded with a decision (`{"decision": …, "notes": […]}`,
/// see `collect::process`), in words: the reasons of a rejection as the
/// intern read them, the wishes and doubts of a confirmation, the command,
/// or why the message was ignored. Anything else is shown as it is.
pub fn reasons_in_words(recorded: &str) -> String {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(recorded) else { return recorded.to_string() };
    let decision = &value["decision"];
    let mut parts: Vec<String> = Vec::new();
    if let Ok(reasons) = serde_json::from_value::<Vec<crate::decide::Reason>>(decision["reasons"].clone()) {
        parts.extend(reasons.iter().map(|reason| reason.sentence()));
    }
    let texts = |key: &str| -> Vec<String> {
        decision[key]
            .as_array()
            .map(|items| items.iter().filter_map(|i| i.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    };
    let wishes = texts("wishes");
    if !wishes.is_empty() {
        parts.push(format!("vœux : {}", wishes.join(" > ")));
    }
    parts.extend(texts("doubts").into_iter().map(|doubt| format!("à vérifier : {doubt}")));
    if let Some(command) = decision["command"].as_str() {
        parts.push(format!("commande {command}"));
    }
    if let Some(why) = decision["why"].as_str() {
        parts.push(why.to_string());
    }
    if parts.is_empty() && !value.is_object() {
        return recorded.to_string();
    }
    parts.join(" ; ")
}

/// A decision's verdict (`Decision::verdict`), in French.
pub fn verdict_in_words(verdict: &str) -> &str {
    match verdict {
        "confirmed" => "confirmé",
        "command" => "commande",
        "rejected" => "refusé",
        "closed" => "après la clôture",
        "bounce" => "retour en erreur",
        "ignored" => "ignoré",
        "unprocessable" => "illisible",
        other => other,
    }
}

/// Milliseconds since the epoch, as a local time.
pub fn local(ms: i64, tz: Tz) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|t| t.with_timezone(&tz).format("%d/%m/%Y %H:%M:%S").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_was_recorded_with_a_decision_reads_in_words() {
        let rejected = r#"{"decision":{"reasons":[{"reason":"unknown_number","detail":"9999"}],"warned_owner":null},"notes":[]}"#;
        assert!(
            reasons_in_words(rejected).contains("Le numéro 9999 ne correspond"),
            "{}",
            reasons_in_words(rejected)
        );
        let confirmed =
            r#"{"decision":{"wishes":["1204","1211"],"doubts":["« x » : une question ?"]},"notes":["n"]}"#;
        assert_eq!(reasons_in_words(confirmed), "vœux : 1204 > 1211 ; à vérifier : « x » : une question ?");
        assert_eq!(
            reasons_in_words(r#"{"decision":{"why":"automatic reply"},"notes":[]}"#),
            "automatic reply"
        );
        assert_eq!(reasons_in_words("not JSON"), "not JSON");
    }

    #[test]
    fn time_left_in_words() {
        let d = chrono::Duration::minutes;
        assert_eq!(time_left(d(2 * 24 * 60 + 5 * 60 + 3)), "2 j 5 h 03 min");
        assert_eq!(time_left(d(65)), "1 h 05 min");
        assert_eq!(time_left(chrono::Duration::seconds(20)), "1 min");
        assert_eq!(time_left(d(0)), "");
        assert_eq!(time_left(d(-5)), "");
    }
}
