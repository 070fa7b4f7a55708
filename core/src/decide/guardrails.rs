//! The guardrails, applied last and always, in this order. Each either passes the delay on
//! (recording a clamp when it changed it) or stops the episode with its reason.
//!
//! 1. max delay, 2. min delay, 3. Retry-After floor, 4. circuit breaker (no attempt while open),
//! 5. deadline (no attempt after it), 6. retry budgets (queue and tenant, taken together).
//!
//! Between 3 and 4: the adaptive rate limiter's next token (a floor, like Retry-After; the
//! delay is the larger of the two bounds, never their sum, and the clamp names which one bound).

use super::{Context, Mode};
use crate::engine::Engine;
use crate::episode::EpisodeView;
use crate::observe::Counter;
use crate::recommendation::{Clamp, Guardrail, Reason, Recommendation, Tier};
use crate::strategy::CAP_SPREAD;
use std::time::Duration;

/// What one guardrail did.
enum Step {
    Pass(Duration),
    Stop,
}

/// What every guardrail reads and may change.
struct Gate<'g, 'a> {
    engine: &'g Engine,
    cx: &'g Context<'a>,
    ep: EpisodeView<'g>,
    rec: &'g mut Recommendation,
}

type Check = fn(&mut Gate<'_, '_>, Duration) -> Step;

const ORDER: [Check; 7] = [
    max_delay,
    min_delay,
    retry_after,
    rate_limit,
    circuit_breaker,
    deadline,
    budget,
];

impl Engine {
    /// Run every guardrail on the proposed delay: the final delay, or None to stop.
    pub(super) fn apply_guardrails(
        &self,
        cx: &Context<'_>,
        ep: &mut EpisodeView<'_>,
        proposed: Duration,
        rec: &mut Recommendation,
    ) -> Option<Duration> {
        let mut gate = Gate {
            engine: self,
            cx,
            ep: ep.reborrow(),
            rec,
        };
        let mut delay = proposed;
        for check in ORDER {
            match check(&mut gate, delay) {
                Step::Pass(d) => delay = d,
                Step::Stop => return None,
            }
        }
        Some(delay)
    }
}

impl Gate<'_, '_> {
    fn clamp(&mut self, guardrail: Guardrail, from: Duration, to: Duration) -> Duration {
        self.rec.clamps.push(Clamp {
            guardrail,
            from,
            to,
        });
        to
    }

    fn stop(&mut self, guardrail: Guardrail, from: Duration, reason: Reason) -> Step {
        self.clamp(guardrail, from, Duration::ZERO);
        self.rec.tier = Tier::Guardrail;
        self.rec.reason = reason;
        Step::Stop
    }
}

/// A delay beyond `max_delay` lands in the cap's top fifth, drawn uniformly, not on the cap
/// itself: every client whose plan waits past the cap would otherwise retry at the same moment,
/// and in one outage they all do. An operator's fixed delay is clamped exactly (it is chosen
/// knowingly and never jittered).
fn max_delay(g: &mut Gate<'_, '_>, d: Duration) -> Step {
    let max = g.cx.cp.max_delay;
    Step::Pass(if d > max {
        let to = if g.rec.tier == Tier::Operator {
            max
        } else {
            let u: f64 = rand::Rng::random(&mut g.ep.rng);
            max.mul_f64(1.0 - CAP_SPREAD * u)
        };
        g.clamp(Guardrail::MaxDelay, d, to)
    } else {
        d
    })
}

fn min_delay(g: &mut Gate<'_, '_>, d: Duration) -> Step {
    let min = g.cx.cp.min_delay;
    Step::Pass(if d < min {
        g.clamp(Guardrail::MinDelay, d, min)
    } else {
        d
    })
}

fn retry_after(g: &mut Gate<'_, '_>, d: Duration) -> Step {
    match g.cx.retry_after().filter(|w| *w > d) {
        Some(wait) => Step::Pass(g.clamp(Guardrail::RetryAfter, d, wait)),
        None => Step::Pass(d),
    }
}

fn rate_limit(g: &mut Gate<'_, '_>, d: Duration) -> Step {
    let cx = g.cx;
    // Every decision passes here: without a rate limit, skip naming the limiter to look up.
    if cx.policy.rate_limit.is_none() {
        return Step::Pass(d);
    }
    let dependency = cx.failure.dependency.as_deref();
    let wait = g
        .engine
        .rate_limit_wait(cx.policy, &g.ep.id.key, dependency, cx.now);
    Step::Pass(if wait > d {
        g.clamp(Guardrail::RateLimit, d, wait)
    } else {
        d
    })
}

fn circuit_breaker(g: &mut Gate<'_, '_>, d: Duration) -> Step {
    let cx = g.cx;
    // Every decision passes here: without breakers, skip naming the breaker to look up.
    if cx.policy.breaker.is_none() {
        return Step::Pass(d);
    }
    let dependency = cx.failure.dependency.as_deref().unwrap_or(&g.ep.id.key);
    let live = cx.mode == Mode::Live;
    let admitted = g
        .engine
        .with_breaker(cx.policy, dependency, |b| b.admit(cx.now, cx.now + d, live));
    if let Some(adm) = admitted {
        let wait = adm.not_before.saturating_sub(cx.now);
        if wait > d {
            if live {
                g.engine.count(Counter::BreakerDelays);
            }
            return Step::Pass(g.clamp(Guardrail::CircuitBreaker, d, wait));
        }
    }
    Step::Pass(d)
}

fn deadline(g: &mut Gate<'_, '_>, d: Duration) -> Step {
    match g.cx.deadline {
        Some(deadline) if g.cx.elapsed + d > deadline => {
            g.stop(Guardrail::Deadline, d, Reason::Deadline { deadline })
        }
        _ => Step::Pass(d),
    }
}

fn budget(g: &mut Gate<'_, '_>, d: Duration) -> Step {
    let cx = g.cx;
    match g
        .engine
        .spend_budget(cx.policy, &mut g.ep, cx.class, cx.now, cx.mode)
    {
        Some(tenant) => {
            if cx.mode == Mode::Live {
                g.engine.count(Counter::BudgetDenials);
            }
            let guardrail = if tenant {
                Guardrail::TenantBudget
            } else {
                Guardrail::Budget
            };
            g.stop(guardrail, d, Reason::Budget { tenant })
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
        ep: &mut EpisodeView<'_>,
        class: crate::ErrorClass,
        now: Duration,
        mode: Mode,
    ) -> Option<bool> {
        match self.spend_retry(policy, ep.id, class, now, mode == Mode::Dry) {
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
