//! Deciding: propose a delay from the highest tier that may decide (operator override,
//! Retry-After, learned plan or portfolio schedule, heuristic), then apply every guardrail, last
//! and always, recording each clamp.

use crate::class::Disposition;
use crate::classify::Matched;
use crate::engine::Engine;
use crate::episode::Episode;
use crate::failure::Failure;
use crate::learn::grid::{bucket_of, edge, BUCKETS};
use crate::learn::planner::{RETRY_LAYERS, STOP};
use crate::learn::portfolio::Arm;
use crate::observe::{Counter, Event};
use crate::policy::{ClassPolicy, Policy};
use crate::recommendation::{Action, Alternative, Clamp, Guardrail, Reason, Recommendation, Tier};
use crate::record::Mode;
use crate::strategy::Strategy;
use rand::Rng;
use std::time::Duration;

/// What the proposing tier said, before guardrails.
struct Proposal {
    delay: Duration,
    tier: Tier,
    reason: Reason,
    stop: bool,
}

impl Engine {
    pub(crate) fn decide(
        &self,
        ep: &mut Episode,
        failure: &Failure,
        classification: &Matched,
        now: Duration,
        mode: Mode,
    ) -> Recommendation {
        let policy = self.inner.policy.load();
        let overrides = self.inner.overrides.load();
        let class = classification.class;
        let base = policy.class(class);
        let (cp, fixed) = overrides.resolve(&base, &ep.key, ep.tenant.as_deref(), class);
        let elapsed = now.saturating_sub(ep.origin.unwrap_or(now));
        let mut rec = Recommendation {
            action: Action::Retry,
            delay: Duration::ZERO,
            class,
            tier: Tier::Heuristic,
            success_probability: None,
            confidence: None,
            reason: Reason::Heuristic {
                class,
                strategy: cp.strategy.name(),
                retry: ep.failures,
            },
            clamps: Vec::new(),
            alternatives: Vec::new(),
            attempt: ep.attempts,
            elapsed,
        };
        if cp.disposition != Disposition::Retry {
            let rule = self
                .inner
                .classifier
                .load()
                .rule_name(*classification)
                .to_string();
            let (action, reason) = match cp.disposition {
                Disposition::Escalate => (Action::Escalate, Reason::NeedsHuman { rule }),
                _ => (Action::GiveUp, Reason::Permanent { class, rule }),
            };
            rec.reason = reason;
            return self.finish(ep, rec, action, mode, false);
        }
        if ep.attempts >= cp.max_attempts {
            rec.tier = Tier::Guardrail;
            rec.reason = Reason::MaxAttempts {
                attempts: ep.attempts,
                max: cp.max_attempts,
            };
            return self.finish(ep, rec, Action::GiveUp, mode, true);
        }
        let retry_after = failure.retry_after.filter(|_| cp.honor_retry_after);
        let proposal = if let Some(d) = fixed {
            Proposal {
                delay: d,
                tier: Tier::Operator,
                reason: Reason::Override { delay: d },
                stop: false,
            }
        } else if let Some(wait) = retry_after {
            Proposal {
                delay: wait,
                tier: Tier::Heuristic,
                reason: Reason::RetryAfter { wait },
                stop: false,
            }
        } else {
            self.propose(ep, &cp, &policy, elapsed, &mut rec, mode)
        };
        rec.tier = proposal.tier;
        rec.reason = proposal.reason;
        if proposal.stop {
            return self.finish(ep, rec, Action::GiveUp, mode, true);
        }
        let mut delay = proposal.delay;
        let clamp = |rec: &mut Recommendation, g: Guardrail, from: Duration, to: Duration| {
            rec.clamps.push(Clamp {
                guardrail: g,
                from,
                to,
            });
            to
        };
        if delay > cp.max_delay {
            delay = clamp(&mut rec, Guardrail::MaxDelay, delay, cp.max_delay);
        }
        if delay < cp.min_delay {
            delay = clamp(&mut rec, Guardrail::MinDelay, delay, cp.min_delay);
        }
        if let Some(wait) = retry_after.filter(|w| *w > delay) {
            delay = clamp(&mut rec, Guardrail::RetryAfter, delay, wait);
        }
        let dependency = failure.dependency.as_deref().unwrap_or(&ep.key);
        if let Some(adm) = self.with_breaker(&policy, dependency, |b| {
            b.admit(now, now + delay, mode == Mode::Live)
        }) {
            let wait = adm.not_before.saturating_sub(now);
            if wait > delay {
                delay = clamp(&mut rec, Guardrail::CircuitBreaker, delay, wait);
                if mode == Mode::Live {
                    self.count(Counter::BreakerDelays);
                }
            }
        }
        if let Some(deadline) = policy.deadline {
            if elapsed + delay > deadline {
                clamp(&mut rec, Guardrail::Deadline, delay, Duration::ZERO);
                rec.tier = Tier::Guardrail;
                rec.reason = Reason::Deadline { deadline };
                return self.finish(ep, rec, Action::GiveUp, mode, true);
            }
        }
        if let Some(tenant) = self.spend_budget(&policy, ep, class, now, mode) {
            clamp(
                &mut rec,
                if tenant {
                    Guardrail::TenantBudget
                } else {
                    Guardrail::Budget
                },
                delay,
                Duration::ZERO,
            );
            rec.tier = Tier::Guardrail;
            rec.reason = Reason::Budget { tenant };
            if mode == Mode::Live {
                self.count(Counter::BudgetDenials);
            }
            return self.finish(ep, rec, Action::GiveUp, mode, true);
        }
        rec.delay = delay;
        // Estimates are made for the proposed delay; a guardrail that moved it needs new ones.
        if rec.success_probability.is_none() || !rec.clamps.is_empty() {
            self.estimate(ep, &policy, elapsed, delay, &mut rec);
        }
        if mode == Mode::Live {
            ep.last_delay = delay;
        }
        self.finish(ep, rec, Action::Retry, mode, false)
    }

