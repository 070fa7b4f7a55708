//! One learned model: survival counts, portfolio statistics and the cached plan for a
//! (queue, error class[, tenant]).

use super::grid::{buckets_passed, last_possible_bucket, BUCKETS};
use super::hazard::{Evidence, Hazard, Interval};
use super::planner::{self, Plan};
use super::portfolio::{Arm, Portfolio};
use super::prior::Prior;
use crate::class::ErrorClass;
use serde::{Deserialize, Serialize};

pub use super::portfolio::Arm as ArmChoice;

/// Rebuild the plan after this many updates once the model is established, or after an eighth
/// of its effective episodes if that is more (a rebuild costs ~100 µs; amortised it stays near
/// 1 µs per update, and a large model moves little per update anyway).
const REPLAN_EVERY: u64 = 16;
/// Below this many effective episodes, rebuild after every update.
const EAGER_EPISODES: f64 = 64.0;

#[derive(Debug, Clone)]
pub struct LearnedModel {
    hazard: Hazard,
    portfolio: Portfolio,
    plan: Option<Box<Plan>>,
    updates: u64,
    planned_at: u64,
    planned_for: (f64, f64),
    portfolio_decay: f64,
}

/// The serialisable state of a model (snapshots, merging, inspection).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSnapshot {
    pub key: String,
    pub tenant: Option<String>,
    pub class: ErrorClass,
    /// Effective (decayed) episodes seen.
    pub episodes: f64,
    /// Effective count of episodes known to have survived each bucket (still failing after it).
    pub survived: Vec<f64>,
    /// Effective successes with recovery known to lie in buckets `from..=to`.
    pub intervals: Vec<Interval>,
    pub portfolio: Portfolio,
}

impl LearnedModel {
    pub fn new(half_life: f64) -> LearnedModel {
        LearnedModel {
            hazard: Hazard::new(half_life),
            portfolio: Portfolio::default(),
            plan: None,
            updates: 0,
            planned_at: 0,
            planned_for: (f64::NAN, f64::NAN),
            portfolio_decay: 2f64.powf(-1.0 / half_life.max(1.0)),
        }
    }

    /// A model starting from another's evidence, scaled down to at most `cap` episodes (a new
    /// tenant starts from what its queue knows, without being bound by it).
    pub fn seeded_from(parent: &LearnedModel, half_life: f64, cap: f64) -> LearnedModel {
        let mut m = LearnedModel::new(half_life);
        let episodes = parent.hazard.episodes();
        if episodes > 0.0 {
            m.hazard
                .absorb(&parent.hazard.evidence(), (cap / episodes).min(1.0));
        }
        m
    }

    pub fn from_snapshot(s: &ModelSnapshot, half_life: f64) -> LearnedModel {
        let mut m = LearnedModel::new(half_life);
        m.hazard.absorb(&Self::evidence_of(s), 1.0);
        m.portfolio = s.portfolio.clone();
        m
    }

    pub fn snapshot(&self, key: &str, tenant: Option<&str>, class: ErrorClass) -> ModelSnapshot {
        let e = self.hazard.evidence();
        ModelSnapshot {
            key: key.to_string(),
            tenant: tenant.map(str::to_string),
            class,
            episodes: e.episodes,
            survived: e.survived,
            intervals: e.intervals,
            portfolio: self.portfolio.clone(),
        }
    }

    fn evidence_of(s: &ModelSnapshot) -> Evidence {
        Evidence {
            survived: s.survived.clone(),
            intervals: s.intervals.clone(),
            episodes: s.episodes,
        }
    }

    pub fn merge(&mut self, s: &ModelSnapshot) {
        self.hazard.absorb(&Self::evidence_of(s), 1.0);
        self.portfolio.merge(&s.portfolio);
        self.updates += 1;
    }

    pub fn episodes(&self) -> f64 {
        self.hazard.episodes()
    }

    pub fn portfolio(&self) -> &Portfolio {
        &self.portfolio
    }

    /// A failure episode begins (its first failure was recorded).
    pub fn begin_episode(&mut self) {
        self.hazard.begin_episode();
        self.updates += 1;
    }

    /// The episode failed again at `elapsed` seconds: buckets wholly before it are survived.
    /// `passed` is the episode's count of buckets already recorded as survived.
    pub fn observe_failure(&mut self, passed: usize, elapsed: f64) {
        let now_passed = buckets_passed(elapsed);
        if now_passed > passed {
            self.hazard.survived(passed, now_passed);
            self.updates += 1;
        }
    }

