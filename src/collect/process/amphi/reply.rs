//! What an intern's reply does to their turn in the amphi: before it, a
//! list is kept as favourites and `ABSENT` / `PLUS TARD` as their word;
//! during it, the first obtainable post of the list is validated, final,
//! or the list is refused with what is still open; after it, nothing
//! changes. Judged by `crate::amphi::judge_reply` on the turn read inside
//! the batch's transaction.

use chrono::{DateTime, Utc};
use sqlx::{Any, Transaction};
use tracing::info;

use super::super::Processor;
use super::open_posts;
use crate::amphi::{judge_reply, How, Intent, Line, Outcome, ReplyEffect, Settled, Standing};
use crate::answer::{AmphiContext, AmphiKind, PostLine, WishLine};
use crate::decide::{Action, Decision, Reason};
use crate::domain::{ArsId, Intern};
use crate::settings::AmphiSettings;
use crate::store::amphi as rows;

impl Processor {
    /// What an intern's reply does in the amphi, recorded in the batch's
    /// transaction; the context of the answer, or `None` when the reply
    /// is answered as in the deadline mode (a stranger, a command that is
    /// no amphi's, a rejection outside the intern's turn).
    pub(in crate::collect) async fn amphi_reply(
        &mut self,
        tx: &mut Transaction<'static, Any>,
        decision: &Decision,
        received: DateTime<Utc>,
        message_ref: i64,
        now_ms: i64,
    ) -> anyhow::Result<Option<AmphiContext>> {
        let Some(amphi) = self.settings.amphi().cloned() else { return Ok(None) };
        let (intern, wishes) = match decision {
            Decision::Confirmed { intern, wishes } => (intern, Some(wishes)),
            Decision::Command {
                intern,
                action: Action::Absent | Action::Later | Action::Status | Action::Posts,
            } => (intern, None),
            // Not one that must warn the owner of a reference used by someone
            // else: that warning is the deadline mode's.
            Decision::Rejected { intern: Some(intern), warn_owner: None, .. } => (intern, None),
            _ => return Ok(None),
        };
        let Some(profile) = self.session.intern(intern).cloned() else { return Ok(None) };
        let mine = rows::turns_of(tx, intern).await?;
        let standing = Standing::of(&mine);
        let group_turns = rows::turns_of_group(tx, &profile.group).await?;
        match decision {
            Decision::Rejected { reasons, .. } => {
                let Standing::Choosing { turn } = &standing else { return Ok(None) };
                let seats = self.seats(&profile.group, &group_turns);
                let mut context = self.amphi_context(&amphi, AmphiKind::Refused, &profile);
                context.reasons = reasons.iter().map(Reason::sentence).collect();
                context.open_posts = open_posts(&seats, &profile);
                context.ends_at = Some(self.instant_words(turn.ends_at));
                Ok(Some(context))
            }
            Decision::Command { action: Action::Status | Action::Posts, .. } => {
                let line = Line::new(self.session.members(&profile.group).iter().collect(), &group_turns);
                let seats = self.seats(&profile.group, &group_turns);
                let mut context = self.amphi_context(&amphi, AmphiKind::Standing, &profile);
                context.open_posts = open_posts(&seats, &profile);
                let wishes = self.session.wishes.get(intern).cloned().unwrap_or_default();
                let posts = self.session.posts.clone();
                context.wishes =
                    WishLine::list(&wishes, &profile.group, &crate::answer::PostCatalog::new(&posts));
                match &standing {
                    Standing::Choosing { turn } => context.ends_at = Some(self.instant_words(turn.ends_at)),
                    Standing::Settled { turn, again: false } => {
                        let outcome = turn.settled.as_ref().map(|s| &s.outcome);
                        if let Some(Outcome::Chosen { ars_id, status }) = outcome {
                            context.post = self.post_line(&profile, ars_id);
                            context.surnombre = *status == crate::allocation::Status::Surnombre;
                        }
                        context.how = Some("settled");
                    }
                    _ => {
                        let open = usize::from(line.open_turn().is_some());
                        let place = line.waiting().iter().position(|w| w.intern.email == *intern);
                        context.ahead = open + place.unwrap_or(0);
                        context.again = matches!(standing, Standing::Settled { again: true, .. });
                    }
                }
                Ok(Some(context))
            }
            Decision::Command { action, .. } => {
                let kind = self.amphi_intent(tx, &standing, &profile, action, message_ref, now_ms).await?;
                let mut context = self.amphi_context(&amphi, kind, &profile);
                if let Standing::Choosing { turn } = &standing {
                    context.ends_at = Some(self.instant_words(turn.ends_at));
                }
                self.settled_facts(&mut context, &standing, &profile);
                Ok(Some(context))
            }
            _ => {
                let wishes = wishes.expect("a confirmed decision has wishes");
                let seats = self.seats(&profile.group, &group_turns);
                let effect = judge_reply(&standing, received, wishes, |w| {
                    seats.first_obtainable(profile.choice_type, w)
                });
                let open = open_posts(&seats, &profile);
                self.amphi_wishes(
                    tx,
                    &amphi,
                    &profile,
                    wishes,
                    effect,
                    (&standing, open),
                    message_ref,
                    now_ms,
                )
                .await
            }
        }
    }

