//! What the engine answers: the action, the delay, which tier decided, how likely the next attempt
//! is to succeed and how sure the engine is, the reason in one sentence, the guardrail clamps
//! applied, and the alternatives it considered. `Display` is the human sentence; serde gives JSON.

pub use crate::alternatives::Alternatives;
use crate::class::ErrorClass;
use crate::time::serde_secs;
use serde::{Serialize, Serializer};
use std::fmt;
use std::time::Duration;

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Try again after `Recommendation::delay`.
    Retry,
    /// Stop: a retry cannot help or a guardrail forbids it.
    GiveUp,
    /// Stop retrying and hand the failure to a person (captcha, consent, manual review).
    Escalate,
}

impl Action {
    /// The snake_case name used in JSON and in the C, Python and Node bindings.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Retry => "retry",
            Action::GiveUp => "give_up",
            Action::Escalate => "escalate",
        }
    }
}

/// Which tier made the decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// Classification plus the per-class static policy.
    Heuristic,
    /// The learned survival model and its planner.
    Bayesian,
    /// The portfolio kept the class's own schedule: the learned plan is not better with
    /// confidence (or its realised cost vetoed it).
    Portfolio,
    /// An operator's run-time override.
    Operator,
    /// A guardrail overruled every tier (max attempts, deadline, budget).
    Guardrail,
    /// The learned (ML) tier: a trained model of P(success | context, wait), rolled out on the
    /// queue (`learned`).
    Learned,
}

impl Tier {
    /// The snake_case name used in JSON and in the C, Python and Node bindings.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Heuristic => "heuristic",
            Tier::Bayesian => "bayesian",
            Tier::Portfolio => "portfolio",
            Tier::Operator => "operator",
            Tier::Guardrail => "guardrail",
            Tier::Learned => "learned",
        }
    }
}

/// The guardrails, as named in clamps and reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Guardrail {
    /// The class's minimum delay raised the proposed delay.
    MinDelay,
    /// The class's maximum delay lowered the proposed delay.
    MaxDelay,
    /// The server's Retry-After asked for a longer wait than proposed.
    RetryAfter,
    /// The next attempt would fall after the episode's deadline: stop.
    Deadline,
    /// The class's attempt limit is reached: stop.
    MaxAttempts,
    /// The queue's shared retry budget is spent: stop, to avoid feeding a retry storm.
    Budget,
    /// The tenant's own retry budget is spent: stop.
    TenantBudget,
    /// The dependency's circuit breaker admits no attempt sooner (it is open, or its half-open
    /// probes are taken).
    CircuitBreaker,
    /// The adaptive client rate limiter had no token for the retry sooner.
    RateLimit,
}

impl Guardrail {
    /// The snake_case name used in JSON, clamps and reason sentences.
    pub fn as_str(self) -> &'static str {
        match self {
            Guardrail::MinDelay => "min_delay",
            Guardrail::MaxDelay => "max_delay",
            Guardrail::RetryAfter => "retry_after",
            Guardrail::Deadline => "deadline",
            Guardrail::MaxAttempts => "max_attempts",
            Guardrail::Budget => "budget",
            Guardrail::TenantBudget => "tenant_budget",
            Guardrail::CircuitBreaker => "circuit_breaker",
            Guardrail::RateLimit => "rate_limit",
        }
    }
}

/// A guardrail that changed the proposed delay (or stopped the retry).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Clamp {
    /// The guardrail that acted.
    pub guardrail: Guardrail,
    /// The delay before the guardrail, in seconds in JSON.
    #[serde(with = "serde_secs")]
    pub from: Duration,
    /// The delay after it, in seconds in JSON (zero when the guardrail stopped the retry).
    #[serde(with = "serde_secs")]
    pub to: Duration,
}

/// Another delay the engine weighed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Alternative {
    /// Wait before that attempt, in seconds in JSON.
    #[serde(with = "serde_secs")]
    pub delay: Duration,
    /// Estimated chance (0..1) that an attempt after this delay succeeds.
    pub success_probability: f64,
}

