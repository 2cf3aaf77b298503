//! The virtual amphi in the daemon (SPEC §11): the step that calls the
//! interns and ends the turns, and what an intern's reply does to their
//! turn. The rules are `crate::amphi`'s (pure); the rows `store::amphi`'s;
//! the wording `answer::replies::amphi`'s. This strings them together, in
//! the mailbox loop's task, so that a reply and the end of its turn are
//! never judged at the same time.
//!
//! A turn ends only once the mailbox has been read past its end
//! (`read_until`, from the mailbox loop): a reply the server received
//! before the end is always decided before the turn is closed as
//! unanswered, even after an outage or a restart. A turn's end is an
//! instant recorded at the call, so a restart resumes it with the time it
//! had left.

use chrono::{DateTime, Utc};
use sqlx::{Any, Transaction};
use tracing::info;

mod reply;

use super::Processor;
use crate::amphi::{How, Intent, Line, Outcome, Seats, Settled, Turn};
use crate::answer::{french, AmphiContext, AmphiKind, PostLine, WishLine};
use crate::domain::{ArsId, Email, Group, Intern};
use crate::settings::{AmphiSettings, WhenAbsent};
use crate::store::{self, amphi as rows, outbox::Queued};

/// How long after a turn's end the mailbox is read once more before the
/// turn is closed as unanswered: a reply the server stored just before the
/// end is visible to a search a moment later, and the server's clock may
/// be a little behind ours (as [`super::super::DRAIN_GRACE`] at the
/// deadline, shorter: a turn's end comes often).
pub const TURN_GRACE_MS: i64 = 2_000;

/// What a step of the amphi found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// When something will be due next (a turn's end, the start), if
    /// anything is waiting for a time rather than for a reply.
    pub next_at: Option<DateTime<Utc>>,
    /// Whether every group is done: the list may be made.
    pub finished: bool,
}

impl Processor {
    /// One step: ends the turns whose end the mailbox has been read past,
    /// calls whoever is next in each group (validating their favourite at
    /// once when it is obtainable), and tells those whose turn is near.
    /// One transaction. `None` when the session is no amphi.
    pub async fn amphi_step(&mut self, read_until: DateTime<Utc>) -> anyhow::Result<Option<Step>> {
        let Some(amphi) = self.settings.amphi().cloned() else { return Ok(None) };
        let now = self.store.clock().now();
        if now < amphi.start {
            return Ok(Some(Step { next_at: Some(amphi.start), finished: false }));
        }
        let mut tx = self.store.begin_write().await?;
        self.follow_imports(&mut tx).await?;
        if self.session_closed().await? {
            return Ok(Some(Step { next_at: None, finished: true }));
        }
        if rows::paused_since(&mut tx).await?.is_some() {
            return Ok(Some(Step { next_at: None, finished: false }));
        }
        // Each group's turns, read once: a group's step looks at its own.
        let mut by_group: std::collections::HashMap<Group, Vec<Turn>> = std::collections::HashMap::new();
        for turn in rows::turns(&mut tx).await? {
            by_group.entry(turn.group.clone()).or_default().push(turn);
        }
        let intents = rows::intents(&mut tx).await?;
        let warned = rows::warned(&mut tx).await?;
        let mut step = StepState {
            now_ms: now.timestamp_millis(),
            read_until_ms: read_until.timestamp_millis(),
            ..Default::default()
        };
        let groups: Vec<Group> = self.session.group_names().into_iter().cloned().collect();
        let mut finished = true;
        for group in &groups {
            let turns = by_group.entry(group.clone()).or_default();
            let done = self.step_group(&mut tx, &amphi, group, turns, &intents, &mut step).await?;
            finished &= done;
            self.warn_near(&mut tx, &amphi, group, turns, (&warned, &intents), &mut step).await?;
        }
        let count = step.queued.len();
        store::outbox::queue_all(&mut tx, &step.queued, step.now_ms).await?;
        self.store.commit(tx).await?;
        if count > 0 {
            self.outbox_wake.notify_one();
        }
        self.amphi_due = false;
        let next_at = step.next_at.and_then(DateTime::from_timestamp_millis);
        Ok(Some(Step { next_at, finished }))
    }

