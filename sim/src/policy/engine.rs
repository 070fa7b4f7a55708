//! The engine under test, behind the same trait as the baselines. Placeholder until the core
//! `Engine` API lands: building it reports that it is unavailable and the suite skips it.

use super::{Decision, FailureCtx, SimPolicy};
use crate::error::{Result, SimError};
use crate::scenario::Scenario;

/// The smartretry engine (heuristic tier only, or with learning).
#[derive(Debug)]
pub struct EnginePolicy {
    name: String,
}

impl EnginePolicy {
    pub fn new(
        name: &str,
        _scenario: &Scenario,
        _seed: u64,
        _epoch: f64,
        _learning: bool,
    ) -> Result<EnginePolicy> {
        let _ = EnginePolicy {
            name: name.to_string(),
        };
        Err(SimError::Invalid(format!(
            "{name}: the core Engine API is not available yet"
        )))
    }
}

impl SimPolicy for EnginePolicy {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn on_failure(&mut self, _ctx: &FailureCtx<'_>) -> Decision {
        Decision::GiveUp
    }
}
