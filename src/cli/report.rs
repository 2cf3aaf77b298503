//! Plain-text and JSON views of the session for the referent's terminal.

use std::collections::BTreeMap;

use serde::Serialize;

use super::snapshot::Snapshot;
use crate::allocation::Status as AssignmentStatus;
use crate::domain::Email;
use crate::store::outbox::AuditOutbox;
use crate::store::{AuditMessage, MailCounts, NoticeCounts, NoticeState, ProxyChange};

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
            AssignmentStatus::Assigned | AssignmentStatus::Surnombre => group.assigned += 1,
            AssignmentStatus::Absent => group.absent += 1,
            AssignmentStatus::Unassigned => group.unassigned += 1,
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
            (AssignmentStatus::Assigned, Some(id)) => format!("post {id}"),
            (AssignmentStatus::Surnombre, Some(id)) => format!("post {id} (supernumerary)"),
            (AssignmentStatus::Absent, _) => "absent (no wishes)".to_string(),
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

/// Everything `status` shows.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// The configured deadline (local time), when there is a configuration.
    pub deadline: Option<String>,
    /// When the session was closed, if it was.
    pub closed_at: Option<String>,
    /// Per group: interns, wishes, places, places left.
    pub groups: Vec<GroupStatus>,
    /// Invited, bounced, replied, valid, rejected, no reply.
    pub mail: MailCounts,
    /// (purpose, status, count) of the outbox.
    pub outbox: Vec<(String, String, i64)>,
    /// (purpose, recipients, error) of every failed message.
    pub failed: Vec<(String, String, String)>,
    /// The interns and messages that need the referent.
    pub follow_up: super::follow_up::FollowUp,
    /// Where the close stands: passed, held, made on what.
    pub close: CloseStatus,
    /// Which process acts on the mail, and which stand by.
    pub lease: super::lease::LeaseStatus,
    /// The proxies designated or revoked by email (`PROCURATION`), pending
    /// and accepted.
    pub proxies: Vec<ProxyChange>,
    /// The displacement notices: sent, pending, turned off.
    pub notices: NoticeCounts,
    /// What the mailbox refuses now (a password, an authorization, a
    /// certificate, a folder), as the daemon last found; `None` while it
    /// can be read.
    pub mailbox_refused: Option<MailboxRefused>,
    /// The virtual amphi, when the session is one: per group, who is
    /// choosing, until when, how many are left.
    pub amphi: Option<super::amphi::AmphiStatus>,
}

/// The mailbox refusing choixbot, for `status`.
#[derive(Debug, Clone, Serialize)]
pub struct MailboxRefused {
    /// `login_refused`, `authorization_refused`, `token_refused`,
    /// `certificate_refused` or `folder_missing`.
    pub kind: String,
    /// Since when, in words, in the session's time zone.
    pub since: String,
    /// The refusal, in full.
    pub error: String,
    /// What to do about it.
    pub remedy: String,
}

impl MailboxRefused {
    fn to_text(&self) -> String {
        format!(
            "THE MAILBOX REFUSES CHOIXBOT since {}:\n  {}\n  What to do: {}.\n  (The referents were told by email; \
             choixbot keeps trying and reads the replies as soon as it is let in.)\n",
            self.since, self.error, self.remedy
        )
    }
}

/// Where the close stands, for `status`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CloseStatus {
    /// The deadline in words, in the session's time zone.
    pub deadline: Option<String>,
    /// Whether the deadline has passed (by the clock the daemon reads).
    pub deadline_passed: bool,
    /// When the session was closed, in words.
    pub closed: Option<String>,
    /// On what the list was made ("folder "INBOX" read up to UID 412…").
    pub basis: Option<String>,
    /// True while the list is held: the deadline passed, the mailbox
    /// cannot be read, and the session is not closed.
    pub held: bool,
    /// Since when the mailbox cannot be read, in words (while held, or
    /// when the close was held before it was made).
    pub unreadable_since: Option<String>,
    /// The last error that held the close.
    pub error: Option<String>,
}

impl CloseStatus {
    /// Where the close stands, in words.
    pub fn to_text(&self) -> String {
        let deadline = self.deadline.as_deref().unwrap_or("unknown");
        if let Some(closed) = &self.closed {
            let basis = self.basis.as_deref().map(|b| format!(": {b}")).unwrap_or_default();
            return format!("Session closed on {closed}{basis}.\n");
        }
        if self.held {
            return format!(
                "The deadline ({deadline}) has passed, but THE LIST IS HELD: the mailbox cannot be read since {}:\n  {}\n\
                 choixbot keeps trying, and sends the list once every reply received before the deadline is read.\n\
                 To send it without them (the list will say replies may be missing): choixbot close --without-mailbox\n",
                self.unreadable_since.as_deref().unwrap_or("?"),
                self.error.as_deref().unwrap_or("?"),
            );
        }
        if self.deadline_passed {
            return format!(
                "The deadline ({deadline}) has passed: the list leaves once the mailbox is read up to it \
                 (choixbot run does it; choixbot close does it now).\n"
            );
        }
        match &self.deadline {
            Some(deadline) => format!("Session open until {deadline}.\n"),
            None => "Session open: an amphi closes when every group is done.\n".to_string(),
        }
    }
}

