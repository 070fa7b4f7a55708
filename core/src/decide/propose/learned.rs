//! The learned plan: the survival model's dynamic programme says in which bucket of time since the
//! failure began the next attempt should go; the attempt lands at a random point inside it. A
//! small share of decisions probes a little earlier, so the model can learn that recovery comes
//! sooner than it believes (a success only says "recovered by then"). Where one attempt per
//! bucket is too coarse, the plan polls instead: attempts at a spacing it chose, jittered.

use super::{unit, Proposal};
use crate::alternatives::Alternatives;
use crate::decide::{Context, Mode};
use crate::engine::Engine;
use crate::episode::EpisodeView;
use crate::learn::grid::bucket_of;
use crate::learn::model::RetryTiming;
use crate::learn::planner::{jittered, mid, Plan, Step};
use crate::plans::PlanPrior;
use crate::recommendation::{Reason, Tier};
use rand::Rng;
use std::sync::Arc;
use std::time::Duration;

impl Engine {
    /// The plan's proposal, or the class schedule's while the model's first plan is being built.
    pub(super) fn propose_learned(&self, cx: &Context<'_>, ep: &mut EpisodeView<'_>) -> Proposal {
        let (Some(models), Some(_)) = (ep.id.models.as_ref(), ep.class) else {
            return super::heuristic::propose(cx, ep);
        };
        let episodes = models.primary.model.lock().episodes();
        let (cost, horizon) = (cx.failure_cost(), cx.policy.horizon_secs());
        self.with_plan(&models.primary, cost, horizon, |plan, prior| {
            from_plan(cx, ep, plan, prior, episodes)
        })
        .unwrap_or_else(|| super::heuristic::propose(cx, ep))
    }
}

/// Where the plan puts the next attempt, jittered inside its bucket (or earlier, exploring).
fn from_plan(
    cx: &Context<'_>,
    ep: &mut EpisodeView<'_>,
    plan: &Arc<Plan>,
    prior: &PlanPrior<'_>,
    episodes: f64,
) -> Proposal {
    let t = cx.elapsed.as_secs_f64();
    let from = bucket_of(t);
    let retries_left = cx.cp.max_attempts.saturating_sub(ep.attempts).max(1);
    let Some(step) = plan.next_step(t, retries_left) else {
        return Proposal {
            delay: None,
            tier: Tier::Bayesian,
            reason: Reason::PlanStops { episodes },
            success_probability: None,
            confidence: None,
            alternatives: Alternatives::none(),
            nominal: None,
        };
    };
    let (at, quoted, k, exploring, poll_every) = match step {
        Step::Bucket(mut k) => {
            let exploring = cx.mode == Mode::Live
                && k > from + 1
                && ep.rng.random::<f64>() < cx.policy.learning.exploration;
            if exploring {
                // One to four grid steps: up to half the planned wait.
                k = k
                    .saturating_sub(ep.rng.random_range(1..=4usize))
                    .max(from + 1);
            }
            // Quoted for the planned step (its bucket's middle, as the planner prices it), not
            // for the jittered point, so retries of the same plan agree.
            let at = jittered(k, unit(ep)).max(t);
            (at, mid(k).max(t), k, exploring, None)
        }
        // Polling: between half and one and a half spacings, quoted for one spacing.
        Step::Poll { every } => {
            let at = t + every * (0.5 + unit(ep));
            let spacing = Duration::from_secs_f64(every.max(0.0));
            (at, t + every, from + 1, false, Some(spacing))
        }
    };
    if poll_every.is_some() {
        ep.timing = RetryTiming::Poll;
    }
    let probability = plan.success_probability(t, quoted);
    let alternatives = Alternatives::around(plan, t, from, k);
    let confidence = prior.confidence(plan, from, k + 1);
    Proposal {
        delay: Some(Duration::from_secs_f64((at - t).max(0.0))),
        tier: Tier::Bayesian,
        reason: Reason::Learned {
            at: Duration::from_secs_f64(at),
            episodes,
            exploring,
            poll_every,
        },
        success_probability: Some(probability),
        confidence: Some(confidence),
        alternatives,
        nominal: Some(Duration::from_secs_f64(quoted - t)),
    }
}
