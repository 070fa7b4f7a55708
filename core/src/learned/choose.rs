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
/// `second_of_day` and `day_of_week` in `x` are those of now. A boosted model's trees read only
/// what is known now, so they are evaluated once here and shift every wait's logit alike.
///
/// Every candidate is priced exactly unless a bound proves it cannot beat the best so far, and
/// candidates are visited in a fixed order with a strict comparison: the choice is that of
/// pricing every candidate (a proptest checks it against doing so).
pub fn choose(model: &LogisticModel, x: &FeatureInput<'_>, c: f64, max_wait: f64) -> Choice {
    let s = model.scorer(&FeatureInput { delay: 0.0, ..*x });
    // The model's P(success) is marginal, not conditional on the failures this episode just
    // had: a floor of a tenth of the time elapsed keeps a run of optimistic estimates from
    // hammering (at most logarithmically many attempts in an outage). The clock's bin edges
    // are exempt: one comes at most every five minutes, so they cannot hammer, and a window
    // that ends on the clock is met at its end however long the episode has waited (with the
    // floor, a long episode overshot the end by a tenth of its age).
    let edge_lo = model.min_wait.max(MIN_WAIT);
    let lo = edge_lo.max(ELAPSED_FLOOR * x.elapsed);
    let hi = max_wait.clamp(lo, 86_400.0);
    // Where an attempt `d` from now lands: its five-minute bin counted from today's midnight
    // (`bin`), and that bin's time-of-day and day-of-week feature indices (`features`).
    let bin = |d: f64| bin_of((x.second_of_day + d) / TOD_BIN_SECS);
    let features = |b: usize| {
        let dow = DOW0 + (usize::from(x.day_of_week) + b / TOD_BINS) % 7;
        (TOD0 + b % TOD_BINS, dow)
    };
    let cost = |d: f64, p: f64| (d + c * (1.0 - p)) / p.max(1e-9);
    let exact = |d: f64, b: usize| {
        let (tod, dow) = features(b);
        let p = s.p(x.elapsed + d, d, tod, dow);
        Choice {
            delay: d,
            p,
            cost: cost(d, p),
        }
    };
    let mut best = exact(lo, bin(lo).1);
    // The clock's edges first: when a window ends on one, its cost bounds every wait inside
    // the window, which the per-bin bound then skips. An edge is priced only if its own bound
    // (the bin's weights, its wait terms bounded without a library logarithm) leaves it a
    // chance: edges inside a window are skipped for an exponential each.
    let into_bin = rem_bin(x.second_of_day);
    let mut edge = TOD_BIN_SECS - into_bin + EDGE_SLACK;
    while edge < edge_lo {
        edge += TOD_BIN_SECS;
    }
    for _ in 0..EDGES {
        if edge > hi || edge > best.cost {
            break;
        }
        let index = bin(edge).1;
        let (tod, dow) = features(index);
        let bound = s.p_bound(s.wait_terms_max(x.elapsed, edge, edge), tod, dow);
        if cost(edge, bound) < best.cost {
            let ch = exact(edge, index);
            if ch.cost < best.cost {
                best = ch;
            }
        }
        edge += TOD_BIN_SECS;
    }
    let ratio = (hi / lo).powf(1.0 / (GRID - 1) as f64);
    let mut current = Bin::default();
    let mut d = lo;
    // A wait's cost is at least the wait itself (p ≤ 1), and both candidate lists increase:
    // once a wait exceeds the best cost so far, no later one can win. Exact, and most
    // decisions stop after a few candidates.
    for _ in 1..GRID {
        d *= ratio;
        let w = d.min(hi);
        if w > best.cost {
            break;
        }
        let known = w <= current.until;
        if !known {
            let (b, index) = bin(w);
            if b != current.index {
                // Bound the bin's waits from this one on: the bound costs about half a price,
                // and one that rules out this wait rules out the rest of the bin.
                let bin_end = bin_end(x.second_of_day, b);
                let end = bin_end.min(hi).min(best.cost).max(w);
                let (tod, dow) = features(index);
                let bound = s.p_bound(s.wait_terms_max(x.elapsed, w, end), tod, dow);
                // Waits up to `until` are in the bin too: `bin` is monotone in the wait, and
                // the bin of `until` itself is checked.
                let until = bin_end - 2.0 * bin_slack(x.second_of_day, b);
                current = Bin {
                    index: b,
                    features: index,
                    until: if bin(until).0 == b { until } else { w },
                    bound,
                    pruned: false,
                };
            }
        }
        if current.pruned {
            continue;
        }
        // Later waits in the bin share the bound and cost more at it: once it rules one out, it
        // rules out the rest of the bin.
        let hopeful = cost(w, current.bound) < best.cost;
        if !hopeful {
            current.pruned = true;
            continue;
        }
        let ch = exact(w, current.features);
        if ch.cost < best.cost {
            best = ch;
        }
    }
    best
}

