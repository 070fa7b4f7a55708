//! One learned model: survival counts, portfolio statistics and the cached plan for a
//! (queue, error class[, tenant]).

use super::counterfactual::{expected_cost, realised_cost, Observed, Pricing};
use super::grid::{buckets_passed, last_possible_bucket};
use super::hazard::{Evidence, Hazard, Interval};
use super::paths::{class_path, plan_path};
use super::planner::{self, Plan};
use super::portfolio::{Arm, Portfolio, Running};
use super::prior::Prior;
use crate::class::ErrorClass;
use crate::policy::ClassPolicy;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub use super::portfolio::Arm as ArmChoice;

/// Rebuild the plan after this many updates once the model is established, or after an eighth
/// of its effective episodes if that is more (a rebuild costs ~100 µs; amortised it stays near
/// 1 µs per update, and a large model moves little per update anyway).
const REPLAN_EVERY: u64 = 16;
/// A retry whose wait is at most this share of the time already elapsed counts as a short one
/// (evidence for the pass rate).
const SHORT_WAIT: f64 = 0.25;
/// Below this many effective episodes, rebuild after every update.
const EAGER_EPISODES: f64 = 64.0;

/// Who timed a retry, which decides what its outcome can teach the pass rate (the chance an
/// attempt passes while the dependency is still down). That estimate compares how often short
/// retries fail with how often the model's recovery curve says they should; it is fair only for
/// retries timed without knowing more about the recovery than the curve does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RetryTiming {
    /// The class schedule or one of the learned plan's steps: full weight.
    #[default]
    Scheduled,
    /// One of the learned plan's polls: a burst of them weighs as one step of the grid would,
    /// so that it does not outweigh the rest of the evidence.
    Poll,
    /// Timed by the learned (ML) tier from context the recovery curve does not see (time of
    /// day, queue depth): its retries land where recoveries are likely, and counted here they
    /// would read as passes and inflate the rate. They teach the recovery curve only.
    Informed,
}

/// What the engine has learned about how a dependency recovers from one class of failure: survival
/// evidence, the portfolio's comparison of schedules, and the plan built from them.
#[derive(Debug, Clone)]
#[repr(C)] // What a decision reads (counters, portfolio, the hazard's scalars) in the first lines.
pub struct LearnedModel {
    /// The last plan built (shared with the model store's lock-free readers).
    plan: Option<Arc<Plan>>,
    updates: u64,
    /// `updates` when the evidence of the current plan was taken.
    planned_at: u64,
    portfolio_decay: f64,
    portfolio: Portfolio,
    hazard: Hazard,
}

/// What a plan is rebuilt from, copied out of the model so that the fit runs without its lock.
pub struct RebuildInput {
    /// The survival evidence to fit.
    pub hazard: Hazard,
    /// The previous plan, whose fit warm-starts the new one.
    pub previous: Option<Arc<Plan>>,
    /// The model's update count when the copy was taken (passed back to `LearnedModel::install`).
    pub updates: u64,
}

/// The serialisable state of a model (snapshots, merging, inspection).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSnapshot {
    /// The queue key the model belongs to.
    pub key: String,
    /// The tenant, for a per-tenant model; null for the queue's model.
    pub tenant: Option<String>,
    /// The class of failure the model learned.
    pub class: ErrorClass,
    /// Effective (decayed) episodes seen.
    pub episodes: f64,
    /// Effective count of episodes known to have survived each bucket (still failing after it).
    pub survived: Vec<f64>,
    /// Effective successes with recovery known to lie in buckets `from..=to`.
    pub intervals: Vec<Interval>,
    /// Effective failed retries (evidence for the pass rate of attempts while still down).
    #[serde(default)]
    pub retry_failures: f64,
    /// Effective failed retries expected were recovery all-or-nothing.
    #[serde(default)]
    pub expected_failures: f64,
    /// How the class schedule and the learned plan have compared on the same episodes.
    pub portfolio: Portfolio,
}

/// A model's state in numbers, for inspection and diagnostics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelReport {
    /// Effective (decayed) episodes the model learned from.
    pub episodes: f64,
    /// Estimated chance that an attempt succeeds while the dependency is still down.
    pub pass_rate: f64,
    /// The plan's expected cost per episode (seconds), by the model.
    pub plan_cost: f64,
    /// How the class schedule and the learned plan have compared.
    pub portfolio: Portfolio,
    /// The schedule the portfolio prefers now.
    pub preferred: Arm,
}

impl LearnedModel {
    /// The model's state in numbers, with `plan` its current plan.
    pub fn report(&self, plan: &Plan) -> ModelReport {
        ModelReport {
            episodes: self.episodes(),
            pass_rate: plan.pass_rate,
            plan_cost: plan.expected_cost,
            portfolio: self.portfolio.clone(),
            preferred: self.portfolio.verdict().preferred,
        }
    }

