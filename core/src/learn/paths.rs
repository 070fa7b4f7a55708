//! The attempt times a schedule would make, from the first failure on: the inputs of
//! counterfactual scoring. Jitter is drawn from the caller's generator, so both schedules are
//! priced as they would really run.

use super::planner::Plan;
use crate::policy::ClassPolicy;
use rand::Rng;
use std::time::Duration;

/// Longest path priced: beyond it the remaining time counts as never recovering.
pub const MAX_PATH: usize = 128;

/// Retry times (seconds since the first failure) of the class's own schedule, with the class's
/// delay bounds, up to `horizon` and the class's attempt cap.
pub fn class_path<R: Rng + ?Sized>(cp: &ClassPolicy, horizon: f64, rng: &mut R) -> Vec<f64> {
    let retries = cp.max_attempts.saturating_sub(1).min(MAX_PATH as u32);
    let mut out = Vec::with_capacity(retries.min(32) as usize);
    let (mut t, mut previous) = (0.0, Duration::ZERO);
    for retry in 1..=retries {
        let d = cp
            .retry_delay(retry, previous, rng)
            .clamp(cp.min_delay, cp.max_delay.max(cp.min_delay));
        t += d.as_secs_f64();
        if t > horizon {
            break;
        }
        out.push(t);
        previous = d;
    }
    out
}

/// Retry times of the learned plan from the first failure, jittered inside each planned bucket
/// and bounded by the class's delay limits, as the decision would make them.
pub fn plan_path<R: Rng + ?Sized>(
    plan: &Plan,
    cp: &ClassPolicy,
    horizon: f64,
    rng: &mut R,
) -> Vec<f64> {
    let retries = cp.max_attempts.saturating_sub(1).min(MAX_PATH as u32);
    let (lo, hi) = (cp.min_delay.as_secs_f64(), cp.max_delay.as_secs_f64());
    let mut out = Vec::new();
    let mut t = 0.0;
    for used in 0..retries {
        let Some(at) = plan.next_attempt(t, retries - used, rng.random::<f64>()) else {
            break;
        };
        t += (at - t).clamp(lo, hi.max(lo));
        if t > horizon {
            break;
        }
        out.push(t);
    }
    out
}
