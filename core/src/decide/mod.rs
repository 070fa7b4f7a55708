//! Deciding what to do after a failed attempt, as a pipeline:
//!
//! 1. the class's disposition (permanent errors and escalations stop here) and the attempt cap;
//! 2. `propose`: the first tier that may decide proposes a delay with its own estimates
//!    (operator override, Retry-After, learned plan, portfolio, heuristic);
//! 3. `guardrails`: every clamp, in order, each reporting what it changed or stopping;
//! 4. `finish`: in live mode only, the side effects (counters, events, ending the episode).
//!
//! Everything before `finish` is a calculation: a dry run (preview, recommend) goes through the
//! same steps and changes nothing but its own copy of the episode.

mod finish;
mod guardrails;
mod propose;

use crate::class::{Disposition, ErrorClass};
use crate::classify::{Classifier, Matched};
use crate::engine::Engine;
use crate::episode::EpisodeView;
use crate::failure::Failure;
use crate::policy::{ClassPolicy, Policy};
use crate::recommendation::{Action, Guardrail, Reason, Recommendation, Tier};
use crate::settings::Settings;
use std::borrow::Cow;
use std::time::Duration;

/// Live decisions change state (budgets, probes, models); previews and dry runs change nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Live,
    Dry,
}

/// What every step of one decision reads.
pub(crate) struct Context<'a> {
    pub policy: &'a Policy,
    /// The classifier of the same policy (names the rule behind a stop).
    pub classifier: &'a Classifier,
    /// The deadline in force: the episode's own (a call's timeout), else the policy's.
    pub deadline: Option<Duration>,
    /// The class policy in force (overrides and the episode's attempt cap applied): borrowed
    /// from the policy unless one of those changed it.
    pub cp: Cow<'a, ClassPolicy>,
    /// An operator's fixed delay for this queue/tenant/class, if any.
    pub fixed: Option<Duration>,
    pub class: ErrorClass,
    pub failure: &'a Failure,
    pub now: Duration,
    /// Time since the episode's first failure.
    pub elapsed: Duration,
    pub mode: Mode,
    /// The key's contention pace, a factor on the class schedule (see `contention`), when it
    /// applies: a conflict, with learning on.
    pub pace: Option<f64>,
}

impl Engine {
    /// What every step of a decision on `ep` for a failure of `class` at `now` reads.
    pub(crate) fn context<'a>(
        &self,
        settings: &'a Settings,
        ep: &EpisodeView<'_>,
        class: ErrorClass,
        failure: &'a Failure,
        now: Duration,
        mode: Mode,
    ) -> Context<'a> {
        let policy = &*settings.policy;
        let (mut cp, fixed) = self.class_policy(settings.class(class), ep.id, class);
        if let Some(max) = ep.id.limits.max_attempts {
            cp.to_mut().max_attempts = max;
        }
        Context {
            policy,
            classifier: &settings.classifier,
            deadline: ep.id.limits.deadline.or(policy.deadline),
            cp,
            fixed,
            class,
            failure,
            now,
            elapsed: now.saturating_sub(ep.origin.unwrap_or(now)),
            mode,
            pace: (class == ErrorClass::Conflict && policy.learning.enabled)
                .then(|| self.pace_factor(&ep.id.key)),
        }
    }

    pub(crate) fn decide(
        &self,
        settings: &Settings,
        ep: &mut EpisodeView<'_>,
        failure: &Failure,
        classification: &Matched,
        now: Duration,
        mode: Mode,
    ) -> Recommendation {
        let class = classification.class;
        let cx = self.context(settings, ep, class, failure, now, mode);
        let mut rec = Recommendation {
            action: Action::Retry,
            delay: Duration::ZERO,
            class,
            tier: Tier::Heuristic,
            success_probability: None,
            confidence: None,
            reason: Reason::Heuristic {
                class,
                strategy: cx.cp.strategy.name(),
                retry: ep.failures,
            },
            clamps: Vec::new(),
            alternatives: crate::alternatives::Alternatives::none(),
            attempt: ep.attempts,
            elapsed: cx.elapsed,
        };
        let (action, guardrail_stop) = self.settle(&cx, ep, classification, &mut rec);
        self.finish(settings, ep, &mut rec, action, mode, guardrail_stop);
        rec
    }

    /// Fill in `rec` for the decision: the action, and whether a guardrail or the plan stopped
    /// an episode that might have recovered.
    fn settle(
        &self,
        cx: &Context<'_>,
        ep: &mut EpisodeView<'_>,
        classification: &Matched,
        rec: &mut Recommendation,
    ) -> (Action, bool) {
        let class = cx.class;
        if cx.cp.disposition != Disposition::Retry {
            let rule = cx.classifier.rule_name(*classification).to_string();
            let (action, reason) = match cx.cp.disposition {
                Disposition::Escalate => (Action::Escalate, Reason::NeedsHuman { rule }),
                _ => (Action::GiveUp, Reason::Permanent { class, rule }),
            };
            rec.reason = reason;
            return (action, false);
        }
        if ep.attempts >= cx.cp.max_attempts {
            rec.tier = Tier::Guardrail;
            rec.reason = Reason::MaxAttempts {
                attempts: ep.attempts,
                max: cx.cp.max_attempts,
            };
            return (Action::GiveUp, true);
        }
        let proposal = self.propose(cx, ep);
        rec.tier = proposal.tier;
        rec.reason = proposal.reason;
        rec.success_probability = proposal.success_probability;
        rec.confidence = proposal.confidence;
        rec.alternatives = proposal.alternatives;
        let Some(proposed) = proposal.delay else {
            return (Action::GiveUp, true);
        };
        match self.apply_guardrails(cx, ep, proposed, rec) {
            Some(delay) => {
                rec.delay = delay;
                // Estimates are made for the proposed delay; a guardrail that moved it needs new
                // ones, except where the server set the wait: that is not an estimate of ours.
                if rec
                    .clamps
                    .iter()
                    .any(|c| c.guardrail == Guardrail::RetryAfter)
                {
                    (rec.success_probability, rec.confidence) = (None, None);
                } else if rec.clamps.iter().any(|c| c.to != c.from) {
                    (rec.success_probability, rec.confidence) = self.estimate(cx, ep, delay);
                }
                if cx.mode == Mode::Live {
                    ep.last_delay = delay;
                }
                (Action::Retry, false)
            }
            None => (Action::GiveUp, true),
        }
    }
}
