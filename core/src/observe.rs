//! Observability: an observer hook for attempt / decision / success / exhausted / breaker /
//! clamp events, and counters kept per thread so that counting never serialises two cores.

mod schema;
#[cfg(test)]
mod tests;

pub use schema::{ClampRecord, EventRecord};

use crate::breaker::BreakerState;
use crate::class::ErrorClass;
use crate::recommendation::{Clamp, Recommendation};
use serde::{Deserialize, Serialize};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

/// Something that happened in the engine.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// An attempt failed and was recorded.
    Attempt {
        /// The episode's key (the queue or operation being retried).
        key: &'a str,
        /// The tenant, if the episode has one.
        tenant: Option<&'a str>,
        /// The failure's class.
        class: ErrorClass,
        /// Attempts made so far, this one included.
        attempt: u32,
        /// Time since the episode's first failure.
        elapsed: Duration,
    },
    /// A retry (or stop) was decided.
    Decision {
        /// The episode's key.
        key: &'a str,
        /// The tenant, if the episode has one.
        tenant: Option<&'a str>,
        /// What was decided.
        recommendation: &'a Recommendation,
    },
    /// An attempt succeeded.
    Success {
        /// The episode's key.
        key: &'a str,
        /// The tenant, if the episode has one.
        tenant: Option<&'a str>,
        /// The number of the attempt that succeeded.
        attempts: u32,
        /// Time since the episode's first failure.
        elapsed: Duration,
    },
    /// The episode ended without success (give up or escalate).
    Exhausted {
        /// The episode's key.
        key: &'a str,
        /// The tenant, if the episode has one.
        tenant: Option<&'a str>,
        /// The final decision (give up or escalate).
        recommendation: &'a Recommendation,
    },
    /// A dependency's circuit breaker changed state.
    Breaker {
        /// The dependency the breaker guards.
        dependency: &'a str,
        /// The state before the change.
        from: BreakerState,
        /// The state after it.
        to: BreakerState,
    },
    /// A guardrail changed a decision.
    Clamp {
        /// The episode's key.
        key: &'a str,
        /// The guardrail and the delay before and after it.
        clamp: &'a Clamp,
    },
    /// The learned tier changed on a queue: a rollout mode set, promoted or rolled back, or a
    /// decision that fell back because the model failed.
    Learned {
        /// The queue.
        key: &'a str,
        /// "mode", "promotion", "rollback" or "fallback".
        change: &'static str,
        /// The mode before (for a fallback: "learned").
        from: &'a str,
        /// The mode after (for a fallback: why the model failed).
        to: &'a str,
    },
}

/// Receives engine events. Called synchronously on the deciding thread: keep it quick.
pub trait Observer: Send + Sync {
    /// Called once for every event, on the thread that caused it.
    fn on_event(&self, event: &Event<'_>);
}

impl<F: Fn(&Event<'_>) + Send + Sync> Observer for F {
    fn on_event(&self, event: &Event<'_>) {
        self(event)
    }
}

/// Counter names, in `Stats` order.
#[derive(Debug, Clone, Copy)]
#[repr(usize)]
pub(crate) enum Counter {
    Episodes,
    Failures,
    Successes,
    SuccessesAfterRetry,
    FirstRetrySuccesses,
    Retries,
    GiveUps,
    Escalations,
    Clamps,
    BudgetDenials,
    BreakerDelays,
    Heuristic,
    Bayesian,
    Operator,
    Guardrail,
    Fallbacks,
    Portfolio,
}

const COUNTERS: usize = 17;
const STRIPES: usize = 16;

#[repr(align(128))]
#[derive(Default)]
struct Stripe([AtomicU64; COUNTERS]);

/// Counters striped per thread: each thread adds to its own cache line.
#[derive(Default)]
pub(crate) struct Counters {
    stripes: Box<[Stripe; STRIPES]>,
}

fn stripe_index() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local!(static INDEX: Cell<usize> = const { Cell::new(usize::MAX) });
    INDEX.with(|i| {
        if i.get() == usize::MAX {
            i.set(NEXT.fetch_add(1, Ordering::Relaxed) % STRIPES);
        }
        i.get()
    })
}

impl Counters {
    #[inline]
    pub(crate) fn add(&self, c: Counter) {
        self.stripes[stripe_index()].0[c as usize].fetch_add(1, Ordering::Relaxed);
    }

    fn sum(&self, c: Counter) -> u64 {
        self.stripes
            .iter()
            .map(|s| s.0[c as usize].load(Ordering::Relaxed))
            .sum()
    }

    pub(crate) fn reset(&self) {
        for s in self.stripes.iter() {
            for c in &s.0 {
                c.store(0, Ordering::Relaxed);
            }
        }
    }

    pub(crate) fn stats(&self, models: usize) -> Stats {
        use Counter::*;
        let successes = self.sum(Successes);
        let episodes = self.sum(Episodes);
        Stats {
            episodes,
            failures: self.sum(Failures),
            successes,
            successes_after_retry: self.sum(SuccessesAfterRetry),
            first_retry_successes: self.sum(FirstRetrySuccesses),
            retries: self.sum(Retries),
            give_ups: self.sum(GiveUps),
            escalations: self.sum(Escalations),
            guardrail_clamps: self.sum(Clamps),
            budget_denials: self.sum(BudgetDenials),
            breaker_delays: self.sum(BreakerDelays),
            decisions_heuristic: self.sum(Heuristic),
            decisions_bayesian: self.sum(Bayesian),
            decisions_operator: self.sum(Operator),
            decisions_guardrail: self.sum(Guardrail),
            fallbacks: self.sum(Fallbacks),
            decisions_portfolio: self.sum(Portfolio),
            models,
        }
    }
}

/// Engine-wide counters, for dashboards. Its JSON (these snake_case keys, integers) is the one
/// stats schema every binding returns as-is; see `docs/naming.md`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Stats {
    /// Failure episodes begun (first failures).
    pub episodes: u64,
    /// Failed attempts recorded.
    pub failures: u64,
    /// Successful attempts recorded.
    pub successes: u64,
    /// Successes that came after at least one retry.
    pub successes_after_retry: u64,
    /// Successes on the first retry of an episode.
    pub first_retry_successes: u64,
    /// Retries recommended.
    pub retries: u64,
    /// Give-up decisions.
    pub give_ups: u64,
    /// Escalate decisions.
    pub escalations: u64,
    /// Decisions a guardrail changed.
    pub guardrail_clamps: u64,
    /// Retries stopped because a retry budget (queue or tenant) was spent.
    pub budget_denials: u64,
    /// Retries pushed later by an open circuit breaker.
    pub breaker_delays: u64,
    /// Decisions made by the heuristic tier.
    pub decisions_heuristic: u64,
    /// Decisions made by the learned (Bayesian) tier.
    pub decisions_bayesian: u64,
    /// Decisions set by an operator override.
    pub decisions_operator: u64,
    /// Decisions where a guardrail overruled every tier.
    pub decisions_guardrail: u64,
    /// Decisions that fell back to the heuristic while a model was still learning.
    pub fallbacks: u64,
    /// Learned models held.
    pub models: usize,
    /// Decisions where the portfolio kept the class's own schedule over the learned plan.
    pub decisions_portfolio: u64,
}

impl Stats {
    /// The counters as one JSON object, in the shared schema.
    pub fn to_json_value(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}
