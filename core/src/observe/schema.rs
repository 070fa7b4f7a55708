//! The one JSON schema of engine events. Every binding emits these objects as they are (no
//! renaming, no extra keys), so a log line or a dashboard query works the same in every
//! language. Documented in `docs/naming.md`.

use super::Event;
use crate::class::ErrorClass;
use crate::recommendation::Recommendation;
use serde::{Deserialize, Serialize};

/// An owned event, as serialised: one JSON object with a `type` tag and snake_case keys.
/// Durations are seconds (f64); `tenant` is always present (null without a tenant);
/// `recommendation` is the recommendation's own JSON object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum EventRecord {
    /// An attempt failed and was recorded.
    Attempt {
        /// The episode's key (the queue or operation being retried).
        key: String,
        /// The tenant, or null.
        tenant: Option<String>,
        /// The failure's class (its snake_case name).
        class: ErrorClass,
        /// Attempts made so far, this one included.
        attempt: u32,
        /// Seconds since the episode's first failure.
        elapsed: f64,
    },
    /// A retry (or stop) was decided.
    Decision {
        /// The episode's key.
        key: String,
        /// The tenant, or null.
        tenant: Option<String>,
        /// The failure's class.
        class: ErrorClass,
        /// Attempts made so far, the failed one included.
        attempt: u32,
        /// Seconds since the episode's first failure.
        elapsed: f64,
        /// The recommendation's own JSON object.
        recommendation: serde_json::Value,
    },
    /// An attempt succeeded; `attempt` is the number of the attempt that succeeded.
    Success {
        /// The episode's key.
        key: String,
        /// The tenant, or null.
        tenant: Option<String>,
        /// The number of the attempt that succeeded.
        attempt: u32,
        /// Seconds since the episode's first failure.
        elapsed: f64,
    },
    /// The episode ended without success (give up or escalate).
    Exhausted {
        /// The episode's key.
        key: String,
        /// The tenant, or null.
        tenant: Option<String>,
        /// The failure's class.
        class: ErrorClass,
        /// Attempts made in the episode.
        attempt: u32,
        /// Seconds since the episode's first failure.
        elapsed: f64,
        /// The final recommendation's JSON object (give up or escalate).
        recommendation: serde_json::Value,
    },
    /// A dependency's circuit breaker changed state ("closed", "open", "half_open").
    Breaker {
        /// The dependency the breaker guards.
        dependency: String,
        /// The state before the change.
        from: String,
        /// The state after it.
        to: String,
    },
    /// A guardrail changed a decision.
    Clamp {
        /// The episode's key.
        key: String,
        /// The guardrail and the delay before and after it.
        clamp: ClampRecord,
    },
    /// The learned tier changed on a queue (mode, promotion, rollback) or fell back.
    Learned {
        /// The queue.
        key: String,
        /// "mode", "promotion", "rollback" or "fallback".
        change: String,
        /// The mode before (for a fallback: "learned").
        from: String,
        /// The mode after (for a fallback: why the model failed).
        to: String,
    },
}

/// A guardrail clamp: which guardrail, and the delay before and after, in seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClampRecord {
    /// The guardrail's snake_case name (e.g. "max_delay").
    pub guardrail: String,
    /// The delay before the guardrail, in seconds.
    pub from: f64,
    /// The delay after it, in seconds (0 when the guardrail stopped the retry).
    pub to: f64,
}

impl EventRecord {
    /// The `type` tag: "attempt", "decision", "success", "exhausted", "breaker" or "clamp".
    pub fn event_type(&self) -> &'static str {
        match self {
            EventRecord::Attempt { .. } => "attempt",
            EventRecord::Decision { .. } => "decision",
            EventRecord::Success { .. } => "success",
            EventRecord::Exhausted { .. } => "exhausted",
            EventRecord::Breaker { .. } => "breaker",
            EventRecord::Clamp { .. } => "clamp",
            EventRecord::Learned { .. } => "learned",
        }
    }

    /// The event as a one-line JSON string, keys in schema order (`type` first).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The event as a JSON value (an object; never fails).
    pub fn to_json_value(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

fn rec_json(r: &Recommendation) -> serde_json::Value {
    serde_json::to_value(r).unwrap_or(serde_json::Value::Null)
}

impl Event<'_> {
    /// The `type` tag of this event (as in [`EventRecord::event_type`]).
    pub fn event_type(&self) -> &'static str {
        match self {
            Event::Attempt { .. } => "attempt",
            Event::Decision { .. } => "decision",
            Event::Success { .. } => "success",
            Event::Exhausted { .. } => "exhausted",
            Event::Breaker { .. } => "breaker",
            Event::Clamp { .. } => "clamp",
            Event::Learned { .. } => "learned",
        }
    }

    /// An owned copy in the shared schema (for queues that outlive the callback).
    pub fn to_record(&self) -> EventRecord {
        let owned = |t: Option<&str>| t.map(str::to_string);
        match *self {
            Event::Attempt {
                key,
                tenant,
                class,
                attempt,
                elapsed,
            } => EventRecord::Attempt {
                key: key.to_string(),
                tenant: owned(tenant),
                class,
                attempt,
                elapsed: elapsed.as_secs_f64(),
            },
            Event::Decision {
                key,
                tenant,
                recommendation: r,
            } => EventRecord::Decision {
                key: key.to_string(),
                tenant: owned(tenant),
                class: r.class,
                attempt: r.attempt,
                elapsed: r.elapsed.as_secs_f64(),
                recommendation: rec_json(r),
            },
            Event::Success {
                key,
                tenant,
                attempts,
                elapsed,
            } => EventRecord::Success {
                key: key.to_string(),
                tenant: owned(tenant),
                attempt: attempts,
                elapsed: elapsed.as_secs_f64(),
            },
            Event::Exhausted {
                key,
                tenant,
                recommendation: r,
            } => EventRecord::Exhausted {
                key: key.to_string(),
                tenant: owned(tenant),
                class: r.class,
                attempt: r.attempt,
                elapsed: r.elapsed.as_secs_f64(),
                recommendation: rec_json(r),
            },
            Event::Breaker {
                dependency,
                from,
                to,
            } => EventRecord::Breaker {
                dependency: dependency.to_string(),
                from: from.as_str().to_string(),
                to: to.as_str().to_string(),
            },
            Event::Clamp { key, clamp } => EventRecord::Clamp {
                key: key.to_string(),
                clamp: ClampRecord {
                    guardrail: clamp.guardrail.as_str().to_string(),
                    from: clamp.from.as_secs_f64(),
                    to: clamp.to.as_secs_f64(),
                },
            },
            Event::Learned {
                key,
                change,
                from,
                to,
            } => EventRecord::Learned {
                key: key.to_string(),
                change: change.to_string(),
                from: from.to_string(),
                to: to.to_string(),
            },
        }
    }

    /// The event as one JSON object in the shared schema: what every binding emits.
    pub fn to_json_value(&self) -> serde_json::Value {
        self.to_record().to_json_value()
    }

    /// The event as a one-line JSON string (JSON Lines logs), `type` first.
    pub fn to_json(&self) -> String {
        self.to_record().to_json()
    }
}
