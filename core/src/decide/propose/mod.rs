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
use crate::learn::portfolio::{Arm, Running, Verdict};
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
        // Set again by the learned plan when it polls or the learned tier decides, by the class
        // schedule when it is paced.
        ep.timing = crate::learn::model::RetryTiming::Scheduled;
        ep.paced = 0.0;
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
            Some((Arm::Learned, _)) => return self.propose_learned(cx, ep),
            Some((Arm::Class, read)) => self.propose_portfolio(cx, ep, read),
            None => None,
        }
        .unwrap_or_else(|| heuristic::propose(cx, ep))
    }

    /// The schedule this episode runs, chosen at its first decision (live) and kept, unless it
    /// runs the class schedule only because nothing better was known (`Running::ClassForNow`):
    /// then it is asked again at each decision. A dry run takes the preferred one. None when the
    /// class does not learn. When it had to look at the model, also what it read there (so the
    /// class schedule's explanation does not take the model's lock again).
    fn choose_arm(
        &self,
        cx: &Context<'_>,
        ep: &mut EpisodeView<'_>,
    ) -> Option<(Arm, Option<PortfolioRead>)> {
        if !cx.learning() {
            return None;
        }
        let first = match ep.arm {
            Some(Running::ClassForNow) => false,
            Some(kept) => return Some((kept.arm(), None)),
            None => true,
        };
        let m = ep.id.models.as_ref()?.primary.model.lock();
        let episodes = m.episodes();
        // The learned plan for an episode that has run the class schedule so far: it moved.
        let learned = if first {
            Running::Kept(Arm::Learned)
        } else {
            Running::Moved
        };
        let (running, verdict) = if episodes < f64::from(cx.policy.learning.min_episodes) {
            (Running::ClassForNow, None)
        } else if !cx.policy.learning.portfolio {
            (learned, None)
        } else if first && cx.mode == super::Mode::Live {
            let failure_cost = cx.policy.failure_cost(&cx.cp);
            let (arm, verdict) = m.portfolio().choose(&mut ep.rng, failure_cost);
            let running = match (arm, verdict.preferred) {
                (Arm::Class, Arm::Class) => Running::ClassForNow,
                (Arm::Class, Arm::Learned) => Running::Kept(Arm::Class),
                (Arm::Learned, _) => learned,
            };
            (running, Some(verdict))
        } else {
            let verdict = m.portfolio().verdict();
            let running = match verdict.preferred {
                Arm::Class => Running::ClassForNow,
                Arm::Learned => learned,
            };
            (running, Some(verdict))
        };
        drop(m);
        ep.arm = Some(running);
        Some((running.arm(), Some(PortfolioRead { episodes, verdict })))
    }

    /// The class schedule, explained by why the learned plan is not running: still learning, or
    /// the portfolio's verdict (`read`: the model as `choose_arm` just read it, if it did).
    fn propose_portfolio(
        &self,
        cx: &Context<'_>,
        ep: &mut EpisodeView<'_>,
        read: Option<PortfolioRead>,
    ) -> Option<Proposal> {
        let needed = cx.policy.learning.min_episodes;
        let read = match read {
            Some(r) => r,
            None => {
                let m = ep.id.models.as_ref()?.primary.model.lock();
                let episodes = m.episodes();
                let verdict = (episodes >= f64::from(needed)).then(|| m.portfolio().verdict());
                PortfolioRead { episodes, verdict }
            }
        };
        let Some(verdict) = read.verdict.filter(|_| read.episodes >= f64::from(needed)) else {
            if cx.mode == super::Mode::Live {
                self.count(Counter::Fallbacks);
            }
            let mut p = heuristic::propose(cx, ep);
            p.reason = Reason::Learning {
                class: cx.class,
                strategy: cx.cp.strategy.name(),
                episodes: read.episodes,
                needed,
            };
            return Some(p);
        };
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
                let (p, from, to) = plan.success_and_buckets(t, at);
                (Some(p), Some(prior.confidence(plan, from, to + 1)))
            },
        )
        .unwrap_or((None, None))
    }
}

/// What choosing the schedule read from the model: its episodes, and the portfolio's verdict once
/// the model is past its warm-up.
pub(super) struct PortfolioRead {
    episodes: f64,
    verdict: Option<Verdict>,
}

/// A uniform draw in [0, 1) from the episode's generator.
fn unit(ep: &mut EpisodeView<'_>) -> f64 {
    ep.rng.random::<f64>()
}
