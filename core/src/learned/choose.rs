//! From probabilities to a wait: price each candidate wait d by the renewal cost of trying at d,
//! (d + c · (1 − p(d))) / p(d) — the expected J if every later attempt were as likely to succeed —
//! and take the cheapest. Candidates are a log-spaced grid plus the next time-of-day bin edges,
//! so a window that ends on the clock is met at its end, not a grid step later.

use super::features::{FeatureInput, DOW0, TOD0, TOD_BINS, TOD_BIN_SECS};
use super::model::LogisticModel;

/// Log-spaced candidate waits.
const GRID: usize = 32;
/// Time-of-day bin edges considered beyond the grid.
const EDGES: usize = 24;
/// Shortest wait considered, seconds.
pub const MIN_WAIT: f64 = 0.01;
/// The shortest wait, as a share of the time since the first failure.
const ELAPSED_FLOOR: f64 = 0.1;
/// Land this long after a bin edge, so the attempt is inside the new bin.
const EDGE_SLACK: f64 = 0.001;

/// The chosen wait and its estimate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Choice {
    /// Seconds to wait.
    pub delay: f64,
    /// P(the attempt after it succeeds).
    pub p: f64,
    /// Its renewal cost, seconds.
    pub cost: f64,
}

/// The cheapest wait up to `max_wait` seconds for an attempt now (`x` describes "now": elapsed
/// since the first failure, the attempt's number, the context; its `delay` is ignored).
/// `second_of_day` and `day_of_week` in `x` are those of now.
pub fn choose(model: &LogisticModel, x: &FeatureInput<'_>, c: f64, max_wait: f64) -> Choice {
    let s = model.scorer(x);
    // The model's P(success) is marginal, not conditional on the failures this episode just
    // had: a floor of a tenth of the time elapsed keeps a run of optimistic estimates from
    // hammering (at most logarithmically many attempts in an outage).
    let lo = model.min_wait.max(MIN_WAIT).max(ELAPSED_FLOOR * x.elapsed);
    let hi = max_wait.clamp(lo, 86_400.0);
    let at = |d: f64| -> Choice {
        let sod = x.second_of_day + d;
        let days = (sod / 86_400.0).floor();
        let tod = TOD0 + ((sod - days * 86_400.0) / TOD_BIN_SECS) as usize % TOD_BINS;
        let dow = DOW0 + (usize::from(x.day_of_week) + days as usize) % 7;
        let p = s.p(x.elapsed + d, d, tod, dow);
        let p_eff = p.max(1e-9);
        Choice {
            delay: d,
            p,
            cost: (d + c * (1.0 - p)) / p_eff,
        }
    };
    let ratio = (hi / lo).powf(1.0 / (GRID - 1) as f64);
    let mut best = at(lo);
    let mut d = lo;
    // A wait's cost is at least the wait itself (p ≤ 1), and both candidate lists increase:
    // once a wait exceeds the best cost so far, no later one can win. Exact, and most
    // decisions stop after a few candidates.
    for _ in 1..GRID {
        d *= ratio;
        if d.min(hi) > best.cost {
            break;
        }
        let ch = at(d.min(hi));
        if ch.cost < best.cost {
            best = ch;
        }
    }
    let into_bin = x.second_of_day.rem_euclid(TOD_BIN_SECS);
    let mut edge = TOD_BIN_SECS - into_bin + EDGE_SLACK;
    while edge < lo {
        edge += TOD_BIN_SECS;
    }
    for _ in 0..EDGES {
        if edge > hi || edge > best.cost {
            break;
        }
        let ch = at(edge);
        if ch.cost < best.cost {
            best = ch;
        }
        edge += TOD_BIN_SECS;
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learned::features::FeatureSchema;

    /// A model that knows only one thing: attempts between 02:00 and 02:20 fail.
    fn window_model() -> LogisticModel {
        let schema = FeatureSchema::new(vec![], vec![]);
        let n = schema.len();
        let mut w = vec![0.0; n];
        w[0] = 2.0;
        for b in 24..28 {
            w[TOD0 + b] = -12.0;
        }
        LogisticModel::new(schema, w, vec![0.0; n]).unwrap()
    }

    #[test]
    fn a_window_is_waited_out_to_its_edge() {
        let m = window_model();
        let x = FeatureInput {
            second_of_day: 2.0 * 3600.0 + 5.0 * 60.0,
            attempt: 2,
            ..Default::default()
        };
        let ch = choose(&m, &x, 10.0, 3600.0);
        // 15 minutes to 02:20, landing just after it.
        assert!((ch.delay - 900.0).abs() < 0.01, "{ch:?}");
        assert!(ch.p > 0.8);
        // Outside the window, the shortest wait wins.
        let x = FeatureInput {
            second_of_day: 5.0 * 3600.0,
            ..x
        };
        assert!(choose(&m, &x, 10.0, 3600.0).delay < 0.02);
    }
}
