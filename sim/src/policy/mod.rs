//! The policies the simulator compares. Every policy sees jobs only through this trait, so the
//! static baselines, the oracle and the engine are measured by the same loop. Many jobs are in
//! flight at once: a policy keeps whatever per-job state it needs keyed by `Job::id`.

mod baseline;
mod engine;
mod oracle;

pub use baseline::{NoRetry, StaticPolicy};
pub use engine::EnginePolicy;
pub use oracle::Oracle;

use crate::error::Result;
use crate::job::{FailureInfo, Job};
use crate::scenario::{OracleKind, Scenario};
use smartretry::{ErrorClass, Policy, Strategy};
use std::time::Duration;

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decision {
    /// Try again after this many seconds.
    Retry(f64),
    /// Stop: the job has failed.
    GiveUp,
}

/// The context of one failed attempt.
#[derive(Debug, Clone, Copy)]
pub struct FailureCtx<'a> {
    pub job: &'a Job,
    /// Simulated seconds now.
    pub now: f64,
    /// The retry being decided (1 = the first retry, after the first failure).
    pub retry: u32,
    /// The delay used before the attempt that just failed (0 after the first attempt).
    pub previous_delay: f64,
    pub failure: &'a FailureInfo,
}

/// A retry policy under test.
pub trait SimPolicy {
    /// Name in tables and plots.
    fn name(&self) -> String;
    /// A job's first attempt is about to run at `now`.
    fn on_start(&mut self, _job: &Job, _now: f64) {}
    /// An attempt failed: retry after how long, or give up?
    fn on_failure(&mut self, ctx: &FailureCtx<'_>) -> Decision;
    /// An attempt succeeded at `now`.
    fn on_success(&mut self, _job: &Job, _now: f64) {}
    /// The job ran out of time (its next attempt would be after the deadline) at `now`.
    fn on_abandon(&mut self, _job: &Job, _now: f64) {}
    /// The learned P(recovered by t since the episode began), for the plots, when the policy
    /// learns one.
    fn learned_curve(&self, _queue: &str, _class: ErrorClass) -> Option<Vec<(f64, f64)>> {
        None
    }
    /// Counts of why the policy decided what it did (e.g. the engine's tiers and give-up
    /// reasons), so a surprising number can be traced to its cause.
    fn diagnostics(&self) -> Vec<(String, u64)> {
        Vec::new()
    }
}

/// The policies of the comparison, in table order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PolicyKind {
    NoRetry,
    Exponential,
    FullJitter,
    EqualJitter,
    Decorrelated,
    Fixed,
    EngineHeuristic,
    Engine,
    Oracle,
}

impl PolicyKind {
    pub const ALL: [PolicyKind; 9] = [
        PolicyKind::NoRetry,
        PolicyKind::Exponential,
        PolicyKind::FullJitter,
        PolicyKind::EqualJitter,
        PolicyKind::Decorrelated,
        PolicyKind::Fixed,
        PolicyKind::EngineHeuristic,
        PolicyKind::Engine,
        PolicyKind::Oracle,
    ];

    /// The static schedules: "best static" is the best of all of them.
    pub fn is_common_static(self) -> bool {
        matches!(
            self,
            PolicyKind::Exponential
                | PolicyKind::FullJitter
                | PolicyKind::EqualJitter
                | PolicyKind::Decorrelated
                | PolicyKind::Fixed
        )
    }

    pub fn label(self) -> &'static str {
        match self {
            PolicyKind::NoRetry => "no-retry",
            PolicyKind::Exponential => "exponential",
            PolicyKind::FullJitter => "full-jitter",
            PolicyKind::EqualJitter => "equal-jitter",
            PolicyKind::Decorrelated => "decorrelated",
            PolicyKind::Fixed => "fixed-10-30-90",
            PolicyKind::EngineHeuristic => "engine-heuristic",
            PolicyKind::Engine => "engine",
            PolicyKind::Oracle => "oracle",
        }
    }

    /// The policy with this label (as printed in tables).
    pub fn from_label(label: &str) -> Option<PolicyKind> {
        PolicyKind::ALL
            .into_iter()
            .find(|k| k.label() == label.trim())
    }

    /// Whether this policy runs in `scenario` (the oracle only where it is defined).
    pub fn applies_to(self, scenario: &Scenario) -> bool {
        self != PolicyKind::Oracle || scenario.oracle() != OracleKind::None
    }

    /// Build a fresh policy for one run. `seed` must already mix scenario, policy and seed.
    pub fn build(self, scenario: &Scenario, seed: u64, epoch: f64) -> Result<Box<dyn SimPolicy>> {
        self.build_with(scenario, seed, epoch, None)
    }

    /// `build`, with the engine policies starting from `engine_base` instead of
    /// `Policy::default()` (the simulator still sets learning on/off, c, deadline and seed).
    pub fn build_with(
        self,
        scenario: &Scenario,
        seed: u64,
        epoch: f64,
        engine_base: Option<&Policy>,
    ) -> Result<Box<dyn SimPolicy>> {
        let s = Duration::from_secs_f64;
        let base = s(scenario.static_base);
        let cap = s(scenario.static_cap);
        let st = |strategy: Strategy, cap: Duration| -> Box<dyn SimPolicy> {
            Box::new(StaticPolicy::new(self.label(), strategy, cap, seed))
        };
        Ok(match self {
            PolicyKind::NoRetry => Box::new(NoRetry),
            PolicyKind::Exponential => st(Strategy::Exponential { base, factor: 2.0 }, cap),
            PolicyKind::FullJitter => st(Strategy::full_jitter(base), cap),
            PolicyKind::EqualJitter => st(Strategy::EqualJitter { base, factor: 2.0 }, cap),
            PolicyKind::Decorrelated => st(Strategy::DecorrelatedJitter { base }, cap),
            PolicyKind::Fixed => st(
                Strategy::Schedule {
                    delays: vec![base * 10, base * 30, base * 90],
                },
                cap.max(base * 90),
            ),
            PolicyKind::EngineHeuristic => Box::new(EnginePolicy::new(
                self.label(),
                scenario,
                seed,
                epoch,
                false,
                engine_base,
            )?),
            PolicyKind::Engine => Box::new(EnginePolicy::new(
                self.label(),
                scenario,
                seed,
                epoch,
                true,
                engine_base,
            )?),
            PolicyKind::Oracle => Box::new(Oracle { c: scenario.c }),
        })
    }
}
