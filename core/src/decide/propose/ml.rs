//! The learned (ML) tier's proposal: where the queue's rollout lets the model decide this
//! episode (and the class learns), the wait with the lowest renewal cost under the model's
//! P(success | context, wait), explained by the three features that moved it most. On any
//! model failure (no model, a probability that is not a number) it proposes nothing, counts a
//! fallback and emits an event, and the chain goes on: Bayesian, heuristic, static.

use super::Proposal;
use crate::decide::{Context, Mode};
use crate::engine::Engine;
use crate::episode::EpisodeView;
use crate::learn::model::RetryTiming;
use crate::learned::choose::choose;
use crate::learned::{EpisodeArm, RolloutMode};
use crate::recommendation::{Reason, Tier};
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Features named in a learned decision's reason.
const TOP_FEATURES: usize = 3;

impl Engine {
    /// The learned tier's proposal, or None when it does not decide this episode.
    pub(super) fn propose_ml(
        &self,
        cx: &Context<'_>,
        ep: &mut EpisodeView<'_>,
    ) -> Option<Proposal> {
        // The model is a learned tier like the plan: it decides only where learning is on and
        // the class learns. Conflicts do not: their outcome depends on the crowd's timing, which
        // the shadow's counterfactual pricing takes as fixed (it would promote a model on
        // evidence that does not hold), and their pacing is the class schedule's.
        if !self.inner.learned.is_active() || !cx.learning() {
            return None;
        }
        let q = self.inner.learned.queue(&ep.id.key)?;
        let state = {
            let s = q.lock();
            if s.mode == RolloutMode::Off {
                return None;
            }
            s.clone()
        };
        let live = cx.mode == Mode::Live;
        if self.learned_arm(ep, state.mode, state.config.full_holdout, live) != EpisodeArm::Learned
        {
            return None;
        }
        let Some(model) = state.model.as_deref() else {
            if live {
                self.learned_fallback(&ep.id.key, "no model loaded");
            }
            return None;
        };
        let now = cx.now.as_secs_f64();
        let elapsed = cx.elapsed.as_secs_f64();
        let x = Engine::learned_input(ep.id, ep, &state, elapsed, now, 0.0);
        let limit = cx
            .deadline
            .map_or(cx.policy.horizon_secs(), |d| d.as_secs_f64());
        let choice = choose(model, &x, cx.failure_cost(), (limit - elapsed).max(0.0));
        if !(choice.p.is_finite() && choice.delay.is_finite()) {
            if live {
                self.learned_fallback(&ep.id.key, "the model's estimate is not a number");
            }
            return None;
        }
        if live {
            self.inner.learned.decisions.fetch_add(1, Ordering::Relaxed);
        }
        let at =
            Engine::learned_input(ep.id, ep, &state, elapsed + choice.delay, now, choice.delay);
        let top = model.top_effects(
            &crate::learned::FeatureInput {
                delay: choice.delay,
                ..at
            },
            TOP_FEATURES,
        );
        let delay = Duration::from_secs_f64(choice.delay);
        ep.timing = RetryTiming::Informed;
        Some(Proposal {
            delay: Some(delay),
            tier: Tier::Learned,
            reason: Reason::Model { p: choice.p, top },
            success_probability: Some(choice.p),
            confidence: None,
            alternatives: crate::alternatives::Alternatives::none(),
            nominal: Some(delay),
        })
    }
}
