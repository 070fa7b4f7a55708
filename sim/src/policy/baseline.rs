//! The static baselines: what people use today. All backoff math comes from
//! `smartretry::Strategy`, so the simulator measures the same code the engine falls back to.
//! They are blind on purpose: no error classification, no Retry-After, retry until the deadline.

use super::{Decision, FailureCtx, SimPolicy};
use rand::rngs::SmallRng;
use rand::SeedableRng;
use smartretry::Strategy;
use std::time::Duration;

/// Never retries.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoRetry;

impl SimPolicy for NoRetry {
    fn name(&self) -> String {
        "no-retry".into()
    }

    fn on_failure(&mut self, _ctx: &FailureCtx<'_>) -> Decision {
        Decision::GiveUp
    }
}

/// A static strategy with a cap, retried until the deadline.
#[derive(Debug, Clone)]
pub struct StaticPolicy {
    name: String,
    strategy: Strategy,
    cap: Duration,
    rng: SmallRng,
}

impl StaticPolicy {
    pub fn new(name: &str, strategy: Strategy, cap: Duration, seed: u64) -> StaticPolicy {
        StaticPolicy {
            name: name.to_string(),
            strategy,
            cap,
            rng: SmallRng::seed_from_u64(seed),
        }
    }
}

impl SimPolicy for StaticPolicy {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn on_failure(&mut self, ctx: &FailureCtx<'_>) -> Decision {
        let prev = Duration::from_secs_f64(ctx.previous_delay.max(0.0));
        let d = self
            .strategy
            .delay(ctx.retry, prev, self.cap, &mut self.rng);
        Decision::Retry(d.as_secs_f64())
    }
}
