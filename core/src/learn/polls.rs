//! Polling between two of the plan's steps. One step of the grid is 19% of the time already
//! elapsed: 190 s apart at 1,000 s. Where recovery is spread over many minutes and a failed attempt
//! is cheap, the best schedule tries far more often than that (a fixed 90 s poll beats one attempt
//! per bucket there). So besides "next attempt in bucket k", the planner weighs "poll `n` times,
//! evenly spaced, until the next bucket's middle (or the horizon)", priced on the same survival
//! curve, log-linear inside each bucket.

use super::grid::edge;

/// Attempts a poll may make over one step of the grid (one is the plain step): doublings, so
/// that a plan rebuild prices few of them.
pub const POLLS: [u8; 4] = [2, 4, 8, 16];

/// The spacing of `n` polls evenly spread from `start` to `end` (the last one at `end`).
pub fn spacing(start: f64, end: f64, n: u8) -> f64 {
    (end - start).max(0.0) / f64::from(n.max(1))
}

/// The stretch of time a poll covers, from `start` to `end` seconds since the first failure,
/// with the log-survival falling at `slope_before` per second until `edge` and `slope_after`
/// from there (the curve is log-linear inside each bucket).
#[derive(Debug, Clone, Copy)]
pub struct Stretch {
    /// Seconds since the first failure where the poll starts (the last failure).
    pub start: f64,
    /// Where its last attempt lands.
    pub end: f64,
    /// The bucket edge inside the stretch, where the slope changes.
    pub edge: f64,
    /// Log-survival per second before `edge` (zero or negative).
    pub slope_before: f64,
    /// Log-survival per second from `edge` on.
    pub slope_after: f64,
}

impl Stretch {
    /// From the middle of bucket `i` (or `start`) to `end`, inside buckets `i` and `i + 1`,
    /// given the log-survival `ls` at every edge.
    pub fn new(i: usize, start: f64, end: f64, ls: &[f64]) -> Stretch {
        let slope = |b: usize| {
            let width = edge(b + 1) - edge(b);
            match (ls.get(b), ls.get(b + 1)) {
                (Some(a), Some(z)) if width > 0.0 => (z - a) / width,
                _ => 0.0,
            }
        };
        Stretch {
            start,
            end,
            edge: edge(i + 1),
            slope_before: slope(i),
            slope_after: slope(i + 1),
        }
    }

    /// Log of P(still down at `to` | still down at `from`), `from <= to` inside the stretch.
    fn log_ratio(&self, from: f64, to: f64) -> f64 {
        let before = (to.min(self.edge) - from.min(self.edge)).max(0.0);
        let after = (to.max(self.edge) - from.max(self.edge)).max(0.0);
        before * self.slope_before + after * self.slope_after
    }

    /// The spacing of `n` polls over the stretch.
    pub fn spacing(&self, n: u8) -> f64 {
        spacing(self.start, self.end, n)
    }

    /// `n` attempts evenly spaced over the stretch, each failing with probability `(1 - q)`
    /// times the survival ratio over its wait: the expected waits plus `cost` per failed
    /// attempt, and the chance that all `n` fail.
    pub fn price(&self, n: u8, q: f64, cost: f64) -> (f64, f64) {
        let w = self.spacing(n);
        // Each wait lies wholly before the edge, wholly after it, or across it: two powers
        // serve every wait but the one across.
        let before = (self.slope_before * w).min(0.0).exp();
        let after = (self.slope_after * w).min(0.0).exp();
        let (mut expected, mut all_fail) = (0.0, 1.0);
        let mut t = self.start;
        for _ in 0..n {
            let next = t + w;
            let ratio = if next <= self.edge {
                before
            } else if t >= self.edge {
                after
            } else {
                self.log_ratio(t, next).min(0.0).exp()
            };
            let fail = (1.0 - q) * ratio;
            expected += all_fail * (w + fail * cost);
            all_fail *= fail;
            t = next;
        }
        (expected, all_fail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat_hazard(rate: f64) -> Stretch {
        Stretch {
            start: 100.0,
            end: 200.0,
            edge: 150.0,
            slope_before: -rate,
            slope_after: -rate,
        }
    }

    #[test]
    fn one_poll_is_one_step() {
        let s = flat_hazard(0.01);
        let (e, f) = s.price(1, 0.0, 2.0);
        let fail = (-1.0f64).exp();
        assert!((f - fail).abs() < 1e-12);
        assert!((e - (100.0 + fail * 2.0)).abs() < 1e-9);
    }

    #[test]
    fn more_polls_fail_together_as_often_as_one_and_find_recovery_sooner() {
        let s = flat_hazard(0.01);
        let (e1, f1) = s.price(1, 0.0, 0.5);
        let (e8, f8) = s.price(8, 0.0, 0.5);
        // All n fail exactly when the dependency is still down at the end.
        assert!((f1 - f8).abs() < 1e-12);
        // Cheap attempts: polling wastes less time after a recovery.
        assert!(e8 < e1, "{e8} vs {e1}");
        // Dear attempts: one step is cheaper.
        assert!(s.price(8, 0.0, 500.0).0 > s.price(1, 0.0, 500.0).0);
    }

    #[test]
    fn a_pass_rate_makes_each_poll_a_chance() {
        let s = flat_hazard(0.0);
        let (_, f) = s.price(4, 0.1, 1.0);
        assert!((f - 0.9f64.powi(4)).abs() < 1e-12);
    }

    #[test]
    fn slopes_apply_on_their_side_of_the_edge() {
        let s = Stretch {
            start: 100.0,
            end: 200.0,
            edge: 150.0,
            slope_before: -0.02,
            slope_after: 0.0,
        };
        let (_, f) = s.price(2, 0.0, 1.0);
        assert!((f - (-1.0f64).exp()).abs() < 1e-12);
        assert!((s.log_ratio(120.0, 180.0) + 0.6).abs() < 1e-12);
    }
}
