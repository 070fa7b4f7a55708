//! A simulated job: when its first attempt runs, what is wrong with the dependency it calls
//! (hidden from every policy but the oracle), and what its failed attempts look like.

use serde::Deserialize;
use smartretry::ErrorClass;

/// What a failed attempt reports, as the scenario file states it. `class` is the ground truth
/// the metrics use (e.g. to count retries of permanent errors); the engine only sees the raw
/// signals (`http_status`, `error_code`) and classifies them itself.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailureSpec {
    pub class: ErrorClass,
    #[serde(default)]
    pub http_status: Option<u16>,
    #[serde(default)]
    pub error_code: Option<String>,
}

/// One failed attempt as the policy sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct FailureInfo {
    pub spec: FailureSpec,
    /// Seconds the server asked the caller to wait (HTTP Retry-After), when it said.
    pub retry_after: Option<f64>,
}

/// What is wrong for this job. Decides the outcome of each attempt together with the world.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Attempts fail until `at` (absolute simulated seconds), then succeed. Before that, each
    /// attempt still succeeds with probability `brownout` (0 = all-or-nothing recovery).
    Recovers { at: f64, brownout: f64 },
    /// Attempts never succeed (permanent errors, a tenant whose failures persist).
    Never,
    /// A rate limit with fixed windows of `period` seconds whose quota lasts for the first
    /// `open` seconds of each window; the 429 carries Retry-After when `retry_after` is set.
    RateWindow {
        period: f64,
        open: f64,
        retry_after: bool,
    },
    /// Attempts fail while an incident affecting `component` is open, more often the higher its
    /// impact (see the world's incident timeline).
    Incident { component: usize },
    /// Attempts collide with other clients' attempts on one shared resource.
    Contention,
}

/// What the oracle knows about a job.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Truth {
    /// The earliest time (absolute simulated seconds) at which an attempt surely succeeds.
    At(f64),
    /// No attempt will ever succeed.
    Never,
    /// Not defined (success depends on what other clients do).
    Unknown,
}

/// A job of the simulation.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// Index in arrival order.
    pub id: u32,
    /// Time of the first attempt, in simulated seconds.
    pub arrival: f64,
    pub queue: String,
    pub tenant: Option<String>,
    pub fault: Fault,
    pub failure: FailureSpec,
    pub truth: Truth,
    /// Part of the warm-up (reported separately from steady state).
    pub warmup: bool,
    /// Scenario-specific group: 1 = after the drift shift, or the noisy tenant; 0 otherwise.
    pub group: u8,
    /// The queue depth the caller sees (scenario 20), passed to the engine as context.
    pub queue_depth: Option<u64>,
}

impl Job {
    /// Recovery time measured from the first attempt, when defined.
    pub fn recovery_delay(&self) -> Option<f64> {
        match self.truth {
            Truth::At(t) => Some((t - self.arrival).max(0.0)),
            _ => None,
        }
    }
}