/// The grid's current time-of-day bin (`bin`'s index), a bound on P(success) for its waits,
/// and whether the bound has ruled one out (`pruned`).
///
/// The bound holds for every wait of the bin from the first candidate in it up to the best
/// cost when it was computed (no later candidate exceeds that: the search stops first): the
/// bin's own weights, and the wait terms at their largest over those waits (each term is
/// monotone in the wait). Inside a window the model knows fails, a bin's waits are skipped for
/// one logistic. Exact: a skipped wait costs at least the best already found, and since the
/// cost at a fixed probability grows with the wait, so do all later waits in the bin.
struct Bin {
    /// `bin`'s float index, and its index (`features` takes).
    index: f64,
    features: usize,
    /// Every wait from the bin's first candidate up to this lands in the bin (a shortcut past
    /// `bin`'s division).
    until: f64,
    bound: f64,
    pruned: bool,
}

impl Default for Bin {
    fn default() -> Self {
        Bin {
            index: f64::NAN,
            features: 0,
            until: f64::NEG_INFINITY,
            bound: 1.0,
            pruned: false,
        }
    }
}

/// The longest wait from now that lands in five-minute bin `bin` (counted from today's
/// midnight), widened by more than the rounding of the sum `bin` divides and of this difference
/// (`bin_slack`), so that every wait `bin` puts in the bin is at most this.
fn bin_end(second_of_day: f64, bin: f64) -> f64 {
    (bin + 1.0) * TOD_BIN_SECS - second_of_day + bin_slack(second_of_day, bin)
}

/// More than the rounding error of `bin_end`'s difference and of the sum `bin` divides.
fn bin_slack(second_of_day: f64, bin: f64) -> f64 {
    4.0 * f64::EPSILON * (second_of_day.abs() + (bin + 1.0) * TOD_BIN_SECS)
}

/// `v.rem_euclid(TOD_BIN_SECS)`, without the library's bit-by-bit `fmod` where a truncated
/// quotient gives it exactly: for 0 ≤ v < 2^52, v − 300·q is a multiple of v's unit in the
/// last place and below 300 in size, so it and the correction are exact (a quotient rounded up
/// to the next integer leaves it negative, once). The same value for every `v`.
fn rem_bin(v: f64) -> f64 {
    if (0.0..4_503_599_627_370_496.0).contains(&v) {
        let q = (v / TOD_BIN_SECS) as i64 as f64;
        let r = v - q * TOD_BIN_SECS;
        if r < 0.0 {
            r + TOD_BIN_SECS
        } else {
            r
        }
    } else {
        v.rem_euclid(TOD_BIN_SECS)
    }
}