    /// The learned tiers' (or the heuristic's) proposal.
    fn propose(
        &self,
        ep: &mut Episode,
        cp: &ClassPolicy,
        policy: &Policy,
        elapsed: Duration,
        rec: &mut Recommendation,
        mode: Mode,
    ) -> Proposal {
        let class = rec.class;
        let plain = |ep: &mut Episode| Proposal {
            delay: heuristic_delay(cp, &cp.strategy, true, ep),
            tier: Tier::Heuristic,
            reason: heuristic_reason(cp, class, ep.failures),
            stop: false,
        };
        let learning = policy.learning.enabled && cp.learn;
        let (Some(models), Some(ep_class), true) = (&ep.models, ep.class, learning) else {
            return plain(ep);
        };
        let primary = models.primary.clone();
        let priors = self.inner.priors.load();
        let prior = &priors[ep_class as usize];
        let cost = policy.learning.failure_cost.as_secs_f64();
        let horizon = policy.horizon_secs();
        let mut m = primary.model.lock();
        let episodes = m.episodes();
        let needed = policy.learning.min_episodes;
        if episodes < f64::from(needed) {
            if mode == Mode::Live {
                self.count(Counter::Fallbacks);
            }
            return Proposal {
                reason: Reason::Learning {
                    class,
                    strategy: cp.strategy.name(),
                    episodes,
                    needed,
                },
                ..plain(ep)
            };
        }
        let t = elapsed.as_secs_f64();
        let from = bucket_of(t);
        let retries_left = cp.max_attempts.saturating_sub(ep.attempts).max(1) as usize;
        let arm = ep.arm.unwrap_or(Arm::Heuristic);
        let mean_cost = m.portfolio().mean(arm);
        let plan = m.plan(prior, cost, horizon);
        let mut k = plan.next[from][retries_left.min(RETRY_LAYERS) - 1] as usize;
        let exploring = mode == Mode::Live
            && arm == Arm::Learned
            && k != STOP as usize
            && k > from + 1
            && ep.rng.random::<f64>() < policy.learning.exploration;
        if exploring {
            // One to four grid steps: up to half the planned wait.
            k = k
                .saturating_sub(ep.rng.random_range(1..=4usize))
                .max(from + 1);
        }
        let learned_at = (k != STOP as usize).then(|| edge(k));
        let Some(strategy) = arm.strategy(&cp.strategy) else {
            let Some(at) = learned_at else {
                return Proposal {
                    delay: Duration::ZERO,
                    tier: Tier::Bayesian,
                    reason: Reason::PlanStops { episodes },
                    stop: true,
                };
            };
            let p = plan.success_probability(t, at);
            for alt in [k.saturating_sub(2), (k + 2).min(BUCKETS)] {
                if alt > from && alt != k {
                    rec.alternatives.push(Alternative {
                        delay: Duration::from_secs_f64((edge(alt) - t).max(0.0)),
                        success_probability: plan.success_probability(t, edge(alt)),
                    });
                }
            }
            rec.success_probability = Some(p);
            rec.confidence = Some(m.confidence(prior, from, k));
            return Proposal {
                delay: Duration::from_secs_f64((at - t).max(0.0)),
                tier: Tier::Bayesian,
                reason: Reason::Learned {
                    probability: p,
                    at: Duration::from_secs_f64(at),
                    episodes,
                    exploring,
                },
                stop: false,
            };
        };
        let delay = heuristic_delay(cp, &strategy, arm == Arm::Heuristic, ep);
        let at = (elapsed + delay).as_secs_f64();
        if let Some(learned) = learned_at {
            rec.alternatives.push(Alternative {
                delay: Duration::from_secs_f64((learned - t).max(0.0)),
                success_probability: plan.success_probability(t, learned),
            });
        }
        rec.success_probability = Some(plan.success_probability(t, at));
        rec.confidence = Some(m.confidence(prior, from, bucket_of(at) + 1));
        drop(m);
        let reason = match mean_cost {
            Some(mean_cost) if policy.learning.portfolio => Reason::Portfolio {
                class,
                arm: arm.name(),
                mean_cost,
            },
            _ => heuristic_reason(cp, class, ep.failures),
        };
        Proposal {
            delay,
            tier: Tier::Heuristic,
            reason,
            stop: false,
        }
    }