    /// The episode recovered by `elapsed` (it had survived `passed` buckets).
    pub fn observe_success(&mut self, passed: usize, elapsed: f64) {
        let last = last_possible_bucket(elapsed);
        self.hazard.recovered(passed.min(last), last);
        self.updates += 1;
    }

    /// Score the schedule `arm` ran for an episode that succeeded at `success` seconds after a
    /// last failure at `last_failure`, with `failed_retries` failed retries costing `cost` each.
    ///
    /// The score is the episode's cost less the recovery time itself (estimated inside the
    /// observed interval): what the schedule added, overshoot plus failed attempts. The outage
    /// length is common to every schedule and is most of the noise; without it the portfolio
    /// converges in far fewer episodes. Where recovery is all-or-nothing it ranks schedules exactly
    /// as the full cost does; elsewhere the full cost, kept beside it, vetoes what it flatters.
    pub fn score_success(
        &mut self,
        arm: Arm,
        last_failure: f64,
        success: f64,
        failed_retries: f64,
        cost: f64,
    ) {
        let recovered = self
            .plan
            .as_ref()
            .map_or((last_failure + success) / 2.0, |p| {
                p.expected_within(last_failure, success)
            });
        let score = (success - recovered).max(0.0) + cost * failed_retries;
        let full = success + cost * failed_retries;
        self.portfolio
            .record(arm, score, full, self.portfolio_decay);
    }

    /// Score a schedule whose episode never succeeded: it wasted the rest of the horizon after its
    /// last attempt, plus its failed attempts.
    pub fn score_give_up(
        &mut self,
        arm: Arm,
        last_failure: f64,
        horizon: f64,
        failed_retries: f64,
        cost: f64,
    ) {
        let score = (horizon - last_failure).max(0.0) + cost * failed_retries;
        self.portfolio.record(
            arm,
            score,
            horizon + cost * failed_retries,
            self.portfolio_decay,
        );
    }

    /// The current plan, rebuilt when evidence or settings changed enough.
    pub fn plan(&mut self, prior: &Prior, cost: f64, horizon: f64) -> &mut Plan {
        let since = self.updates - self.planned_at;
        let stale = self.plan.is_none()
            || self.planned_for != (cost, horizon)
            || (since > 0
                && (self.hazard.episodes() < EAGER_EPISODES
                    || since >= REPLAN_EVERY.max((self.hazard.episodes() / 8.0) as u64)));
        if stale {
            let previous = self.plan.as_ref().map(|p| &p.fit);
            let plan = planner::build(&self.hazard, prior, cost, horizon, previous);
            self.plan = Some(Box::new(plan));
            self.planned_at = self.updates;
            self.planned_for = (cost, horizon);
        }
        match &mut self.plan {
            Some(p) => p,
            None => unreachable!("plan was just built"),
        }
    }

    /// Confidence of the plan's step from `from` to edge `to`, computed once per plan.
    pub fn confidence(&mut self, prior: &Prior, from: usize, to: usize) -> f64 {
        let from = from.min(BUCKETS - 1);
        match &mut self.plan {
            Some(plan) => {
                if plan.confidence[from] == 255 {
                    let c = planner::confidence(&plan.fit, prior, from, to);
                    plan.confidence[from] = (c * 254.0).round() as u8;
                }
                f64::from(plan.confidence[from]) / 254.0
            }
            None => 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_round_trip_and_merge() {
        let mut m = LearnedModel::new(100.0);
        for _ in 0..10 {
            m.begin_episode();
            m.observe_failure(0, 3.0);
            m.observe_success(buckets_passed(3.0), 6.0);
        }
        let s = m.snapshot("q", None, ErrorClass::Unavailable);
        let back =
            LearnedModel::from_snapshot(&s, 100.0).snapshot("q", None, ErrorClass::Unavailable);
        assert_eq!(s, back);
        let mut twice = LearnedModel::from_snapshot(&s, 100.0);
        twice.merge(&s);
        assert!((twice.episodes() - 2.0 * s.episodes).abs() < 1e-9);
        let seeded = LearnedModel::seeded_from(&m, 100.0, 2.0);
        assert!((seeded.episodes() - 2.0).abs() < 1e-9);
    }
}
