//! Shadow pricing: what the learned schedule would have cost on an episode that ran under the
//! live one. The episode pins the recovery time T to (last failure, success]; an attempt of the
//! learned schedule before the last failure fails, one at or after the success succeeds, and one
//! in between succeeds with the model's own probability (the direct method: the data says
//! nothing there, and the model's calibration is checked on held-out rows before it ships).
//! This makes shadow evidence optimistic where the model is wrong inside that interval, which
//! is why shadow only opens the canary: the canary is judged on realised J, and rolled back
//! automatically when it regresses. An
//! episode that never succeeded gives the learned schedule no success either: it pays the
//! horizon plus its own attempts up to the last failure seen (beyond it nothing is known), so
//! shadow evidence can only be earned on recoveries.

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
    let mut exhausted = true;
    for retry in 1..=MAX_STEPS as u32 {
        let x = at(t, retry + 1);
        let choice = choose(model, &x, c, (horizon - t).max(0.0));
        let step = choice.delay;
        let mut next = t + step;
        if next >= horizon {
            exhausted = false;
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
                let ps = choice.p.clamp(0.0, 1.0);
                cost += mass * ps * (next + c * failed);
                mass *= 1.0 - ps;
                lo = next;
            }
            // Never succeeded: beyond the last failure nothing is known, and the live schedule
            // is charged the horizon for that stretch; so is this one, without counting
            // attempts of its own there as failures.
            None if next > lo => break,
            _ => {}
        }
        failed += 1.0;
        t = next;
    }
    match obs.success {
        // Out of steps before the success: the rest is charged as if it came at the success
        // (or now, if later), with the failures so far; not the horizon, which would punish a
        // schedule of short waits for the length of this loop.
        Some(s) if exhausted => cost + mass * (s.max(t) + c * failed),
        _ => cost + mass * (horizon + c * failed),
    }
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
        // Attempts after the last failure are not known: only those before it count.
        assert!(never < 1000.0 + 5.0 / 0.01 + 10.0, "{never}");
    }
}