    /// Fill success probability and confidence from the model, when one exists.
    fn estimate(
        &self,
        ep: &Episode,
        policy: &Policy,
        elapsed: Duration,
        delay: Duration,
        rec: &mut Recommendation,
    ) {
        let (Some(models), Some(class)) = (&ep.models, ep.class) else {
            return;
        };
        if !policy.learning.enabled {
            return;
        }
        let priors = self.inner.priors.load();
        let prior = &priors[class as usize];
        let horizon = policy.horizon_secs();
        let mut m = models.primary.model.lock();
        let (t, at) = (elapsed.as_secs_f64(), (elapsed + delay).as_secs_f64());
        let plan = m.plan(prior, policy.learning.failure_cost.as_secs_f64(), horizon);
        rec.success_probability = Some(plan.success_probability(t, at));
        let from = bucket_of(t);
        rec.confidence = Some(m.confidence(prior, from, bucket_of(at) + 1));
    }

    /// Spend one retry from the queue's and tenant's budgets, both or neither. Returns which one
    /// refused (true = tenant), or None if both allowed (or none is configured).
    fn spend_budget(
        &self,
        policy: &Policy,
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

    /// Count, notify, and end the episode unless retrying.
    fn finish(
        &self,
        ep: &mut Episode,
        mut rec: Recommendation,
        action: Action,
        mode: Mode,
        guardrail_stop: bool,
    ) -> Recommendation {
        rec.action = action;
        if action != Action::Retry {
            rec.delay = Duration::ZERO;
        }
        if mode == Mode::Dry {
            return rec;
        }
        self.count(match rec.tier {
            Tier::Heuristic => Counter::Heuristic,
            Tier::Bayesian => Counter::Bayesian,
            Tier::Operator => Counter::Operator,
            Tier::Guardrail => Counter::Guardrail,
        });
        self.count(match action {
            Action::Retry => Counter::Retries,
            Action::GiveUp => Counter::GiveUps,
            Action::Escalate => Counter::Escalations,
        });
        if !rec.clamps.is_empty() {
            self.count(Counter::Clamps);
            for c in &rec.clamps {
                self.emit(Event::Clamp {
                    key: &ep.key,
                    clamp: c,
                });
            }
        }
        self.emit(Event::Decision {
            key: &ep.key,
            tenant: ep.tenant.as_deref(),
            recommendation: &rec,
        });
        if action != Action::Retry {
            ep.finished = true;
            if guardrail_stop {
                self.score_give_up(ep);
            }
            self.emit(Event::Exhausted {
                key: &ep.key,
                tenant: ep.tenant.as_deref(),
                recommendation: &rec,
            });
        }
        rec
    }
}

/// A static schedule's delay for the episode's next retry, capped by the class's max delay. The
/// class's own schedule (`own`) also follows its "first retry at once" rule.
fn heuristic_delay(cp: &ClassPolicy, strategy: &Strategy, own: bool, ep: &mut Episode) -> Duration {
    let immediate_first = own && cp.first_retry_immediate;
    if immediate_first && ep.failures <= 1 {
        return Duration::ZERO;
    }
    let retry = if immediate_first {
        ep.failures - 1
    } else {
        ep.failures
    };
    strategy.delay(retry, ep.last_delay, cp.max_delay, &mut ep.rng)
}

fn heuristic_reason(cp: &ClassPolicy, class: crate::ErrorClass, failures: u32) -> Reason {
    if cp.first_retry_immediate && failures <= 1 {
        Reason::FirstRetryImmediate { class }
    } else {
        Reason::Heuristic {
            class,
            strategy: cp.strategy.name(),
            retry: failures,
        }
    }
}
