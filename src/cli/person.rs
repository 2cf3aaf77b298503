//! `choixbot export-person EMAIL`: everything held about one person, as one
//! JSON object, to answer an access request (RGPD art. 15; art. 20 asks for
//! a "structured, commonly used, machine-readable" format): who they are on
//! the call list, every message from or for them with its date, decision
//! and text, their wishes as recorded over time, their result, the
//! proxies designated by email that name them, and their displacement
//! notices.

use serde_json::{json, Value};

use super::snapshot::Snapshot;
use crate::domain::{Email, Intern};
use crate::store::outbox::AuditOutbox;
use crate::store::person::WishRow;
use crate::store::{AuditMessage, ProxyChange, Store};
use crate::{Error, Result};

/// The JSON object for `address`; bad input when the session knows
/// nothing of it.
pub async fn export(store: &Store, snapshot: &Snapshot, address: &Email) -> Result<Value> {
    let intern = snapshot.interns.iter().find(|i| &i.email == address);
    let proxy_for: Vec<&Intern> =
        snapshot.interns.iter().filter(|i| i.proxy_email.as_ref() == Some(address)).collect();
    let received = store.received_about(address.as_str()).await?;
    let sent = store.sent_about(address.as_str()).await?;
    let by_email: Vec<ProxyChange> =
        store.proxy_changes().await?.into_iter().filter(|p| concerns(p, address)).collect();
    if intern.is_none()
        && proxy_for.is_empty()
        && by_email.is_empty()
        && received.is_empty()
        && sent.is_empty()
    {
        return Err(Error::bad_input(format!(
            "nothing is held about {address}: not on the call list, no proxy, no message from or for it"
        )));
    }
    let history = match intern {
        Some(intern) => store.wish_history_of(intern.email.as_str()).await?,
        None => Vec::new(),
    };
    let notices = match intern {
        Some(intern) => Some(store.notice_state(&intern.email).await?),
        None => None,
    };
    let closed = store.state(crate::close::CLOSED_AT).await?.is_some();
    let mut messages: Vec<(i64, Value)> =
        received.iter().map(|(m, raw)| (m.received_at, received_json(m, raw))).collect();
    messages.extend(sent.iter().map(|(m, raw)| (m.sent_at.unwrap_or(m.created_at), sent_json(m, raw))));
    messages.sort_by_key(|(at, _)| *at);
    Ok(json!({
        "email": address,
        "intern": intern.map(intern_json),
        "proxy_for": proxy_for.into_iter().map(intern_json).collect::<Vec<_>>(),
        "wishes": intern.and_then(|i| snapshot.wishes.get(&i.email)).cloned().unwrap_or_default(),
        "wish_history": history.iter().map(wish_json).collect::<Vec<_>>(),
        "result": intern.and_then(|i| result_json(snapshot, i, closed)),
        "proxies_by_email": by_email.iter().map(proxy_json).collect::<Vec<_>>(),
        "notices": notices.map(|n| json!({
            "muted": n.muted,
            "sent": n.sent,
            "last_sent_at": n.last_sent_at.and_then(instant),
            "pending_lost_ars_id": n.pending_lost,
        })),
        "messages": messages.into_iter().map(|(_, m)| m).collect::<Vec<_>>(),
        "exported_at": store.clock().now().to_rfc3339(),
    }))
}

fn intern_json(intern: &Intern) -> Value {
    json!({
        "email": intern.email,
        "last_name": intern.last_name,
        "first_name": intern.first_name,
        "group": intern.group,
        "rank": intern.rank.get(),
        "choice_type": intern.choice_type.label(),
        "proxy_email": intern.proxy_email,
    })
}

/// Whether the proxy change `p` names `address`: as the intern, their
/// proxy, or the address they asked.
fn concerns(p: &ProxyChange, address: &Email) -> bool {
    let address = address.as_str();
    p.intern == address || p.active.as_deref() == Some(address) || p.pending.as_deref() == Some(address)
}

fn proxy_json(p: &ProxyChange) -> Value {
    json!({
        "intern": p.intern,
        "proxy": p.active,
        "accepted_at": p.accepted_at.and_then(instant),
        "asked": p.pending,
        "asked_at": p.requested_at.and_then(instant),
        "replaces_call_list": p.overridden,
    })
}

fn result_json(snapshot: &Snapshot, intern: &Intern, closed: bool) -> Option<Value> {
    let assignment = snapshot.allocation.assignments.iter().find(|a| a.email == intern.email)?;
    Some(json!({ "status": assignment.status, "ars_id": assignment.ars_id, "final": closed }))
}

fn wish_json(row: &WishRow) -> Value {
    let ars_ids: Vec<&str> = row.ars_ids.split_whitespace().collect();
    json!({ "ars_ids": ars_ids, "source": row.source, "recorded_at": instant(row.recorded_at) })
}

fn received_json(m: &AuditMessage, raw: &[u8]) -> Value {
    let (subject, text) = subject_and_text(raw);
    json!({
        "direction": "received",
        "id": m.id,
        "received_at": m.internal_date.map(instant),
        "recorded_at": instant(m.received_at),
        "sender": m.sender,
        "kind": m.kind,
        "decision": m.verdict,
        "reasons": serde_json::from_str::<Value>(&m.reasons).unwrap_or(Value::String(m.reasons.clone())),
        "subject": subject,
        "text": text,
        "purged": raw.is_empty(),
    })
}

fn sent_json(m: &AuditOutbox, raw: &[u8]) -> Value {
    let (subject, text) = subject_and_text(raw);
    json!({
        "direction": "sent",
        "id": m.id,
        "queued_at": instant(m.created_at),
        "sent_at": m.sent_at.map(instant),
        "purpose": m.purpose,
        "status": m.status,
        "recipients": m.recipients.split_whitespace().collect::<Vec<_>>(),
        "subject": subject,
        "text": text,
        "purged": raw.is_empty(),
    })
}

/// The subject and the plain text of a stored message; both null once the
/// retention deleted its bytes.
fn subject_and_text(raw: &[u8]) -> (Option<String>, Option<String>) {
    if raw.is_empty() {
        return (None, None);
    }
    let Some(message) = mail_parser::MessageParser::default().parse(raw) else {
        return (None, Some(String::from_utf8_lossy(raw).into_owned()));
    };
    (message.subject().map(str::to_string), message.body_text(0).map(|t| t.into_owned()))
}

fn instant(ms: i64) -> Option<String> {
    chrono::DateTime::from_timestamp_millis(ms).map(|at| at.to_rfc3339())
}