/// Why, in one sentence (rendered on demand so the hot path does not format strings).
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    /// The class never succeeds on retry (a classifier rule said so): give up.
    Permanent {
        /// The failure's class.
        class: ErrorClass,
        /// Name of the classifier rule that matched.
        rule: String,
    },
    /// The failure needs a person: escalate.
    NeedsHuman {
        /// Name of the classifier rule that matched.
        rule: String,
    },
    /// The attempt limit is reached.
    MaxAttempts {
        /// Attempts made so far.
        attempts: u32,
        /// The class's limit on attempts.
        max: u32,
    },
    /// The next attempt would fall after the deadline.
    Deadline {
        /// The deadline, measured from the episode's first failure.
        deadline: Duration,
    },
    /// A retry budget is spent.
    Budget {
        /// True when it is the tenant's budget, false for the queue's shared one.
        tenant: bool,
    },
    /// The server's Retry-After sets the wait.
    RetryAfter {
        /// The wait the server asked for.
        wait: Duration,
    },
    /// The class's first retry goes at once; later ones back off.
    FirstRetryImmediate {
        /// The failure's class.
        class: ErrorClass,
    },
    /// The class's static backoff schedule chose the delay.
    Heuristic {
        /// The failure's class.
        class: ErrorClass,
        /// The backoff strategy's name (e.g. "full jitter").
        strategy: &'static str,
        /// The retry's number: the episode's failures so far.
        retry: u32,
    },
    /// The class's static schedule, stretched by the key's contention pace (`contention`): its
    /// recent retries after conflicts conflicted again.
    Paced {
        /// The failure's class.
        class: ErrorClass,
        /// The backoff strategy's name (e.g. "full jitter").
        strategy: &'static str,
        /// The retry's number: the episode's failures so far.
        retry: u32,
        /// The factor on the schedule's delay.
        factor: f64,
    },
    /// The static schedule decides while the model has too few episodes to be trusted.
    Learning {
        /// The failure's class.
        class: ErrorClass,
        /// The backoff strategy's name.
        strategy: &'static str,
        /// Episodes seen so far (a decayed, hence fractional, count).
        episodes: f64,
        /// Episodes the policy requires before the learned plan may decide.
        needed: u32,
    },
    /// The portfolio kept the class's static schedule over the learned plan.
    Portfolio {
        /// The failure's class.
        class: ErrorClass,
        /// The backoff strategy's name.
        strategy: &'static str,
        /// Mean cost per episode of the class schedule and of the learned plan, same episodes.
        class_cost: f64,
        /// Mean cost per episode of the learned plan, in seconds (NaN until an episode is scored).
        learned_cost: f64,
        /// Episodes the comparison is based on (decayed count).
        episodes: f64,
        /// The learned plan looked cheaper but its realised cost was higher.
        vetoed: bool,
        /// This episode runs the schedule not preferred (the control share).
        control: bool,
    },
    /// The learned plan's step; its chance of success is the recommendation's
    /// `success_probability` (said once, in `Recommendation`'s sentence).
    Learned {
        /// When the next attempt is planned, measured from the episode's first failure.
        at: Duration,
        /// Episodes the model learned from (decayed count).
        episodes: f64,
        /// True when this attempt probes earlier than planned, to keep learning.
        exploring: bool,
        /// The spacing when the plan polls (several attempts per bucket of its grid), else None.
        poll_every: Option<Duration>,
    },
    /// The learned plan stops: further attempts are expected to cost more than they save.
    PlanStops {
        /// Episodes the model learned from (decayed count).
        episodes: f64,
    },
    /// An operator's run-time override fixed the delay.
    Override {
        /// The delay the override sets.
        delay: Duration,
    },
    /// The learned tier's model chose the wait with the lowest expected cost.
    Model {
        /// The model's P(success) of the attempt after the wait.
        p: f64,
        /// The features that moved the decision most (largest first).
        top: Vec<crate::learned::FeatureEffect>,
    },
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 1.0 {
        format!("{:.0} ms", s * 1000.0)
    } else if s < 120.0 {
        format!("{s:.1} s")
    } else if s < 7200.0 {
        format!("{:.1} min", s / 60.0)
    } else {
        format!("{:.1} h", s / 3600.0)
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Permanent { class, rule } => {
                write!(f, "{class} is permanent (matched {rule}): retrying cannot help")
            }
            Reason::NeedsHuman { rule } => {
                write!(f, "needs a person (matched {rule}): escalate instead of retrying")
            }
            Reason::MaxAttempts { attempts, max } => {
                write!(f, "gave up after {attempts} attempts: the limit is {max}")
            }
            Reason::Deadline { deadline } => write!(
                f,
                "gave up: the next attempt would fall after the {} deadline",
                secs(*deadline)
            ),
            Reason::Budget { tenant } => write!(
                f,
                "gave up: the {} retry budget is spent, so retrying now would feed a retry storm",
                if *tenant { "tenant's" } else { "queue's" }
            ),
            Reason::RetryAfter { wait } => write!(
                f,
                "the server asked to wait {} (Retry-After): the wait is the server's, not an estimate",
                secs(*wait)
            ),
            Reason::FirstRetryImmediate { class } => {
                write!(f, "{class}: the first retry goes at once, later ones back off")
            }
            Reason::Heuristic {
                class,
                strategy,
                retry,
            } => write!(f, "{class}: {strategy} backoff, retry {retry}"),
            Reason::Paced {
                class,
                strategy,
                retry,
                factor,
            } => write!(
                f,
                "{class}: {strategy} backoff, retry {retry}, waits stretched {factor:.1}x: \
                 this key's recent retries after conflicts conflicted again"
            ),
            Reason::Learning {
                class,
                strategy,
                episodes,
                needed,
            } => write!(
                f,
                "{class}: {strategy} backoff while learning ({episodes:.0} of {needed} episodes seen)"
            ),
            Reason::Portfolio {
                class,
                strategy,
                class_cost,
                learned_cost,
                episodes,
                vetoed,
                control,
            } => {
                // Costs are unknown (NaN) until the portfolio has scored an episode.
                let c = |x: f64| {
                    if x.is_finite() {
                        secs(Duration::from_secs_f64(x.clamp(0.0, 1e9)))
                    } else {
                        "unknown".to_string()
                    }
                };
                write!(f, "{class}: {strategy} backoff, ")?;
                if *control {
                    write!(
                        f,
                        "run as a control episode (so that its cost stays measured) although the learned plan is preferred ({} vs {} per episode over {episodes:.0} episodes)",
                        c(*learned_cost),
                        c(*class_cost)
                    )
                } else if *vetoed {
                    write!(
                        f,
                        "the learned plan looked cheaper ({} vs {} per episode over {episodes:.0} episodes) but cost more when it ran",
                        c(*learned_cost),
                        c(*class_cost)
                    )
                } else {
                    write!(
                        f,
                        "the learned plan is not cheaper with confidence ({} vs {} per episode over {episodes:.0} episodes)",
                        c(*learned_cost),
                        c(*class_cost)
                    )
                }
            }
            Reason::Learned {
                at,
                episodes,
                exploring,
                poll_every,
            } => {
                write!(f, "learned from {episodes:.0} episodes: the plan ")?;
                if let Some(every) = poll_every {
                    write!(f, "polls about every {}, ", secs(*every))?;
                }
                write!(
                    f,
                    "puts the next attempt {} after the failure began{}",
                    secs(*at),
                    if *exploring { " (probing a little earlier than planned)" } else { "" }
                )
            }
            Reason::PlanStops { episodes } => write!(
                f,
                "learned from {episodes:.0} episodes: further attempts are expected to cost more than they can save"
            ),
            Reason::Override { delay } => {
                write!(f, "operator override: fixed delay of {}", secs(*delay))
            }
            Reason::Model { p, top } => {
                write!(f, "learned model: P(success) {p:.2} after this wait")?;
                for (i, e) in top.iter().enumerate() {
                    let sep = if i == 0 { "; moved most by " } else { ", " };
                    write!(f, "{sep}{} ({:+.2})", e.name, e.effect)?;
                }
                Ok(())
            }
        }
    }
}

