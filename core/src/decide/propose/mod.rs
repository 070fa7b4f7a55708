//! The tiers that may propose a delay, highest first: an operator's fixed delay, the server's
//! Retry-After, then (when learning) the learned plan or the portfolio's choice of the class
//! schedule, and the heuristic class schedule underneath them all. Each returns its own
//! estimates and alternatives; none applies a guardrail.

mod explain;
mod heuristic;
mod learned;
mod ml;
mod operator;
mod portfolio;
mod retry_after;

use super::Context;
use crate::alternatives::Alternatives;
use crate::engine::Engine;
use crate::episode::EpisodeView;
use crate::learn::portfolio::Arm;
use crate::observe::Counter;
use crate::recommendation::{Reason, Tier};
use rand::Rng;
use std::time::Duration;

/// What the deciding tier said, before guardrails. `delay: None` means stop.
pub(crate) struct Proposal {
    pub delay: Option<Duration>,
    pub tier: Tier,
    pub reason: Reason,
    pub success_probability: Option<f64>,
    pub confidence: Option<f64>,
    pub alternatives: Alternatives,
    /// The delay the step stands for, where its estimates are quoted (a jittered delay's middle,
    /// so they do not swing with each draw); None when the wait is the server's, not an estimate.
    pub nominal: Option<Duration>,
}

impl Proposal {
    fn new(delay: Duration, tier: Tier, reason: Reason) -> Proposal {
        Proposal {
            delay: Some(delay),
            tier,
            reason,
            success_probability: None,
            confidence: None,
            alternatives: Alternatives::none(),
            nominal: Some(delay),
        }
    }
}

impl Context<'_> {
    /// The server's Retry-After, when the class honours it.
    pub fn retry_after(&self) -> Option<Duration> {
        self.failure
            .retry_after
            .filter(|_| self.cp.honor_retry_after)
    }

    /// The price of one failed attempt, seconds: the policy's, or the class's own time scale.
    pub fn failure_cost(&self) -> f64 {
        self.policy.failure_cost(&self.cp)
    }

    fn learning(&self) -> bool {
        self.policy.learning.enabled && self.cp.learn
    }
}

impl Engine {
    pub(super) fn propose(&self, cx: &Context<'_>, ep: &mut EpisodeView<'_>) -> Proposal {
        let mut p = self.first_proposal(cx, ep);
        // A static delay (class schedule, operator) still gets the model's view, at its step's
        // nominal delay; a server's Retry-After gets none.
        if let (None, Some(_), Some(d)) = (p.success_probability, p.delay, p.nominal) {
            (p.success_probability, p.confidence) = self.estimate(cx, ep, d);
        }
        p
    }

    /// The highest tier that may decide, decides.
    fn first_proposal(&self, cx: &Context<'_>, ep: &mut EpisodeView<'_>) -> Proposal {
        if let Some(p) = operator::propose(cx) {
            return p;
        }
        if let Some(p) = retry_after::propose(cx, ep) {
            return p;
        }
        if let Some(p) = self.propose_ml(cx, ep) {
            return p;
        }
        match self.choose_arm(cx, ep) {
            Some(Arm::Learned) => return self.propose_learned(cx, ep),
            Some(Arm::Class) => self.propose_portfolio(cx, ep),
            None => None,
        }
        .unwrap_or_else(|| heuristic::propose(cx, ep))
    }

    /// The schedule this episode runs, chosen at its first decision (live) and kept for the
    /// whole episode; a dry run takes the preferred one. None when the class does not learn.
    fn choose_arm(&self, cx: &Context<'_>, ep: &mut EpisodeView<'_>) -> Option<Arm> {
        if !cx.learning() {
            return None;
        }
        if let Some(arm) = ep.arm {
            return Some(arm);
        }
        let m = ep.id.models.as_ref()?.primary.model.lock();
        let arm = if m.episodes() < f64::from(cx.policy.learning.min_episodes) {
            Arm::Class
        } else if !cx.policy.learning.portfolio {
            Arm::Learned
        } else if cx.mode == super::Mode::Live {
            m.portfolio().choose(&mut ep.rng).0
        } else {
            m.portfolio().verdict().preferred
        };
        drop(m);
        ep.arm = Some(arm);
        Some(arm)
    }

    /// The class schedule, explained by why the learned plan is not running: still learning, or
    /// the portfolio's verdict.
    fn propose_portfolio(&self, cx: &Context<'_>, ep: &mut EpisodeView<'_>) -> Option<Proposal> {
        let m = ep.id.models.as_ref()?.primary.model.lock();
        let episodes = m.episodes();
        let needed = cx.policy.learning.min_episodes;
        if episodes < f64::from(needed) {
            drop(m);
            if cx.mode == super::Mode::Live {
                self.count(Counter::Fallbacks);
            }
            let mut p = heuristic::propose(cx, ep);
            p.reason = Reason::Learning {
                class: cx.class,
                strategy: cx.cp.strategy.name(),
                episodes,
                needed,
            };
            return Some(p);
        }
        let verdict = m.portfolio().verdict();
        drop(m);
        Some(portfolio::propose(cx, ep, verdict))
    }

    /// Success probability and confidence of an attempt after `delay`, from the model, when one
    /// exists (a guardrail moved the delay, or a static schedule proposed it).
    pub(super) fn estimate(
        &self,
        cx: &Context<'_>,
        ep: &EpisodeView<'_>,
        delay: Duration,
    ) -> (Option<f64>, Option<f64>) {
        let (Some(models), Some(_)) = (&ep.id.models, ep.class) else {
            return (None, None);
        };
        if !cx.policy.learning.enabled {
            return (None, None);
        }
        let (t, at) = (cx.elapsed.as_secs_f64(), (cx.elapsed + delay).as_secs_f64());
        let cost = cx.failure_cost();
        self.with_plan(
            &models.primary,
            cost,
            cx.policy.horizon_secs(),
            |plan, prior| {
                let p = plan.success_probability(t, at);
                let from = crate::learn::grid::bucket_of(t);
                let c = plan.confidence(prior, from, crate::learn::grid::bucket_of(at) + 1);
                (Some(p), Some(c))
            },
        )
        .unwrap_or((None, None))
    }
}

/// A uniform draw in [0, 1) from the episode's generator.
fn unit(ep: &mut EpisodeView<'_>) -> f64 {
    ep.rng.random::<f64>()
}