    /// Moves one group on as far as it goes now (`turns`: the group's);
    /// true when it is done.
    async fn step_group(
        &mut self,
        tx: &mut Transaction<'static, Any>,
        amphi: &AmphiSettings,
        group: &Group,
        turns: &mut Vec<Turn>,
        intents: &std::collections::HashMap<Email, Intent>,
        step: &mut StepState,
    ) -> anyhow::Result<bool> {
        loop {
            let group_turns = turns.clone();
            let members: Vec<&Intern> = self.session.members(group).iter().collect();
            let line = Line::new(members, &group_turns);
            if let Some(open) = line.open_turn() {
                if intents.get(&open.intern) == Some(&Intent::Skipped) {
                    let open = open.clone();
                    let skipped = Settled { at: step.now_ms, outcome: Outcome::Absent, how: How::Skipped };
                    self.settle(tx, &open, skipped, None, turns, step).await?;
                    continue;
                }
                if open.ends_at > step.read_until_ms {
                    step.due(open.ends_at + TURN_GRACE_MS);
                    return Ok(false);
                }
                let open = open.clone();
                let settled = self.end_unanswered(amphi, &open, &group_turns, step.now_ms);
                self.settle(tx, &open, settled, None, turns, step).await?;
                continue;
            }
            let Some(next) = line.next() else { return Ok(true) };
            let (intern, round) = (next.intern.clone(), next.round);
            self.call(tx, (amphi, intents), (&intern, round), &group_turns, turns, step).await?;
        }
    }

    /// Calls `intern` for `round`: settles the turn at once when they said
    /// ABSENT or PLUS TARD, were skipped, or have an obtainable favourite;
    /// else sends "C'est votre tour".
    async fn call(
        &mut self,
        tx: &mut Transaction<'static, Any>,
        (amphi, intents): (&AmphiSettings, &std::collections::HashMap<Email, Intent>),
        (intern, round): (&Intern, i64),
        group_turns: &[Turn],
        turns: &mut Vec<Turn>,
        step: &mut StepState,
    ) -> anyhow::Result<()> {
        let turn = Turn {
            intern: intern.email.clone(),
            group: intern.group.clone(),
            round,
            called_at: step.now_ms,
            ends_at: step.now_ms + amphi.turn_ms,
            settled: None,
        };
        rows::call(tx, &turn).await?;
        info!(intern = %intern.email, group = %intern.group, round, ends_at = turn.ends_at, "amphi: called");
        turns.push(turn.clone());
        // An intent is cleared once it settles a turn: one still here was
        // said for this call (a second PLUS TARD is refused when said).
        let said = intents.get(&intern.email).copied();
        if let Some(settled) = self.at_call(amphi, &turn, said, group_turns, step.now_ms) {
            return self.settle(tx, &turn, settled, None, turns, step).await;
        }
        let mut context = self.amphi_context(amphi, AmphiKind::Turn, intern);
        context.open_posts = open_posts(&self.seats(&intern.group, group_turns), intern);
        context.ends_at = Some(self.instant_words(turn.ends_at));
        context.again = round > 1;
        let seed = format!("turn|{}|{round}", intern.email);
        step.queued.extend(self.answers.amphi_message(
            &self.session,
            &intern.email,
            &seed,
            "C'est votre tour",
            |proxy| AmphiContext { proxy, ..context.clone() },
        )?);
        Ok(())
    }

    /// How a turn is settled the moment it is called, if it is: by what
    /// the intern `said` before it, or by an obtainable favourite.
    fn at_call(
        &self,
        amphi: &AmphiSettings,
        turn: &Turn,
        said: Option<Intent>,
        group_turns: &[Turn],
        now_ms: i64,
    ) -> Option<Settled> {
        let declared = |outcome, how| Some(Settled { at: now_ms, outcome, how });
        match said {
            Some(Intent::Later) => declared(Outcome::Later, How::Declared),
            Some(Intent::Skipped) => declared(Outcome::Absent, How::Skipped),
            // ABSENT: what an unanswered turn gives (the best obtainable
            // wish, with `when_absent = "wishes"`), else absent as said.
            Some(Intent::Absent) => {
                let mut settled = self.end_unanswered(amphi, turn, group_turns, now_ms);
                if settled.outcome == Outcome::Absent {
                    settled.how = How::Declared;
                }
                Some(settled)
            }
            None => {
                let intern = self.session.intern(&turn.intern)?;
                let (ars_id, status) = self.favourite(intern, &self.seats(&turn.group, group_turns))?;
                declared(Outcome::Chosen { ars_id, status }, How::Favourite)
            }
        }
    }

