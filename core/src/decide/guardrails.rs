//! The guardrails, applied last and always, in this order. Each either passes the delay on
//! (recording a clamp when it changed it) or stops the episode with its reason.
//!
//! 1. max delay, 2. min delay, 3. Retry-After floor, 4. circuit breaker (no attempt while open),
//! 5. deadline (no attempt after it), 6. retry budgets (queue and tenant, taken together).

use super::{Context, Mode};
use crate::engine::Engine;
use crate::episode::Episode;
use crate::observe::Counter;
use crate::recommendation::{Clamp, Guardrail, Reason, Recommendation, Tier};
use std::time::Duration;

/// What one guardrail did.
enum Step {
    Pass(Duration),
    Stop,
}

type Check = fn(&Engine, &Context<'_>, &mut Episode, Duration, &mut Recommendation) -> Step;

const ORDER: [Check; 6] = [
    max_delay,
    min_delay,
    retry_after,
    circuit_breaker,
    deadline,
    budget,
];

impl Engine {
    /// Run every guardrail on the proposed delay: the final delay, or None to stop.
    pub(super) fn apply_guardrails(
        &self,
        cx: &Context<'_>,
        ep: &mut Episode,
        proposed: Duration,
        rec: &mut Recommendation,
    ) -> Option<Duration> {
        let mut delay = proposed;
        for check in ORDER {
            match check(self, cx, ep, delay, rec) {
                Step::Pass(d) => delay = d,
                Step::Stop => return None,
            }
        }
        Some(delay)
    }
}

fn clamp(rec: &mut Recommendation, guardrail: Guardrail, from: Duration, to: Duration) -> Duration {
    rec.clamps.push(Clamp {
        guardrail,
        from,
        to,
    });
    to
}

fn stop(rec: &mut Recommendation, guardrail: Guardrail, from: Duration, reason: Reason) -> Step {
    clamp(rec, guardrail, from, Duration::ZERO);
    rec.tier = Tier::Guardrail;
    rec.reason = reason;
    Step::Stop
}

fn max_delay(
    _: &Engine,
    cx: &Context<'_>,
    _: &mut Episode,
    d: Duration,
    rec: &mut Recommendation,
) -> Step {
    Step::Pass(if d > cx.cp.max_delay {
        clamp(rec, Guardrail::MaxDelay, d, cx.cp.max_delay)
    } else {
        d
    })
}

fn min_delay(
    _: &Engine,
    cx: &Context<'_>,
    _: &mut Episode,
    d: Duration,
    rec: &mut Recommendation,
) -> Step {
    Step::Pass(if d < cx.cp.min_delay {
        clamp(rec, Guardrail::MinDelay, d, cx.cp.min_delay)
    } else {
        d
    })
}

fn retry_after(
    _: &Engine,
    cx: &Context<'_>,
    _: &mut Episode,
    d: Duration,
    rec: &mut Recommendation,
) -> Step {
    match cx.retry_after().filter(|w| *w > d) {
        Some(wait) => Step::Pass(clamp(rec, Guardrail::RetryAfter, d, wait)),
        None => Step::Pass(d),
    }
}

fn circuit_breaker(
    engine: &Engine,
    cx: &Context<'_>,
    ep: &mut Episode,
    d: Duration,
    rec: &mut Recommendation,
) -> Step {
    let dependency = cx.failure.dependency.as_deref().unwrap_or(&ep.key);
    let live = cx.mode == Mode::Live;
    let admitted =
        engine.with_breaker(cx.policy, dependency, |b| b.admit(cx.now, cx.now + d, live));
    if let Some(adm) = admitted {
        let wait = adm.not_before.saturating_sub(cx.now);
        if wait > d {
            if live {
                engine.count(Counter::BreakerDelays);
            }
            return Step::Pass(clamp(rec, Guardrail::CircuitBreaker, d, wait));
        }
    }
    Step::Pass(d)
}

fn deadline(
    _: &Engine,
    cx: &Context<'_>,
    _: &mut Episode,
    d: Duration,
    rec: &mut Recommendation,
) -> Step {
    match cx.policy.deadline {
        Some(deadline) if cx.elapsed + d > deadline => {
            stop(rec, Guardrail::Deadline, d, Reason::Deadline { deadline })
        }
        _ => Step::Pass(d),
    }
}

fn budget(
    engine: &Engine,
    cx: &Context<'_>,
    ep: &mut Episode,
    d: Duration,
    rec: &mut Recommendation,
) -> Step {
    match engine.spend_budget(cx.policy, ep, cx.class, cx.now, cx.mode) {
        Some(tenant) => {
            if cx.mode == Mode::Live {
                engine.count(Counter::BudgetDenials);
            }
            let g = if tenant {
                Guardrail::TenantBudget
            } else {
                Guardrail::Budget
            };
            stop(rec, g, d, Reason::Budget { tenant })
        }
        None => Step::Pass(d),
    }
}

impl Engine {
    /// Take one retry from the queue's and tenant's budgets together (a refusal by either charges
    /// neither; a dry run charges nothing). Returns which one refused (true = tenant), or None.
    fn spend_budget(
        &self,
        policy: &crate::policy::Policy,
        ep: &mut Episode,
        class: crate::ErrorClass,
        now: Duration,
        mode: Mode,
    ) -> Option<bool> {
        match self.spend_retry(policy, ep, class, now, mode == Mode::Dry) {
            Ok(costs) => {
                if mode == Mode::Live {
                    ep.retry_cost = costs;
                }
                None
            }
            Err(refused) => Some(refused == crate::budget::RefusedBy::Tenant),
        }
    }
}
