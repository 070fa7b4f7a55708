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
    /// The policy's entry for each class (indexed by class code): a decision reads it without
    /// searching the policy's map.
    classes: Vec<ClassPolicy>,
}

impl Settings {
    /// Everything derived from a validated `policy`. Errors: rules that do not compile.
    pub fn of(policy: Policy) -> Result<Settings> {
        let classifier = Classifier::new(policy.rules.clone())?;
        let priors = Arc::new(priors_for(&policy));
        let classes = ErrorClass::ALL
            .iter()
            .map(|c| policy.class_ref(*c).clone())
            .collect();
        Ok(Settings {
            policy: Arc::new(policy),
            classifier,
            priors,
            classes,
        })
    }

    /// The policy's entry for `class` (before any override).
    pub fn class(&self, class: ErrorClass) -> &ClassPolicy {
        &self.classes[class as usize]
    }

    /// Whether failures of `class` teach the models.
    pub fn learns(&self, class: ErrorClass) -> bool {
        self.policy.learning.enabled && self.class(class).learn && class.is_retryable()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_class_reads_its_own_entry_of_the_policy() {
        let mut policy = Policy::default();
        // A distinct attempt cap per class, so that a class reading another's entry shows.
        for (i, class) in ErrorClass::ALL.iter().enumerate() {
            let mut cp = policy.class_ref(*class).clone();
            cp.max_attempts = 2 + i as u32;
            policy.classes.insert(*class, cp);
        }
        let settings = Settings::of(policy.clone()).expect("a valid policy");
        for class in ErrorClass::ALL {
            assert_eq!(settings.class(class), policy.class_ref(class), "{class:?}");
            let learns =
                policy.learning.enabled && policy.class_ref(class).learn && class.is_retryable();
            assert_eq!(settings.learns(class), learns, "{class:?}");
        }
    }
}
