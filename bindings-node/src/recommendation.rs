//! The engine's answer as a JS object whose fields are read lazily (getters), so that the hot
//! path does not build what the caller never reads.

use crate::clock::secs_f64;
use napi_derive::napi;
use smartretry::Recommendation as Rec;

/// A guardrail that changed the proposed delay (or stopped the retry).
#[napi(object)]
pub struct Clamp {
    pub guardrail: String,
    /// Seconds proposed before the clamp.
    pub from: f64,
    /// Seconds after it.
    pub to: f64,
}

/// Another delay the engine weighed.
#[napi(object)]
pub struct Alternative {
    /// Seconds.
    pub delay: f64,
    pub success_probability: f64,
}

/// What to do after a failed attempt: retry after `delay`, give up, or escalate; with the tier
/// that decided, the success estimate, the reason and the guardrail clamps.
#[napi]
pub struct Recommendation {
    pub(crate) inner: Rec,
}

impl From<Rec> for Recommendation {
    fn from(inner: Rec) -> Self {
        Recommendation { inner }
    }
}

#[napi]
impl Recommendation {
    /// "retry", "give_up" or "escalate".
    #[napi(getter)]
    pub fn action(&self) -> &'static str {
        self.inner.action.as_str()
    }

    #[napi(getter)]
    pub fn should_retry(&self) -> bool {
        self.inner.should_retry()
    }

    /// Seconds to wait before the next attempt (0 unless retrying).
    #[napi(getter)]
    pub fn delay(&self) -> f64 {
        secs_f64(self.inner.delay)
    }

    /// Milliseconds to wait before the next attempt.
    #[napi(getter)]
    pub fn delay_ms(&self) -> f64 {
        self.inner.delay.as_secs_f64() * 1000.0
    }

    /// The error class ("unavailable", "rate_limited", ...).
    #[napi(getter)]
    pub fn class(&self) -> &'static str {
        self.inner.class.as_str()
    }

    /// "heuristic", "bayesian", "learned", "operator" or "guardrail".
    #[napi(getter)]
    pub fn tier(&self) -> &'static str {
        self.inner.tier.as_str()
    }

    #[napi(getter)]
    pub fn success_probability(&self) -> Option<f64> {
        self.inner.success_probability
    }

    #[napi(getter)]
    pub fn confidence(&self) -> Option<f64> {
        self.inner.confidence
    }

    /// Why, in one sentence.
    #[napi(getter)]
    pub fn reason(&self) -> String {
        self.inner.reason_text()
    }

    #[napi(getter)]
    pub fn clamps(&self) -> Vec<Clamp> {
        self.inner
            .clamps
            .iter()
            .map(|c| Clamp {
                guardrail: c.guardrail.as_str().to_string(),
                from: secs_f64(c.from),
                to: secs_f64(c.to),
            })
            .collect()
    }

    #[napi(getter)]
    pub fn alternatives(&self) -> Vec<Alternative> {
        self.inner
            .alternatives
            .iter()
            .map(|a| Alternative {
                delay: secs_f64(a.delay),
                success_probability: a.success_probability,
            })
            .collect()
    }

    /// Attempts made so far in the episode, including the one that just failed.
    #[napi(getter)]
    pub fn attempt(&self) -> u32 {
        self.inner.attempt
    }

    /// Seconds since the episode's first failure.
    #[napi(getter)]
    pub fn elapsed(&self) -> f64 {
        secs_f64(self.inner.elapsed)
    }

    /// The human sentence: "retry in 3.1 s [heuristic] unavailable: ...".
    #[napi(js_name = "toString")]
    pub fn to_display(&self) -> String {
        self.inner.to_string()
    }

    /// Every field as plain JSON (durations in seconds).
    #[napi(js_name = "toJSON")]
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.inner).unwrap_or(serde_json::Value::Null)
    }
}
