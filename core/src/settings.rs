//! The policy in force and what the engine derives from it (the classifier built from its rules,
//! the learned tier's prior per class), published together. A decision loads them with one
//! atomic read, and never sees the rules of one policy with the limits of another while
//! `set_policy` swaps them.

use crate::class::ErrorClass;
use crate::classify::Classifier;
use crate::error::Result;
use crate::learn::Prior;
use crate::policy::{ClassPolicy, Policy};
use std::sync::Arc;

pub(crate) struct Settings {
    pub policy: Arc<Policy>,
    pub classifier: Classifier,
    /// Heuristic prior per error class (indexed by class code); shared with queued rebuilds.
    pub priors: Arc<Vec<Prior>>,
}

impl Settings {
    /// Everything derived from a validated `policy`. Errors: rules that do not compile.
    pub fn of(policy: Policy) -> Result<Settings> {
        let classifier = Classifier::new(policy.rules.clone())?;
        let priors = Arc::new(priors_for(&policy));
        Ok(Settings {
            policy: Arc::new(policy),
            classifier,
            priors,
        })
    }
}

/// The heuristic tier's expectation of recovery for a class, as a prior for the learned tier:
/// median about twice the class's own time scale (its schedule's base delay).
fn prior_for(cp: &ClassPolicy, strength: f64) -> Prior {
    Prior::log_logistic((2.0 * cp.scale()).max(0.02), strength)
}

fn priors_for(policy: &Policy) -> Vec<Prior> {
    ErrorClass::ALL
        .iter()
        .map(|c| prior_for(policy.class_ref(*c), policy.learning.prior_strength))
        .collect()
}
