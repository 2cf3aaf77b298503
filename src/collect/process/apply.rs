//! Recording what a decision changes, in the batch's transaction, and
//! keeping the session in memory in step: the wishes (and who they
//! displaced), a bounce, and what a command changes (SPEC §11).

use sqlx::{Any, Transaction};

use super::Processor;
use crate::answer::replies::Applied;
use crate::decide::{Action, Decision};
use crate::domain::{Email, Token};
use crate::reply::ParsedReply;
use crate::store::{self, notices, proxies, PendingProxy};

impl Processor {
    /// Stores what the decision changes.
    pub(super) async fn apply(
        &mut self,
        tx: &mut Transaction<'static, Any>,
        decision: &Decision,
        message_ref: i64,
        parsed: &ParsedReply,
        now_ms: i64,
    ) -> anyhow::Result<Applied> {
        match decision {
            Decision::Confirmed { intern, wishes } => {
                self.replace_wishes(intern, wishes, message_ref, now_ms);
            }
            Decision::Command { intern, action } => {
                return self.command(tx, intern, action, message_ref, now_ms).await
            }
            Decision::Bounce { intern: Some(intern) } => {
                let detail = format!(
                    "bounce from {}: {}",
                    parsed.sender.as_ref().map_or("?", |s| s.as_str()),
                    parsed.subject
                );
                store::record_bounce(tx, intern.as_str(), message_ref, &detail, now_ms).await?;
            }
            _ => {}
        }
        Ok(Applied::default())
    }

    async fn command(
        &mut self,
        tx: &mut Transaction<'static, Any>,
        intern: &Email,
        action: &Action,
        message_ref: i64,
        now_ms: i64,
    ) -> anyhow::Result<Applied> {
        // A command writes straight to the database, some of it to tables
        // the batch's rows go to (`NOTIFS`): what the replies before it
        // changed is written first, so the writes keep their order.
        self.rows.flush(tx).await?;
        let mut applied = Applied::default();
        match action {
            Action::Status | Action::Posts | Action::Help => {}
            Action::Cancel => {
                applied.withdrawn = self.session.wishes.get(intern).cloned().unwrap_or_default();
                self.replace_wishes(intern, &[], message_ref, now_ms);
            }
            Action::Notices(on) => {
                notices::set_muted(tx, intern, !on).await?;
                self.session.set_muted(intern, !on);
            }
            Action::RequestProxy(proxy) => {
                let token = Token::generate();
                proxies::request(tx, intern, proxy, &token, now_ms).await?;
                self.session.request_proxy(PendingProxy {
                    intern: intern.clone(),
                    proxy: proxy.clone(),
                    token: token.clone(),
                    requested_at: now_ms,
                });
                applied.proxy_token = Some(token);
            }
            Action::RevokeProxy { .. } => {
                proxies::revoke(tx, intern, now_ms).await?;
                self.session.set_proxy(intern, None);
            }
            // Recorded by the amphi (`collect::amphi`), which words them too.
            Action::Absent | Action::Later => {}
            Action::AcceptProxy { proxy, .. } => {
                proxies::accept(tx, intern, proxy, now_ms).await?;
                self.session.set_proxy(intern, Some(proxy.clone()));
            }
        }
        Ok(applied)
    }

    /// Replaces `intern`'s wishes (none: `ANNULER`), and records a notice
    /// for each other intern who lost their provisional post because of
    /// it, until the deadline. Any notice pending for `intern` is dropped:
    /// their answer gives their provisional result. Written with the
    /// batch's other rows ([`store::BatchRows`]).
    pub(super) fn replace_wishes(
        &mut self,
        intern: &Email,
        wishes: &[crate::domain::ArsId],
        message_ref: i64,
        now_ms: i64,
    ) {
        self.rows.set_wishes(intern, wishes, message_ref, now_ms);
        let displaced = self.session.set_wishes(intern, wishes.to_vec());
        self.rows.forget_notice(intern);
        // In the amphi there is no provisional result to lose: a turn
        // validates for good.
        if now_ms < self.deadline.timestamp_millis() && self.settings.amphi().is_none() {
            for displaced in displaced {
                self.rows.displaced(&displaced.intern, &displaced.lost, now_ms);
            }
        }
    }
}