impl Serialize for Reason {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The engine's answer to "this attempt failed: what now?".
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    /// Retry, give up or escalate.
    pub action: Action,
    /// Wait this long before the next attempt (zero unless retrying).
    #[serde(with = "serde_secs")]
    pub delay: Duration,
    /// The class the failure was classified as.
    pub class: ErrorClass,
    /// Which tier made the decision.
    pub tier: Tier,
    /// Estimated chance that the next attempt succeeds, when a model exists.
    pub success_probability: Option<f64>,
    /// 0..1: how much evidence stands behind that estimate.
    pub confidence: Option<f64>,
    /// Why, in one sentence; serialised to JSON as that sentence.
    pub reason: Reason,
    /// The guardrails that changed the delay, in the order they acted.
    pub clamps: Vec<Clamp>,
    /// Other delays the learned planner weighed, with their chances of success (priced when
    /// read: `Alternatives::iter`, `get`, `to_vec`).
    pub alternatives: Alternatives,
    /// Attempts made so far in this episode (including the one that just failed).
    pub attempt: u32,
    /// Time since the episode's first failure.
    #[serde(with = "serde_secs")]
    pub elapsed: Duration,
}

impl Recommendation {
    /// True when the action is `Action::Retry`.
    pub fn should_retry(&self) -> bool {
        self.action == Action::Retry
    }

