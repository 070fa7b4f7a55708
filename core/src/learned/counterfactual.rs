//! Shadow pricing: what the learned schedule would have cost on an episode that ran under the
//! live one. The episode pins the recovery time T to (last failure, success]; an attempt of the
//! learned schedule before the last failure fails, one at or after the success succeeds, and one
//! in between succeeds with the share of that interval it has passed (T uniform there). An
//! episode that never succeeded gives the learned schedule no success either: it pays the
//! horizon plus its own attempts, so shadow evidence can only be earned on recoveries.

use super::choose::choose;
use super::features::FeatureInput;
use super::model::LogisticModel;
use crate::learn::counterfactual::{Observed, Pricing};

/// Most attempts priced per episode.
const MAX_STEPS: usize = 64;

/// The learned schedule's expected J on an episode. `at(t)` is the feature input for a
/// decision `t` seconds after the first failure (its calendar and attempt number are set by
/// the caller's closure from `t` and the retry's number).
pub fn learned_cost<'a>(
    model: &LogisticModel,
    at: impl Fn(f64, u32) -> FeatureInput<'a>,
    obs: Observed,
    p: Pricing,
) -> f64 {
    let (c, horizon) = (p.failure_cost, p.horizon);
    let last = obs.last_failure.max(0.0);
    let mut t = 0.0;
    let mut lo = last;
    let mut mass = 1.0;
    let mut cost = 0.0;
    let mut failed = 0.0;
    for retry in 1..=MAX_STEPS as u32 {
        let x = at(t, retry + 1);
        let step = choose(model, &x, c, (horizon - t).max(0.0)).delay;
        let mut next = t + step;
        if next >= horizon {
            break;
        }
        if next <= lo && step > 0.0 {
            // Known failures until `lo`: repeat this step there at once instead of one by one
            // (a schedule of short waits would otherwise run out of steps before it).
            let k = ((lo - next) / step).floor().min(1e6);
            failed += k;
            next += k * step;
        }
        match obs.success {
            Some(s) if next >= s => return cost + mass * (next + c * failed),
            Some(s) if next > lo && s > lo => {
                let ps = ((next - lo) / (s - lo)).clamp(0.0, 1.0);
                cost += mass * ps * (next + c * failed);
                mass *= 1.0 - ps;
                lo = next;
            }
            _ => {}
        }
        failed += 1.0;
        t = next;
    }
    cost + mass * (horizon + c * failed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learned::features::FeatureSchema;

    fn constant(z: f64) -> LogisticModel {
        let schema = FeatureSchema::new(vec![], vec![]);
        let n = schema.len();
        let mut w = vec![0.0; n];
        w[0] = z;
        // Longer waits look better, so the schedule spreads out.
        w[2] = 1.0;
        LogisticModel::new(schema, w, vec![0.0; n]).unwrap()
    }

    #[test]
    fn an_episode_bounds_the_learned_schedule() {
        let m = constant(-2.0);
        let at = |t: f64, attempt: u32| FeatureInput {
            elapsed: t,
            attempt,
            ..Default::default()
        };
        let p = Pricing {
            failure_cost: 1.0,
            horizon: 1000.0,
        };
        let ok = learned_cost(
            &m,
            at,
            Observed {
                last_failure: 5.0,
                success: Some(6.0),
            },
            p,
        );
        assert!(ok > 5.0 && ok < 1000.0, "{ok}");
        let never = learned_cost(
            &m,
            at,
            Observed {
                last_failure: 5.0,
                success: None,
            },
            p,
        );
        assert!(never >= 1000.0, "{never}");
    }
}