/// The bin of a wait, `v.floor().max(0.0)` as a float and as an index, for `v` its real index,
/// computed with integer conversions where they are exact (x86-64's baseline has no rounding
/// instruction, and `floor` is a call into the maths library): the same values for every `v`.
#[inline]
fn bin_of(v: f64) -> (f64, usize) {
    if (0.0..4_503_599_627_370_496.0).contains(&v) {
        let i = v as i64;
        (i as f64, i as usize)
    } else {
        let bin = v.floor().max(0.0);
        (bin, bin as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learned::features::{FeatureSchema, DECISION};
    use crate::learned::trees::{Tree, Trees};
    use proptest::prelude::{Just, Strategy};

    #[test]
    fn bins_are_those_of_floor() {
        let odd = [
            -1e300,
            -301.0,
            -0.5,
            -0.0,
            0.0,
            1e-300,
            0.5,
            287.999_999,
            288.0,
            4.5e15,
            1e300,
        ];
        let specials = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY];
        for v in odd.into_iter().chain(specials) {
            let bin = v.floor().max(0.0);
            assert_eq!(bin_of(v), (bin, bin as usize), "{v}");
        }
        for i in 0..100_000u32 {
            let v = f64::from(i) * 0.013_7 - 3.0;
            let bin = v.floor().max(0.0);
            assert_eq!(bin_of(v), (bin, bin as usize), "{v}");
        }
    }

    #[test]
    fn remainders_are_those_of_rem_euclid() {
        let same = |v: f64| {
            assert_eq!(
                rem_bin(v).to_bits(),
                v.rem_euclid(TOD_BIN_SECS).to_bits(),
                "{v}"
            );
        };
        let odd = [
            -300.0,
            -1e-300,
            -0.0,
            0.0,
            1e-300,
            299.999_999_999_999_9,
            300.0,
            86_400.0,
        ];
        let specials = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 4.5e15, 1e300];
        for v in odd.into_iter().chain(specials) {
            same(v);
        }
        // Around every multiple of 300 a day (and far beyond), where a rounded quotient lands
        // on the next integer.
        for k in (0..600u32).chain([1 << 20, 1 << 30, u32::MAX]) {
            let m = f64::from(k) * TOD_BIN_SECS;
            let mut v = m;
            for _ in 0..4 {
                v = f64::from_bits(v.to_bits().saturating_sub(1));
                same(v);
            }
            for v in [m, f64::from_bits(m.to_bits() + 1), m + 0.5, m - 0.5] {
                same(v);
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn remainders_match(v in 0.0f64..1e9, scale in -20i32..20) {
            let v = v * 2f64.powi(scale);
            proptest::prop_assert_eq!(rem_bin(v).to_bits(), v.rem_euclid(TOD_BIN_SECS).to_bits());
        }
    }

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

    #[test]
    fn a_long_episode_meets_the_window_end_inside_its_elapsed_floor() {
        let m = window_model();
        // 02:19:00 after 20 minutes of failures: the floor (a tenth of the time elapsed) is
        // 120 s, the window ends in 60 s.
        let x = FeatureInput {
            second_of_day: 2.0 * 3600.0 + 19.0 * 60.0,
            elapsed: 1200.0,
            attempt: 8,
            ..Default::default()
        };
        let ch = choose(&m, &x, 10.0, 3600.0);
        assert!((ch.delay - 60.0).abs() < 0.01, "{ch:?}");
        // Away from an edge the floor holds: outside the window, a tenth of the elapsed time.
        let x = FeatureInput {
            second_of_day: 5.0 * 3600.0 + 30.0,
            ..x
        };
        assert!((choose(&m, &x, 10.0, 3600.0).delay - 120.0).abs() < 0.01);
    }

    /// Every candidate priced, no pruning: what `choose` must agree with.
    fn brute_force(m: &LogisticModel, x: &FeatureInput<'_>, c: f64, max_wait: f64) -> Choice {
        let s = m.scorer(x);
        let lo = m.min_wait.max(MIN_WAIT).max(ELAPSED_FLOOR * x.elapsed);
        let hi = max_wait.clamp(lo, 86_400.0);
        let at = |d: f64| {
            let b = ((x.second_of_day + d) / TOD_BIN_SECS).floor().max(0.0) as usize;
            let tod = TOD0 + b % TOD_BINS;
            let dow = DOW0 + (usize::from(x.day_of_week) + b / TOD_BINS) % 7;
            let p = s.p(x.elapsed + d, d, tod, dow);
            Choice {
                delay: d,
                p,
                cost: (d + c * (1.0 - p)) / p.max(1e-9),
            }
        };
        let ratio = (hi / lo).powf(1.0 / (GRID - 1) as f64);
        let mut best = at(lo);
        let mut d = lo;
        let consider = |ch: Choice, best: &mut Choice| {
            if ch.cost < best.cost {
                *best = ch;
            }
        };
        for _ in 1..GRID {
            d *= ratio;
            consider(at(d.min(hi)), &mut best);
        }
        let mut edge = TOD_BIN_SECS - x.second_of_day.rem_euclid(TOD_BIN_SECS) + EDGE_SLACK;
        while edge < m.min_wait.max(MIN_WAIT) {
            edge += TOD_BIN_SECS;
        }
        for _ in 0..EDGES {
            if edge <= hi {
                consider(at(edge), &mut best);
            }
            edge += TOD_BIN_SECS;
        }
        best
    }

    proptest::proptest! {
        /// Pruning (the cost floor and the per-bin probability bound) never changes the choice,
        /// with or without boosted trees (they shift the wait-independent logit). Each model is
        /// asked about many decisions: a bound that is wrong only rarely shows in few.
        #[test]
        fn pruning_is_exact(
            bias in -6.0f64..6.0,
            w_elapsed in -2.0f64..2.0,
            w_delay in -2.0f64..2.0,
            window_start in 0usize..TOD_BINS,
            window_len in 0usize..12,
            depth in -12.0f64..0.0,
            dow_w in -3.0f64..3.0,
            min_wait in proptest::prop_oneof![Just(0.0), 0.0f64..120.0],
            decisions in proptest::collection::vec(
                (
                    proptest::prop_oneof![
                        0.0f64..86_400.0,
                        // On a bin's edge, or just before it.
                        (0usize..TOD_BINS, 0.0f64..1e-6)
                            .prop_map(|(b, e)| b as f64 * TOD_BIN_SECS - e),
                    ],
                    0u8..7,
                    0.0f64..5_000.0,
                    0.1f64..100.0,
                    0.5f64..7_200.0,
                ),
                32,
            ),
            trees in proptest::collection::vec(
                (
                    (0usize..DECISION.len(), -1.0f64..24.0),
                    (-3.0f64..3.0, -3.0f64..3.0),
                    (-2.0f64..2.0, -2.0f64..2.0),
                ),
                0..4,
            ),
        ) {
            let schema = FeatureSchema::new(vec![], vec![]);
            let n = schema.len();
            let mut w = vec![0.0; n];
            w[0] = bias;
            w[1] = w_elapsed;
            w[2] = w_delay;
            for b in window_start..window_start + window_len {
                w[TOD0 + b % TOD_BINS] = depth;
            }
            w[DOW0 + 5] = dow_w;
            let trees: Vec<Tree> = trees
                .into_iter()
                .map(|((f, thr), (lo, hi), (slope_e, slope_d))| Tree {
                    features: vec![f],
                    thresholds: vec![thr],
                    leaves: vec![[lo, slope_e, 0.0], [hi, 0.0, slope_d]],
                })
                .collect();
            let m = LogisticModel::new(schema, w, vec![0.0; n])
                .unwrap()
                .with_min_wait(min_wait)
                .unwrap()
                .with_trees(Trees::new(&trees, 0.0).unwrap());
            for (sod, day, elapsed, c, max_wait) in decisions {
                let x = FeatureInput {
                    elapsed,
                    second_of_day: sod,
                    day_of_week: day,
                    attempt: 2,
                    ..Default::default()
                };
                let fast = choose(&m, &x, c, max_wait);
                let slow = brute_force(&m, &x, c, max_wait);
                proptest::prop_assert_eq!(fast, slow, "{:?}", x);
            }
        }
    }
}
