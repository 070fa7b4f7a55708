//! The engine under test, behind the same trait as the baselines. One `Engine` and one
//! `ManualClock` per run, shared by every job in flight; the clock is set to each event's time
//! before the engine is called, so the engine sees exactly the time the simulation says.

use super::{Decision, FailureCtx, SimPolicy};
use crate::error::Result;
use crate::job::{FailureSpec, Job};
use crate::scenario::Scenario;
use smartretry::{Action, Engine, Episode, ErrorClass, Failure, ManualClock, Policy, SharedClock};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// The smartretry engine: heuristic tier only (`learning = false`) or with learning.
pub struct EnginePolicy {
    name: String,
    engine: Engine,
    clock: Arc<ManualClock>,
    /// Unix seconds of simulated time 0.
    epoch: f64,
    episodes: HashMap<u32, Episode>,
    /// Decisions counted by "action: tier / reason kind".
    why: std::collections::BTreeMap<String, u64>,
}

impl std::fmt::Debug for EnginePolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnginePolicy")
            .field("name", &self.name)
            .field("in_flight", &self.episodes.len())
            .finish()
    }
}

/// The failure as the engine's caller would describe it: the raw signals only (HTTP status,
/// errno name, Retry-After), so the engine's own classification is exercised; the class is
/// passed only when the file gives no raw signal at all.
pub fn to_failure(spec: &FailureSpec, retry_after: Option<f64>) -> Failure {
    let raw = spec.http_status.is_some() || spec.error_code.is_some();
    Failure {
        http_status: spec.http_status,
        error_code: spec.error_code.clone(),
        class: (!raw).then_some(spec.class),
        retry_after: retry_after.map(Duration::from_secs_f64),
        ..Failure::default()
    }
}

/// Static baselines retry until the job's deadline with delays capped at the scenario's cap; the
/// engine gets the same bounds instead of its production defaults (3-5 attempts), or every give-up
/// it makes would be charged the whole deadline: attempts are bounded only by the deadline, and no
/// class's delay cap is below the baselines' cap. Strategies, priors and learning stay default.
pub fn bound_like_the_baselines(policy: &mut Policy, scenario: &Scenario) {
    let cap = Duration::from_secs_f64(scenario.static_cap);
    for cp in policy.classes.values_mut() {
        if cp.disposition == smartretry::Disposition::Retry {
            cp.max_attempts = u32::MAX;
            cp.max_delay = cp.max_delay.max(cap);
        }
    }
}

impl EnginePolicy {
    /// An engine with the default policy (or `base`), the scenario's deadline and c (so it
    /// optimises the same J the simulator scores), seeded for this run.
    pub fn new(
        name: &str,
        scenario: &Scenario,
        seed: u64,
        epoch: f64,
        learning: bool,
        base: Option<&Policy>,
    ) -> Result<EnginePolicy> {
        let clock = ManualClock::shared(Duration::from_secs_f64(epoch));
        let mut policy = base
            .cloned()
            .unwrap_or_else(|| Policy::preset(scenario.preset));
        if base.is_none() {
            bound_like_the_baselines(&mut policy, scenario);
        }
        policy.learning.enabled = learning;
        policy.learning.failure_cost = Some(Duration::from_secs_f64(scenario.c));
        policy.deadline = Some(Duration::from_secs_f64(scenario.deadline));
        policy.seed = Some(seed);
        let shared: SharedClock = clock.clone();
        let engine = Engine::with_clock(policy, shared)?;
        Ok(EnginePolicy {
            name: name.to_string(),
            engine,
            clock,
            epoch,
            episodes: HashMap::new(),
            why: std::collections::BTreeMap::new(),
        })
    }

    /// The engine under test (the learned-tier runs load a model and set its rollout on it).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Rename the policy (in tables).
    pub fn renamed(mut self, name: &str) -> EnginePolicy {
        self.name = name.to_string();
        self
    }

    fn at(&self, now: f64) {
        self.clock
            .set(Duration::from_secs_f64(self.epoch + now.max(0.0)));
    }
}

impl SimPolicy for EnginePolicy {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn on_start(&mut self, job: &Job, now: f64) {
        self.at(now);
        // Keys and tenants come from our own scenario files and are valid; an invalid one would
        // leave the job without an episode and it would give up at its first failure.
        let begun = match job.queue_depth {
            // The caller's context, where the scenario gives one (scenario 19).
            Some(depth) => {
                let ctx = smartretry::AttemptContext {
                    queue_depth: Some(depth),
                    ..Default::default()
                };
                self.engine
                    .begin_with_context(&job.queue, job.tenant.as_deref(), ctx)
            }
            None => self.engine.begin(&job.queue, job.tenant.as_deref()),
        };
        if let Ok(ep) = begun {
            self.episodes.insert(job.id, ep);
        }
    }

    fn on_failure(&mut self, ctx: &FailureCtx<'_>) -> Decision {
        self.at(ctx.now);
        let Some(ep) = self.episodes.get_mut(&ctx.job.id) else {
            return Decision::GiveUp;
        };
        let failure = to_failure(&ctx.failure.spec, ctx.failure.retry_after);
        let Ok(rec) = self.engine.on_failure(ep, &failure) else {
            self.episodes.remove(&ctx.job.id);
            return Decision::GiveUp;
        };
        // The reason's variant name (its Debug form up to the first brace or space).
        let reason = format!("{:?}", rec.reason);
        let kind = reason.split([' ', '{', '(']).next().unwrap_or("");
        let key = format!("{}: {} / {kind}", rec.action.as_str(), rec.tier.as_str());
        *self.why.entry(key).or_insert(0) += 1;
        match rec.action {
            Action::Retry => Decision::Retry(rec.delay.as_secs_f64()),
            Action::GiveUp | Action::Escalate => {
                self.episodes.remove(&ctx.job.id);
                Decision::GiveUp
            }
        }
    }

    fn on_success(&mut self, job: &Job, now: f64) {
        self.at(now);
        if let Some(mut ep) = self.episodes.remove(&job.id) {
            let _ = self.engine.on_success(&mut ep);
        }
    }

    fn on_abandon(&mut self, job: &Job, now: f64) {
        self.at(now);
        if let Some(mut ep) = self.episodes.remove(&job.id) {
            self.engine.abandon(&mut ep);
        }
    }

    fn diagnostics(&self) -> Vec<(String, u64)> {
        self.why.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }

    fn learned_curve(&self, queue: &str, class: ErrorClass) -> Option<Vec<(f64, f64)>> {
        let c = self.engine.recovery_curve(queue, None, class)?;
        Some(c.into_iter().map(|(t, p)| (t.as_secs_f64(), p)).collect())
    }
}
