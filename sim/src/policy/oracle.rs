//! The oracle: knows when each job's dependency recovers (and, in a brown-out, the pass rate of
//! attempts before that) and acts optimally on it. Where recovery is all-or-nothing it attempts
//! once, at the recovery. In a brown-out with pass rate q, an attempt costs c and passes with
//! chance q whatever the time, so (by a one-state dynamic programme) the optimum is either to
//! wait for the recovery or to retry at once until an attempt passes, whichever costs less:
//! min(time left, c (1 - q) / q). Its J is then the limit of any policy.

use super::{Decision, FailureCtx, SimPolicy};
use crate::job::{Fault, Truth};
use crate::world::TIME_EPS;

/// Retries once at the job's true recovery time; gives up at once when it never recovers or
/// recovers after the deadline.
#[derive(Debug, Clone, Copy, Default)]
pub struct Oracle {
    /// Price of a failed attempt (the scenario's c).
    pub c: f64,
}

impl SimPolicy for Oracle {
    fn name(&self) -> String {
        "oracle".into()
    }

    fn on_failure(&mut self, ctx: &FailureCtx<'_>) -> Decision {
        if let (Truth::At(at), Fault::Recovers { brownout, .. }) = (ctx.job.truth, &ctx.job.fault) {
            let q = *brownout;
            let left = at - ctx.now;
            if q > 0.0 && left > TIME_EPS && self.c * (1.0 - q) / q < left {
                return Decision::Retry(TIME_EPS);
            }
        }
        match ctx.job.truth {
            // A retry already aimed at the recovery failed: nothing more to know.
            Truth::At(at) if ctx.retry > 1 && ctx.now + TIME_EPS >= at => Decision::GiveUp,
            Truth::At(at) => Decision::Retry((at - ctx.now).max(0.0) + TIME_EPS),
            Truth::Never | Truth::Unknown => Decision::GiveUp,
        }
    }
}
