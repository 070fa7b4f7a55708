//! Counterfactual scoring: what another schedule would have cost on an episode that ran.
//!
//! Where recovery is all-or-nothing, an episode's outcome pins its recovery time T to an
//! interval: after the last failed attempt, no later than the success (or, for an episode that
//! never succeeded, after the last failure). Any schedule's cost on that episode follows from
//! where T lies among its attempts; only the part of the interval between two of its attempts is
//! left open, and that part is imputed from the survival model. With a pass rate `q` (attempts
//! that succeed while still down), a success may also have been lucky, with T beyond it; each of
//! the candidate's own attempts before T passes with chance `q`.
//!
//! Scoring every candidate on the same episodes removes the outage's own length, the main source
//! of noise, from their comparison.

use super::planner::Plan;
use std::cell::RefCell;

/// What an episode showed about its recovery time T (seconds since its first failure).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observed {
    /// The last failed attempt: T is later.
    pub last_failure: f64,
    /// When an attempt succeeded, if one did.
    pub success: Option<f64>,
}

/// The price of a schedule: failed retries cost `failure_cost` each; an episode that never
/// succeeds within `horizon` costs the horizon.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pricing {
    /// What one failed retry costs, in seconds.
    pub failure_cost: f64,
    /// How long an episode may last, in seconds; one never recovered within it costs this much.
    pub horizon: f64,
}

/// The realised cost of an episode that ran: time to success (the horizon if none) plus its
/// failed retries.
pub fn realised_cost(obs: Observed, failed_retries: f64, p: Pricing) -> f64 {
    obs.success.unwrap_or(p.horizon).min(p.horizon) + p.failure_cost * failed_retries
}

/// Expected cost of a schedule with retry times `attempts` (increasing, seconds since the first
/// failure, all within the horizon) on an episode that showed `obs`, under `plan`'s model.
pub fn expected_cost(attempts: &[f64], obs: Observed, plan: &Plan, p: Pricing) -> f64 {
    let q = plan.pass_rate.clamp(0.0, 1.0);
    let lo = obs.last_failure.max(0.0);
    // The walk below reads the curve at the same few points again and again (the interval's
    // ends, each attempt as the end of one step and the start of the next): remember the last
    // ones read, which gives exactly the same numbers for about half the interpolations.
    let curve = RefCell::new(RecentPoints::new(plan));
    let s = |t: f64| curve.borrow_mut().survival_at(t);
    // Posterior mass of T in (x, y]: inside the observed interval as the model spreads it,
    // beyond the success only if that success was lucky (weight q).
    let mass = |x: f64, y: f64| -> f64 {
        let mut m = 0.0;
        match obs.success {
            Some(u) => {
                let (a, b) = (x.max(lo), y.min(u));
                if a < b {
                    m += s(a) - s(b);
                }
                let a = x.max(u);
                if a < y {
                    m += q * (s(a) - if y.is_finite() { s(y) } else { 0.0 });
                }
            }
            None => {
                let a = x.max(lo);
                if a < y {
                    m += s(a) - if y.is_finite() { s(y) } else { 0.0 };
                }
            }
        }
        m.max(0.0)
    };
    let total = mass(0.0, f64::INFINITY);
    if total <= 1e-300 {
        // The model gives the observation no mass: fall back to "recovered at the success".
        let t = obs.success.unwrap_or(f64::INFINITY);
        let k = attempts.iter().position(|&a| a >= t);
        return match k {
            Some(k) => attempts[k] + p.failure_cost * k as f64,
            None => p.horizon + p.failure_cost * attempts.len() as f64,
        };
    }
    // Walk the candidate's attempts; `lucky` accumulates the cost of passing before T.
    let (mut expected, mut lucky, mut down) = (0.0, 0.0, 1.0);
    let mut prev = 0.0;
    for (j, &a) in attempts.iter().enumerate() {
        let here = a + p.failure_cost * j as f64;
        // T in (prev, a]: the first sure success is this attempt.
        let m = mass(prev, a) / total;
        expected += m * (lucky + down * here);
        // T later than a: this attempt passes only with chance q.
        lucky += down * q * here;
        down *= 1.0 - q;
        prev = a;
    }
    let rest = mass(prev, f64::INFINITY) / total;
    let n = attempts.len() as f64;
    expected += rest * (lucky + down * (p.horizon + p.failure_cost * n));
    expected
}

/// `plan.survival_at`, remembering the last few points read.
struct RecentPoints<'a> {
    plan: &'a Plan,
    points: [(f64, f64); 4],
    next: usize,
}

impl<'a> RecentPoints<'a> {
    fn new(plan: &'a Plan) -> Self {
        RecentPoints {
            plan,
            points: [(f64::NAN, 0.0); 4],
            next: 0,
        }
    }

    fn survival_at(&mut self, t: f64) -> f64 {
        if let Some(&(_, v)) = self.points.iter().find(|(at, _)| *at == t) {
            return v;
        }
        let v = self.plan.survival_at(t);
        self.points[self.next] = (t, v);
        self.next = (self.next + 1) % self.points.len();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learn::grid::{buckets_passed, last_possible_bucket};
    use crate::learn::hazard::Hazard;
    use crate::learn::planner::build;
    use crate::learn::prior::Prior;

    fn plan_for(recoveries: &[f64]) -> Plan {
        let prior = Prior::log_logistic(5.0, 0.01);
        let mut h = Hazard::new(1e9);
        for &t in recoveries {
            h.begin_episode();
            let passed = buckets_passed(t);
            h.survived(0, passed);
            h.recovered(passed, last_possible_bucket(t));
        }
        build(&h, &prior, 1.0, 3600.0, None)
    }

    const P: Pricing = Pricing {
        failure_cost: 2.0,
        horizon: 3600.0,
    };

    #[test]
    fn a_sharp_interval_prices_exactly() {
        let plan = plan_for(&[9.0; 200]);
        // Recovery known to lie in (8, 10]: a schedule at 5, 12 costs 12 + 2 (one failed retry).
        let obs = Observed {
            last_failure: 8.0,
            success: Some(10.0),
        };
        let c = expected_cost(&[5.0, 12.0, 30.0], obs, &plan, P);
        assert!((c - 14.0).abs() < 0.2, "{c}");
        // A schedule whose first retry is after the success succeeds at once.
        assert!((expected_cost(&[11.0], obs, &plan, P) - 11.0).abs() < 1e-9);
        // One that never gets there costs the horizon plus its failures.
        let c = expected_cost(&[1.0, 2.0], obs, &plan, P);
        assert!((c - (3600.0 + 4.0)).abs() < 1e-6, "{c}");
    }

    #[test]
    fn censored_episodes_impute_from_the_model() {
        let plan = plan_for(&[20.0; 200]);
        let obs = Observed {
            last_failure: 15.0,
            success: None,
        };
        // T is about 20 s: a retry at 25 s succeeds, one at 16 s fails first.
        let c = expected_cost(&[16.0, 25.0], obs, &plan, P);
        assert!((c - 27.0).abs() < 1.0, "{c}");
        assert_eq!(realised_cost(obs, 3.0, P), 3606.0);
    }
}
