//! One decision taken apart (`Engine::explain`, computed in the decision pipeline): every
//! tier's proposal and the recommendation with its clamps.

use crate::recommendation::Recommendation;
use serde::Serialize;

/// What one tier would propose, before guardrails.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TierProposal {
    /// "operator", "retry_after", "learned", "portfolio" or "heuristic".
    pub tier: &'static str,
    /// Seconds; None: this tier would stop.
    pub delay: Option<f64>,
    /// Why, in one sentence.
    pub reason: String,
    /// The tier's estimate that the next attempt succeeds, when it has one.
    pub success_probability: Option<f64>,
}

/// One decision, explained.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// Every tier that has something to say at this step, highest first (the first decides,
    /// unless a guardrail overrules it).
    pub proposals: Vec<TierProposal>,
    /// The decision itself, with the deciding tier, its reason and every clamp.
    pub recommendation: Recommendation,
}