    /// What an unanswered turn gives (`amphi.when_absent`).
    fn end_unanswered(
        &self,
        amphi: &AmphiSettings,
        turn: &Turn,
        group_turns: &[Turn],
        now_ms: i64,
    ) -> Settled {
        let chosen = match amphi.when_absent {
            WhenAbsent::Absent => None,
            WhenAbsent::Wishes => self
                .session
                .intern(&turn.intern)
                .and_then(|intern| self.favourite(intern, &self.seats(&turn.group, group_turns))),
        };
        match chosen {
            Some((ars_id, status)) => {
                Settled { at: now_ms, outcome: Outcome::Chosen { ars_id, status }, how: How::WhenAbsent }
            }
            None => Settled { at: now_ms, outcome: Outcome::Absent, how: How::WhenAbsent },
        }
    }

    /// The first obtainable of `intern`'s wishes.
    fn favourite(&self, intern: &Intern, seats: &Seats<'_>) -> Option<(ArsId, crate::allocation::Status)> {
        let wishes = self.session.wishes.get(&intern.email)?;
        seats.first_obtainable(intern.choice_type, wishes)
    }

    /// The group's posts after the validations in `group_turns`.
    fn seats<'s>(&'s self, group: &Group, group_turns: &[Turn]) -> Seats<'s> {
        let (_, posts) = self.session.group(group);
        Seats::new(posts.iter().collect(), self.session.supernumerary_cap).with_turns(group_turns)
    }

    /// Records how `turn` ended, and queues what the intern is told.
    async fn settle(
        &mut self,
        tx: &mut Transaction<'static, Any>,
        turn: &Turn,
        settled: Settled,
        message_ref: Option<i64>,
        turns: &mut [Turn],
        step: &mut StepState,
    ) -> anyhow::Result<()> {
        if !rows::settle(tx, &turn.intern, turn.round, &settled, message_ref).await? {
            return Ok(()); // settled already: never twice
        }
        if matches!(settled.how, How::Declared | How::Skipped) {
            rows::clear_intent(tx, &turn.intern).await?;
        }
        info!(intern = %turn.intern, round = turn.round, outcome = settled.outcome.name(), how = settled.how.name(), "amphi: settled");
        if let Some(entry) = turns.iter_mut().find(|t| t.intern == turn.intern && t.round == turn.round) {
            entry.settled = Some(settled.clone());
        }
        let Some(amphi) = self.settings.amphi().cloned() else { return Ok(()) };
        let Some(intern) = self.session.intern(&turn.intern).cloned() else { return Ok(()) };
        let context = match (&settled.outcome, settled.how) {
            (Outcome::Chosen { ars_id, status }, how) => {
                let mut context = self.amphi_context(&amphi, AmphiKind::Validated, &intern);
                context.post = self.post_line(&intern, ars_id);
                context.surnombre = *status == crate::allocation::Status::Surnombre;
                context.how = Some(how.name());
                context
            }
            (Outcome::Absent, How::WhenAbsent | How::Skipped) => {
                let mut context = self.amphi_context(&amphi, AmphiKind::Absent, &intern);
                context.ends_at = Some(self.instant_words(turn.ends_at.min(settled.at)));
                context
            }
            // The intern said ABSENT or PLUS TARD, and was answered then.
            _ => return Ok(()),
        };
        let seed = format!("settled|{}|{}", turn.intern, turn.round);
        let subject =
            if context.kind == AmphiKind::Validated { "Choix validé" } else { "Fin de votre tour" };
        step.queued.extend(self.answers.amphi_message(
            &self.session,
            &turn.intern,
            &seed,
            subject,
            |proxy| AmphiContext { proxy, ..context.clone() },
        )?);
        Ok(())
    }

    /// Tells the interns whose turn is near (`amphi.notice_ahead` or fewer
    /// ahead of them), once per round. `turns`: the group's.
    async fn warn_near(
        &self,
        tx: &mut Transaction<'static, Any>,
        amphi: &AmphiSettings,
        group: &Group,
        turns: &[Turn],
        (warned, intents): (
            &std::collections::HashSet<(String, i64)>,
            &std::collections::HashMap<Email, Intent>,
        ),
        step: &mut StepState,
    ) -> anyhow::Result<()> {
        if amphi.notice_ahead == 0 {
            return Ok(());
        }
        let line = Line::new(self.session.members(group).iter().collect(), turns);
        let open_end = line.open_turn().map(|turn| turn.ends_at);
        let before = usize::from(open_end.is_some());
        for (index, waiting) in line.waiting().into_iter().enumerate() {
            let ahead = before + index;
            if ahead > amphi.notice_ahead as usize {
                break;
            }
            let intern = waiting.intern;
            // Not those who said they will not choose now (ABSENT, PLUS
            // TARD), nor those already told for this round.
            let said = intents.contains_key(&intern.email);
            if ahead == 0 || said || warned.contains(&(intern.email.as_str().to_string(), waiting.round)) {
                continue;
            }
            // At the latest: every turn ahead used to its end.
            let latest = open_end.unwrap_or(step.now_ms) + amphi.turn_ms * (ahead - before) as i64;
            let mut context = self.amphi_context(amphi, AmphiKind::Soon, intern);
            context.ahead = ahead;
            context.estimated_at = Some(self.instant_words(latest));
            let wishes = self.session.wishes.get(&intern.email).cloned().unwrap_or_default();
            context.wishes =
                WishLine::list(&wishes, group, &crate::answer::PostCatalog::new(&self.session.posts));
            let seed = format!("soon|{}|{}", intern.email, waiting.round);
            step.queued.extend(self.answers.amphi_message(
                &self.session,
                &intern.email,
                &seed,
                "Votre tour approche",
                |proxy| AmphiContext { proxy, ..context.clone() },
            )?);
            rows::set_warned(tx, &intern.email, waiting.round, step.now_ms).await?;
        }
        Ok(())
    }

    /// An empty context of `kind` for `intern`, with the session's facts.
    fn amphi_context(&self, amphi: &AmphiSettings, kind: AmphiKind, intern: &Intern) -> AmphiContext {
        let mut context = AmphiContext::new(kind, self.answers.facts().clone(), intern, false, amphi.turn_ms);
        context.start = french::deadline_in_words(amphi.start, self.settings.session.timezone);
        context.when_absent_wishes = amphi.when_absent == WhenAbsent::Wishes;
        context
    }

    fn post_line(&self, intern: &Intern, ars_id: &ArsId) -> Option<PostLine> {
        let (_, posts) = self.session.group(&intern.group);
        posts.iter().find(|p| &p.ars_id == ars_id).map(|post| PostLine::new(post, post.places))
    }

    fn instant_words(&self, ms: i64) -> String {
        french::ms_in_words(ms, self.settings.session.timezone)
    }
}

/// The posts `intern` can obtain now.
fn open_posts(seats: &Seats<'_>, intern: &Intern) -> Vec<PostLine> {
    seats.open_to(intern.choice_type).into_iter().map(|(post, left)| PostLine::new(post, left)).collect()
}

/// What one step carries from group to group.
#[derive(Default)]
struct StepState {
    /// The clock's reading at the step's start (ms).
    now_ms: i64,
    /// Every message received before this is recorded (ms).
    read_until_ms: i64,
    /// The earliest time something will be due (ms).
    next_at: Option<i64>,
    /// The messages queued by the step.
    queued: Vec<Queued>,
}

impl StepState {
    fn due(&mut self, at: i64) {
        self.next_at = Some(self.next_at.map_or(at, |next| next.min(at)));
    }
}
