//! Inviting the interns (SPEC §3 step 2): one personal email per intern, and
//! one to their proxy if they have one, with the personal reference in the
//! Reply-To (`choix+TOKEN@…`) and in the subject.
//!
//! Invitations go through the outbox like every other message. Their
//! Message-IDs are derived from the session, the intern and the recipient,
//! so `invite` can be run again after an interruption, or after adding
//! interns to the call list: what was queued before is not queued again,
//! and what was sent is not sent again.

use std::path::Path;

use crate::answer::{subject, InvitationContext, Outgoing, PostCatalog, Purpose, SessionFacts, Templates};
use crate::domain::{Email, Post};
use crate::settings::Settings;
use crate::store::{self, outbox::Queued, Store, StoredIntern};

/// Every invitation of the session, composed.
pub fn compose_all(
    settings: &Settings,
    templates: &Templates,
    interns: &[StoredIntern],
    posts: &[Post],
) -> anyhow::Result<Vec<Queued>> {
    let facts = SessionFacts::from_settings(settings);
    let catalog = PostCatalog::new(posts);
    let mut messages = Vec::new();
    for stored in interns {
        let intern = &stored.intern;
        for (address, proxy) in intern.registered_addresses() {
            let invitation = Invitation { stored, address, proxy, again: None };
            messages.push(compose(settings, templates, &facts, &catalog, invitation)?);
        }
    }
    Ok(messages)
}

/// The invitations of one intern (and of their proxy). `again` makes them
/// new messages, with their own Message-IDs, when an invitation is sent a
/// second time (`None` for the first, which `invite` may queue again
/// without sending it twice).
pub fn compose_for(
    settings: &Settings,
    templates: &Templates,
    stored: &StoredIntern,
    posts: &[Post],
    again: Option<&str>,
) -> anyhow::Result<Vec<Queued>> {
    let facts = SessionFacts::from_settings(settings);
    let catalog = PostCatalog::new(posts);
    stored
        .intern
        .registered_addresses()
        .map(|(address, proxy)| {
            let invitation = Invitation { stored, address, proxy, again };
            compose(settings, templates, &facts, &catalog, invitation)
        })
        .collect()
}

/// One invitation to word.
struct Invitation<'a> {
    /// Whose.
    stored: &'a StoredIntern,
    /// To which of their addresses.
    address: &'a Email,
    /// Whether that address is their proxy's.
    proxy: bool,
    /// What makes a second sending a new message.
    again: Option<&'a str>,
}

fn compose(
    settings: &Settings,
    templates: &Templates,
    facts: &SessionFacts,
    posts: &PostCatalog<'_>,
    invitation: Invitation<'_>,
) -> anyhow::Result<Queued> {
    let Invitation { stored, address, proxy, again } = invitation;
    let intern = &stored.intern;
    let reply_to = settings.mail.reply_to_for(&stored.token);
    let context =
        InvitationContext::new(facts.clone(), intern, proxy, posts, stored.token.as_str(), &reply_to);
    let rendered = templates.invitation(&context)?;
    let mut seed = format!("{}|{}|{}", settings.session.name, intern.email, address);
    if let Some(again) = again {
        seed.push_str(&format!("|{again}"));
    }
    let subject = subject::invitation(&settings.session.name, stored.token.as_str());
    let mut outgoing = Outgoing::new(Purpose::Invitation, &seed, &settings.mail, subject, rendered.text)?;
    outgoing.html = rendered.html;
    outgoing.to = vec![address.clone()];
    outgoing.reply_to = Some(reply_to);
    crate::outbox::queued(&outgoing, Some(&intern.email), None, &settings.mail)
}

/// Queues every invitation not queued yet; returns (newly queued, total).
pub async fn queue_all(store: &Store, messages: &[Queued]) -> anyhow::Result<(usize, usize)> {
    let mut tx = store.begin_write().await?;
    let mut queued = 0;
    for message in messages {
        queued += usize::from(store::outbox::queue(&mut tx, message, store.now_ms()).await?);
    }
    store.commit(tx).await?;
    Ok((queued, messages.len()))
}

/// `invite --dry-run`: writes each invitation as an .eml file for review.
pub fn write_dry_run(dir: &Path, messages: &[Queued]) -> anyhow::Result<()> {
    crate::private::create_dir_all(dir)?;
    for (index, message) in messages.iter().enumerate() {
        let recipient = message.recipients.first().map(String::as_str).unwrap_or("unknown");
        let name = format!("{:04}-{}.eml", index + 1, recipient.replace(['/', '\\'], "_"));
        let path = dir.join(name);
        crate::private::write(&path, &message.raw)?;
    }
    Ok(())
}
