//! One decision as kept in the monitor's ring, and a retry's prediction awaiting its outcome.

use crate::class::ErrorClass;
use crate::recommendation::Recommendation;
use serde::Serialize;

/// A decision with where and when it was made (engine-clock Unix seconds).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecentDecision {
    /// Engine-clock Unix seconds.
    pub time: f64,
    /// The queue or job type.
    pub key: String,
    /// The tenant, when the episode has one.
    pub tenant: Option<String>,
    /// The decision, with its tier, reason and clamps.
    pub recommendation: Recommendation,
}

impl RecentDecision {
    pub(crate) fn new(
        time: f64,
        key: &str,
        tenant: Option<&str>,
        recommendation: Recommendation,
    ) -> Self {
        RecentDecision {
            time,
            key: key.to_string(),
            tenant: tenant.map(str::to_string),
            recommendation,
        }
    }
}

/// A retry's prediction, waiting for the retry's outcome.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pending {
    pub class: ErrorClass,
    pub probability: Option<f64>,
    /// Seconds since the first failure, at the failure this retry follows.
    pub last_failure: f64,
}