impl Status {
    pub fn to_text(&self) -> String {
        let mut text = String::new();
        if self.deadline.is_none() && self.closed_at.is_none() {
            text.push_str("No configuration: deadline unknown.\n");
        } else {
            text.push_str(&self.close.to_text());
        }
        if let Some(refused) = &self.mailbox_refused {
            text.push_str(&refused.to_text());
        }
        text.push_str(&self.lease.to_text());
        if let Some(amphi) = &self.amphi {
            text.push_str(&amphi.to_text());
        }
        let m = &self.mail;
        text.push_str(&format!(
            "Interns: {} invited, {} bounced, {} replied, {} with valid wishes by email, {} without reply; {} rejected replies.\n\n",
            m.invited, m.bounced, m.replied, m.valid, m.no_reply, m.rejected
        ));
        if m.unprocessable > 0 {
            text.push_str(&format!(
                "{} message(s) could not be processed and got no answer: read them with `choixbot audit SENDER` \
                 or in the processed folder, and see the daemon's log.\n\n",
                m.unprocessable
            ));
        }
        text.push_str(&status_table(&self.groups));
        if !self.outbox.is_empty() {
            text.push_str("\nOutbox:\n");
            for (purpose, status, count) in &self.outbox {
                text.push_str(&format!("  {purpose:<14} {status:<8} {count}\n"));
            }
        }
        if !self.failed.is_empty() {
            text.push_str("\nFailed messages (not sent, will not be retried):\n");
            for (purpose, recipients, error) in &self.failed {
                text.push_str(&format!("  {purpose} to {recipients}: {error}\n"));
            }
        }
        text.push_str(&proxies_text(&self.proxies));
        let n = &self.notices;
        if n.sent + n.pending + n.muted > 0 {
            text.push_str(&format!(
                "\nDisplacement notices: {} sent, {} waiting for their time, {} intern(s) turned them off (NOTIFS NON).\n",
                n.sent, n.pending, n.muted
            ));
        }
        text.push_str(&self.follow_up.to_text(self.closed_at.is_some()));
        text
    }
}

/// The proxies changed by email, one line each.
fn proxies_text(proxies: &[ProxyChange]) -> String {
    if proxies.is_empty() {
        return String::new();
    }
    let mut text = "\nProxies by email (PROCURATION):\n".to_string();
    for proxy in proxies {
        text.push_str(&format!("  {:<40} {}\n", proxy.intern, proxy_line(proxy)));
    }
    text
}

/// Where one intern's proxy stands, in words.
pub fn proxy_line(proxy: &ProxyChange) -> String {
    let mut parts = Vec::new();
    match (&proxy.active, proxy.accepted_at) {
        (Some(active), Some(at)) => parts.push(format!("proxy {active}, accepted {}", when(at))),
        (Some(active), None) => parts.push(format!("proxy {active}")),
        (None, _) if proxy.overridden => parts.push("no proxy (revoked by email)".to_string()),
        (None, _) => {}
    }
    if let Some(pending) = &proxy.pending {
        let since = proxy.requested_at.map(|at| format!(" since {}", when(at))).unwrap_or_default();
        parts.push(format!("asked {pending}{since}, waiting for ACCEPTE"));
    }
    parts.join("; ")
}

/// `audit`'s lines on the commands' state: the proxy and the notices.
pub fn commands_audit(proxy: Option<&ProxyChange>, notices: &NoticeState) -> String {
    let mut text = String::new();
    if let Some(proxy) = proxy {
        text.push_str(&format!("Proxy by email: {}\n", proxy_line(proxy)));
    }
    let last = notices.last_sent_at.map(|at| format!(", the last on {}", when(at))).unwrap_or_default();
    text.push_str(&format!(
        "Displacement notices: {}; {} sent{last}{}\n",
        if notices.muted { "turned off (NOTIFS NON)" } else { "on" },
        notices.sent,
        notices
            .pending_lost
            .as_ref()
            .map(|lost| format!("; one waiting (lost post {lost})"))
            .unwrap_or_default()
    ));
    text
}

/// The history of one intern, for `audit`.
pub fn audit(address: &Email, messages: &[AuditMessage], outbox: &[AuditOutbox]) -> String {
    let mut lines: Vec<(i64, String)> = Vec::new();
    for m in messages {
        // The server's reception time is what decided "on time"; the
        // recording time says when choixbot read it.
        let server =
            m.internal_date.map_or("server time unknown".to_string(), |at| format!("server {}", when(at)));
        lines.push((
            m.received_at,
            format!(
                "{}  received #{:<5} from {:<30} {:<10} {:<9} ({server}) {}",
                when(m.received_at),
                m.id,
                m.sender.as_deref().unwrap_or("?"),
                m.kind,
                m.verdict,
                m.reasons
            ),
        ));
    }
    for o in outbox {
        let answer = o.answers_message.map(|id| format!(" (answers #{id})")).unwrap_or_default();
        let error = o.last_error.as_deref().map(|e| format!(" — {e}")).unwrap_or_default();
        let at = o.sent_at.unwrap_or(o.created_at);
        lines.push((
            at,
            format!(
                "{}  sent     {:<12} to {} [{}]{answer}{error}",
                when(at),
                o.purpose,
                o.recipients,
                o.status
            ),
        ));
    }
    lines.sort_by_key(|(at, _)| *at);
    let mut text = format!(
        "Audit of {address}: {} message(s) received, {} sent or queued.\n",
        messages.len(),
        outbox.len()
    );
    for (_, line) in lines {
        text.push_str(&line);
        text.push('\n');
    }
    text.push_str("Dump a received message with: choixbot audit EMAIL --raw NUMBER\n");
    text
}

pub(super) fn when(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}