    /// A list of wishes, as `effect` says.
    #[allow(clippy::too_many_arguments)]
    async fn amphi_wishes(
        &mut self,
        tx: &mut Transaction<'static, Any>,
        amphi: &AmphiSettings,
        profile: &Intern,
        wishes: &[ArsId],
        effect: ReplyEffect,
        (standing, open): (&Standing, Vec<PostLine>),
        message_ref: i64,
        now_ms: i64,
    ) -> anyhow::Result<Option<AmphiContext>> {
        let intern = &profile.email;
        let posts = self.session.posts.clone();
        let catalog = crate::answer::PostCatalog::new(&posts);
        let mut context = match &effect {
            ReplyEffect::Favourites => {
                self.replace_wishes(intern, wishes, message_ref, now_ms);
                rows::clear_intent(tx, intern).await?;
                let mut context = self.amphi_context(amphi, AmphiKind::Favourites, profile);
                context.wishes = WishLine::list(wishes, &profile.group, &catalog);
                context
            }
            ReplyEffect::Validate { ars_id, status } => {
                let Standing::Choosing { turn } = standing else { unreachable!("validated during a turn") };
                self.replace_wishes(intern, wishes, message_ref, now_ms);
                let settled = Settled {
                    at: now_ms,
                    outcome: Outcome::Chosen { ars_id: ars_id.clone(), status: *status },
                    how: How::Reply,
                };
                if !rows::settle(tx, intern, turn.round, &settled, Some(message_ref)).await? {
                    anyhow::bail!("the turn of {intern} was settled meanwhile");
                }
                info!(intern = %intern, round = turn.round, ars_id = %ars_id, "amphi: settled by a reply");
                self.amphi_due = true;
                let mut context = self.amphi_context(amphi, AmphiKind::Validated, profile);
                context.post = self.post_line(profile, ars_id);
                context.surnombre = *status == crate::allocation::Status::Surnombre;
                context.how = Some(How::Reply.name());
                context
            }
            ReplyEffect::NoneOpen => {
                let Standing::Choosing { turn } = standing else { unreachable!("refused during a turn") };
                let mut context = self.amphi_context(amphi, AmphiKind::Refused, profile);
                context.wishes = WishLine::list(wishes, &profile.group, &catalog);
                context.reasons = wishes
                    .iter()
                    .map(|wish| {
                        format!("Le poste n° {wish} n'est plus ouvert à votre choix (places prises).")
                    })
                    .collect();
                context.open_posts = open;
                context.ends_at = Some(self.instant_words(turn.ends_at));
                context
            }
            ReplyEffect::AfterTurn { ended_at } => {
                let mut context = self.amphi_context(amphi, AmphiKind::AfterTurn, profile);
                context.ends_at = Some(self.instant_words(*ended_at));
                context
            }
            ReplyEffect::AlreadySettled { .. } => self.amphi_context(amphi, AmphiKind::Settled, profile),
        };
        self.settled_facts(&mut context, standing, profile);
        Ok(Some(context))
    }

    /// `ABSENT` or `PLUS TARD`, recorded as the intern's intent before their
    /// turn, or, during it, settling it; what the answer is.
    async fn amphi_intent(
        &mut self,
        tx: &mut Transaction<'static, Any>,
        standing: &Standing,
        profile: &Intern,
        action: &Action,
        message_ref: i64,
        now_ms: i64,
    ) -> anyhow::Result<AmphiKind> {
        let intern = &profile.email;
        let intent = if *action == Action::Later { Intent::Later } else { Intent::Absent };
        match standing {
            Standing::Waiting => {
                rows::set_intent(tx, intern, intent, now_ms, Some(message_ref)).await?;
                self.amphi_due = true;
                Ok(if intent == Intent::Later { AmphiKind::Later } else { AmphiKind::DeclaredAbsent })
            }
            Standing::Choosing { turn } if intent == Intent::Later && turn.round > 1 => {
                Ok(AmphiKind::LaterRefused)
            }
            Standing::Choosing { turn } => {
                let outcome = if intent == Intent::Later { Outcome::Later } else { Outcome::Absent };
                let settled = Settled { at: now_ms, outcome, how: How::Declared };
                if !rows::settle(tx, intern, turn.round, &settled, Some(message_ref)).await? {
                    anyhow::bail!("the turn of {intern} was settled meanwhile");
                }
                self.amphi_due = true;
                Ok(if intent == Intent::Later { AmphiKind::Later } else { AmphiKind::DeclaredAbsent })
            }
            Standing::Settled { again: true, .. } if intent == Intent::Later => Ok(AmphiKind::LaterRefused),
            Standing::Settled { again: true, .. } => {
                rows::set_intent(tx, intern, intent, now_ms, Some(message_ref)).await?;
                Ok(AmphiKind::DeclaredAbsent)
            }
            Standing::Settled { .. } => Ok(AmphiKind::Settled),
        }
    }

    /// For the `settled` answer: the post the intern's turn gave.
    fn settled_facts(&self, context: &mut AmphiContext, standing: &Standing, profile: &Intern) {
        if context.kind != AmphiKind::Settled {
            return;
        }
        if let Standing::Settled { turn, .. } = standing {
            if let Some(Outcome::Chosen { ars_id, status }) = turn.settled.as_ref().map(|s| &s.outcome) {
                context.post = self.post_line(profile, ars_id);
                context.surnombre = *status == crate::allocation::Status::Surnombre;
            }
        }
    }
}