    /// An empty model; `half_life` is in episodes: evidence loses half its weight after that many.
    pub fn new(half_life: f64) -> LearnedModel {
        LearnedModel {
            hazard: Hazard::new(half_life),
            portfolio: Portfolio::default(),
            plan: None,
            updates: 0,
            planned_at: 0,
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

    /// A model holding a snapshot's evidence (`half_life` in episodes, as in `LearnedModel::new`).
    pub fn from_snapshot(s: &ModelSnapshot, half_life: f64) -> LearnedModel {
        let mut m = LearnedModel::new(half_life);
        m.hazard.absorb(&Self::evidence_of(s), 1.0);
        m.portfolio = s.portfolio.clone();
        m
    }

    /// The model's state, labelled with its queue key, tenant and class.
    pub fn snapshot(&self, key: &str, tenant: Option<&str>, class: ErrorClass) -> ModelSnapshot {
        let e = self.hazard.evidence();
        ModelSnapshot {
            key: key.to_string(),
            tenant: tenant.map(str::to_string),
            class,
            episodes: e.episodes,
            survived: e.survived,
            intervals: e.intervals,
            retry_failures: e.retry_failures,
            expected_failures: e.expected_failures,
            portfolio: self.portfolio.evidence(),
        }
    }

    fn evidence_of(s: &ModelSnapshot) -> Evidence {
        Evidence {
            survived: s.survived.clone(),
            intervals: s.intervals.clone(),
            episodes: s.episodes,
            retry_failures: s.retry_failures,
            expected_failures: s.expected_failures,
        }
    }

    /// Add a snapshot's evidence to this model (e.g. from another process); counts add up.
    pub fn merge(&mut self, s: &ModelSnapshot) {
        self.hazard.absorb(&Self::evidence_of(s), 1.0);
        self.portfolio.merge(&s.portfolio);
        self.updates += 1;
    }

    /// Effective (decayed) episodes learned from.
    pub fn episodes(&self) -> f64 {
        self.hazard.episodes()
    }

    /// The comparison of the class schedule against the learned plan.
    pub fn portfolio(&self) -> &Portfolio {
        &self.portfolio
    }

    /// A failure episode begins (its first failure was recorded).
    pub fn begin_episode(&mut self) {
        self.hazard.begin_episode();
        self.updates += 1;
    }

    /// A retry at `elapsed` after the previous attempt at `previous` (seconds since the first
    /// failure) failed or not: evidence for the pass rate, priced by the plan of the time, as
    /// much as `timing` lets it be.
    fn retried(&mut self, failed: bool, previous: f64, elapsed: f64, timing: RetryTiming) {
        // Only short waits tell a pass rate from a recovery: over a short wait, all-or-nothing
        // recovery rarely happens, while a brown-out passes as often as ever.
        if !(previous > 0.0 && elapsed - previous <= SHORT_WAIT * previous) {
            return;
        }
        if timing == RetryTiming::Informed {
            return;
        }
        if let Some(plan) = &self.plan {
            let s0 = plan.survival_at(previous);
            if s0 > 0.0 {
                // A poll's attempts weigh together as one step of the grid would: a burst of
                // them does not outweigh the rest of the evidence.
                let share = if timing == RetryTiming::Poll {
                    let step = (2f64.powf(1.0 / super::grid::PER_DOUBLING) - 1.0) * previous;
                    ((elapsed - previous) / step).min(1.0)
                } else {
                    1.0
                };
                self.hazard
                    .retried(failed, plan.survival_at(elapsed) / s0, share);
            }
        }
    }

    /// The episode failed again at `elapsed` seconds (its previous attempt was at `previous`):
    /// buckets wholly before it are survived. `passed` is the episode's count of buckets already
    /// recorded as survived.
    pub fn observe_failure(
        &mut self,
        passed: usize,
        previous: f64,
        elapsed: f64,
        timing: RetryTiming,
    ) {
        self.retried(true, previous, elapsed, timing);
        let now_passed = buckets_passed(elapsed);
        if now_passed > passed {
            self.hazard.survived(passed, now_passed);
            self.updates += 1;
        }
    }

    /// The episode recovered by `elapsed` (it had survived `passed` buckets; its previous attempt
    /// was at `previous`).
    pub fn observe_success(
        &mut self,
        passed: usize,
        previous: f64,
        elapsed: f64,
        timing: RetryTiming,
    ) {
        self.retried(false, previous, elapsed, timing);
        let last = last_possible_bucket(elapsed);
        self.hazard.recovered(passed.min(last), last);
        self.updates += 1;
    }

    /// Count a finished episode's costs under both schedules (`episode_costs`) in the portfolio.
    pub fn record_score(&mut self, ran: Arm, class_cost: f64, learned_cost: f64) {
        self.portfolio
            .record(ran, class_cost, learned_cost, self.portfolio_decay);
    }

    /// The current plan, rebuilt here (on the caller's thread) when evidence or settings changed
    /// enough: the deterministic path, for engines on a manual clock.
    pub fn plan(&mut self, prior: &Prior, cost: f64, horizon: f64) -> &Arc<Plan> {
        let settled = matches!(&self.plan, Some(p) if p.built_for == (cost, horizon));
        if !settled || self.rebuild_due() {
            let previous = self.plan.as_ref().map(|p| &p.fit);
            let plan = planner::build(&self.hazard, prior, cost, horizon, previous);
            self.plan = Some(Arc::new(plan));
            self.planned_at = self.updates;
        }
        match &self.plan {
            Some(p) => p,
            None => unreachable!("plan was just built"),
        }
    }

    /// The last plan built, if any, without rebuilding.
    pub fn current_plan(&self) -> Option<&Arc<Plan>> {
        self.plan.as_ref()
    }

    /// Enough evidence arrived since the current plan to rebuild it: after every update while
    /// the model is young, then every `REPLAN_EVERY` updates or an eighth of its episodes.
    pub fn rebuild_due(&self) -> bool {
        let since = self.updates - self.planned_at;
        since > 0
            && (self.hazard.episodes() < EAGER_EPISODES
                || since >= REPLAN_EVERY.max((self.hazard.episodes() / 8.0) as u64))
    }

    /// A copy of what a rebuild needs (about 1.5 KB), taken under the model's lock.
    pub fn rebuild_input(&self) -> RebuildInput {
        RebuildInput {
            hazard: self.hazard.clone(),
            previous: self.plan.clone(),
            updates: self.updates,
        }
    }

    /// Install a plan built off the lock from the evidence as of `updates` (an older one than the
    /// plan in place is dropped).
    pub fn install(&mut self, plan: Arc<Plan>, updates: u64) -> bool {
        if self.plan.is_some() && updates < self.planned_at {
            return false;
        }
        self.plan = Some(plan);
        self.planned_at = updates;
        true
    }
}

/// A finished episode's cost under both schedules: the one that ran by its realised cost, the
/// other by what it would have cost on the same episode (see `counterfactual`), priced by
/// `plan`. The episode is (schedule it ran, what it showed, its failed retries). Returns
/// (class schedule's, learned plan's). An episode that moved from the class schedule to the
/// learned plan ran neither whole: both are what they would have cost. Needs no model: computed
/// before its lock is taken.
pub fn episode_costs<R: Rng + ?Sized>(
    plan: &Plan,
    (ran, obs, failed_retries): (Running, Observed, f64),
    cp: &ClassPolicy,
    pricing: Pricing,
    rng: &mut R,
) -> (f64, f64) {
    let realised = || realised_cost(obs, failed_retries, pricing);
    let h = pricing.horizon;
    let class = |rng: &mut R| expected_cost(&class_path(cp, h, rng), obs, plan, pricing);
    let learned = |rng: &mut R| expected_cost(&plan_path(plan, cp, h, rng), obs, plan, pricing);
    match ran {
        Running::ClassForNow | Running::Kept(Arm::Class) => (realised(), learned(rng)),
        Running::Kept(Arm::Learned) => (class(rng), realised()),
        Running::Moved => (class(rng), learned(rng)),
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
            m.observe_failure(0, 0.0, 3.0, RetryTiming::Scheduled);
            m.observe_success(buckets_passed(3.0), 3.0, 6.0, RetryTiming::Scheduled);
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

    /// The pass-rate evidence a model holds after one short retry at 10 s (previous attempt at
    /// 9 s) that succeeded, timed by `timing`: (retry failures, expected failures).
    fn pass_evidence_after_a_short_retry(timing: RetryTiming) -> (f64, f64) {
        let mut m = LearnedModel::new(100.0);
        for _ in 0..20 {
            m.begin_episode();
            m.observe_failure(0, 0.0, 30.0, RetryTiming::Scheduled);
            m.observe_success(buckets_passed(30.0), 30.0, 60.0, RetryTiming::Scheduled);
        }
        m.plan(&Prior::log_logistic(30.0, 2.0), 10.0, 3600.0);
        m.begin_episode();
        m.observe_failure(0, 0.0, 9.0, RetryTiming::Scheduled);
        m.observe_success(buckets_passed(9.0), 9.0, 10.0, timing);
        let s = m.snapshot("q", None, ErrorClass::Unavailable);
        (s.retry_failures, s.expected_failures)
    }

    #[test]
    fn a_retry_the_learned_tier_timed_teaches_no_pass_rate() {
        // A success 1 s after a failure, where the curve says recovery is unlikely: from a
        // schedule, evidence of a pass (a failure was expected, none came).
        let (failures, expected) = pass_evidence_after_a_short_retry(RetryTiming::Scheduled);
        assert_eq!(failures, 0.0);
        assert!(expected > 0.5, "{expected}");
        // A poll weighs as its share of a grid step.
        let (_, polled) = pass_evidence_after_a_short_retry(RetryTiming::Poll);
        assert!(polled > 0.0 && polled < expected, "{polled} vs {expected}");
        // Timed by the learned tier from what the curve does not see: nothing.
        assert_eq!(
            pass_evidence_after_a_short_retry(RetryTiming::Informed),
            (0.0, 0.0)
        );
    }
}
