//! The oracle: knows when each job's dependency recovers and attempts once, at that moment.
//! Where recovery is all-or-nothing its J is the physical limit of any policy.

use super::{Decision, FailureCtx, SimPolicy};
use crate::job::Truth;
use crate::world::TIME_EPS;

/// Retries once at the job's true recovery time; gives up at once when it never recovers or
/// recovers after the deadline.
#[derive(Debug, Clone, Copy, Default)]
pub struct Oracle;

impl SimPolicy for Oracle {
    fn name(&self) -> String {
        "oracle".into()
    }

    fn on_failure(&mut self, ctx: &FailureCtx<'_>) -> Decision {
        match ctx.job.truth {
            // A retry already aimed at the recovery failed: nothing more to know.
            Truth::At(at) if ctx.retry > 1 && ctx.now + TIME_EPS >= at => Decision::GiveUp,
            Truth::At(at) => Decision::Retry((at - ctx.now).max(0.0) + TIME_EPS),
            Truth::Never | Truth::Unknown => Decision::GiveUp,
        }
    }
}