    /// The reason as a sentence (the same text as in JSON).
    pub fn reason_text(&self) -> String {
        self.reason.to_string()
    }

    /// The recommendation as one line of JSON (durations in seconds); empty if it cannot be
    /// serialised.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl fmt::Display for Recommendation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.action {
            Action::Retry => write!(f, "retry in {}", secs(self.delay))?,
            Action::GiveUp => f.write_str("give up")?,
            Action::Escalate => f.write_str("escalate")?,
        }
        write!(f, " [{}] {}", self.tier.as_str(), self.reason)?;
        // One probability, said once, and only of an attempt that will be made.
        if let (Action::Retry, Some(p)) = (self.action, self.success_probability) {
            write!(f, "; chance the next attempt succeeds: {:.0}%", p * 100.0)?;
        }
        for c in &self.clamps {
            write!(
                f,
                "; {} clamped {} -> {}",
                c.guardrail.as_str(),
                secs(c.from),
                secs(c.to)
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_portfolio_reason_without_costs_renders() {
        // Found by fuzzing the C ABI: rendering NaN costs panicked in Duration::from_secs_f64.
        let r = Reason::Portfolio {
            class: ErrorClass::Unavailable,
            strategy: "full jitter",
            class_cost: f64::NAN,
            learned_cost: f64::INFINITY,
            episodes: 0.0,
            vetoed: false,
            control: true,
        };
        let text = r.to_string();
        assert!(text.contains("unknown vs unknown"), "{text}");
    }

    #[test]
    fn display_and_json() {
        let r = Recommendation {
            action: Action::Retry,
            delay: Duration::from_secs(8),
            class: ErrorClass::Unavailable,
            tier: Tier::Bayesian,
            success_probability: Some(0.9),
            confidence: Some(0.8),
            reason: Reason::Learned {
                at: Duration::from_secs(10),
                episodes: 120.0,
                exploring: false,
                poll_every: None,
            },
            clamps: vec![Clamp {
                guardrail: Guardrail::MaxDelay,
                from: Duration::from_secs(9),
                to: Duration::from_secs(8),
            }],
            alternatives: Alternatives::none(),
            attempt: 1,
            elapsed: Duration::from_secs(2),
        };
        let text = r.to_string();
        assert!(
            text.starts_with("retry in 8.0 s [bayesian] learned from 120 episodes: the plan puts the next attempt 10.0 s after the failure began; chance the next attempt succeeds: 90%"),
            "{text}"
        );
        assert!(text.contains("max_delay clamped 9.0 s -> 8.0 s"));
        let json: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(json["action"], "retry");
        assert_eq!(json["delay"], 8.0);
        assert_eq!(json["clamps"][0]["guardrail"], "max_delay");
        assert!(json["reason"].as_str().unwrap().contains("10.0 s after"));
        assert_eq!(json["success_probability"], 0.9);
        let polling = Recommendation {
            reason: Reason::Learned {
                at: Duration::from_secs(1_030),
                episodes: 300.0,
                exploring: false,
                poll_every: Some(Duration::from_secs(30)),
            },
            ..r
        };
        assert!(
            polling.to_string().contains("learned from 300 episodes: the plan polls about every 30.0 s, puts the next attempt 17.2 min after the failure began"),
            "{polling}"
        );
    }
}
