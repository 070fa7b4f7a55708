//! The planner: a small dynamic programme over the bucket grid that picks the next attempt
//! minimising expected time-to-success plus `failure_cost` per failed attempt, knowing how many
//! retries remain. Its table is cached per model and rebuilt as evidence arrives.
//!
//! An attempt planned "in bucket k" is made at a random time inside that bucket (the plan is a
//! distribution, not a point), so clients that fail together do not retry together. The programme
//! prices that jitter: the wait runs to the bucket's middle, and the chance the attempt fails is
//! the survival at the middle times `1 - q` (the pass rate of attempts made while still down).
//!
//! From "failed in bucket i with r retries left":
//! ```text
//!   V[i][r] = min( H - m_i,                                        (stop: wait out the deadline)
//!                  min_k  (m_k - m_i) + (1-q) S(m_k)/S(m_i) * (c + V[k][r-1]) )
//! ```
//! where m_b is the middle of bucket b and S the survival curve (P(still down)). One more kind of
//! move: poll `n` times, evenly spaced, from m_i to m_{i+1} and continue from bucket i+1 with
//! `r - n` retries (`polls`), for outages of many minutes where one attempt per bucket (19% of
//! the time elapsed) finds the recovery too late.

use super::grid::{edge, BUCKETS};
use super::hazard::{Fit, Hazard};
use super::polls::{Stretch, POLLS};
use super::prior::Prior;
use std::sync::atomic::{AtomicU8, Ordering};

/// Retries the plan distinguishes exactly; with more left, the plan is the one for unlimited
/// retries (its own layer: every move goes to a later bucket, so one backward pass computes it).
pub const RETRY_LAYERS: usize = 8;
/// Layers of `Plan::next`: 1..=RETRY_LAYERS retries left, then "more".
pub const LAYERS: usize = RETRY_LAYERS + 1;
/// `next` value meaning "stop".
pub const STOP: u8 = 0;
/// `next` values from here on mean "poll": `POLLS[value - POLL_CODE]` attempts evenly spaced
/// until the next bucket's middle (see `polls`).
const POLL_CODE: u8 = 128;

/// The plan's next move.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Step {
    /// One attempt inside bucket `k` (a later bucket).
    Bucket(usize),
    /// Attempts every `every` seconds while in the current bucket.
    Poll {
        /// The spacing of the attempts, seconds.
        every: f64,
    },
}

/// A cached plan for one model. Immutable once built (its confidence cache fills in lock-free), so
/// it is shared by `Arc` between the model, the lock-free readers and the rebuild worker.
#[derive(Debug)]
#[repr(C)] // Fields in this order: what a decision reads first shares its first cache lines.
pub struct Plan {
    /// The failure cost and horizon (seconds) the plan was built for.
    pub built_for: (f64, f64),
    /// Chance that an attempt succeeds while the dependency is still down.
    pub pass_rate: f64,
    /// Expected cost (seconds) of the plan from the first failure, with all retries left.
    pub expected_cost: f64,
    /// Confidence (0..=254, 255 = not computed yet) of the plan's step from each bucket.
    confidence: [AtomicU8; BUCKETS],
    /// The log of the survival at each edge (posterior mean; -inf where it is 0): a reading
    /// between two edges is then one `exp`, where the survival itself would take a power.
    ln_survival: [f32; BUCKETS + 1],
    /// `next[i][r-1]`: the bucket of the next attempt from bucket `i` with `r` retries left (the
    /// last layer: more than `RETRY_LAYERS`), or `STOP`.
    pub next: [[u8; LAYERS]; BUCKETS],
    /// The fitted counts the plan was built from.
    pub fit: Fit,
    /// Where the plan's grid ends (the end of its last bucket inside the horizon): where a poll
    /// from that bucket ends.
    grid_end: f64,
}

/// Confidence cache value meaning "not computed yet".
const UNKNOWN: u8 = 255;

impl Plan {
    /// Confidence of the plan's step from bucket `from` to edge `to`, computed once per plan and
    /// bucket (the first `to` asked for is the one kept).
    pub fn confidence(&self, prior: &Prior, from: usize, to: usize) -> f64 {
        self.confidence_with(from, |fit| confidence(fit, prior, from, to))
    }

    /// The cached confidence of the step from bucket `from`, or `compute`'s answer (from the
    /// plan's fit), cached.
    pub fn confidence_with(&self, from: usize, compute: impl FnOnce(&Fit) -> f64) -> f64 {
        let cell = &self.confidence[from.min(BUCKETS - 1)];
        let mut v = cell.load(Ordering::Relaxed);
        if v == UNKNOWN {
            v = (compute(&self.fit) * 254.0).round() as u8;
            cell.store(v, Ordering::Relaxed);
        }
        f64::from(v) / 254.0
    }

    /// P(an attempt at `to` succeeds | still failing at `from`), seconds since the episode
    /// began: recovered by then, or a lucky pass while still down.
    pub fn success_probability(&self, from: f64, to: f64) -> f64 {
        self.success_in(
            from,
            super::grid::bucket_of(from),
            to,
            super::grid::bucket_of(to),
        )
    }

    /// `success_probability` and the buckets of `from` and `to` (what the step's confidence
    /// is looked up by), each bucket found once.
    pub fn success_and_buckets(&self, from: f64, to: f64) -> (f64, usize, usize) {
        let (b_from, b_to) = (super::grid::bucket_of(from), super::grid::bucket_of(to));
        (self.success_in(from, b_from, to, b_to), b_from, b_to)
    }

    fn success_in(&self, from: f64, b_from: usize, to: f64, b_to: usize) -> f64 {
        let s_from = self.survival_in(from, b_from);
        if s_from <= 0.0 {
            return 1.0;
        }
        let down = (self.survival_in(to, b_to) / s_from).clamp(0.0, 1.0);
        (1.0 - down * (1.0 - self.pass_rate)).clamp(0.0, 1.0)
    }

    /// When (seconds since the first failure) to make the next attempt from elapsed `t` with
    /// `retries_left`, jittered by `u` in [0, 1) (inside the planned bucket, or between half and
    /// one and a half poll spacings); None: stop.
    pub fn next_attempt(&self, t: f64, retries_left: u32, u: f64) -> Option<f64> {
        Some(match self.next_step(t, retries_left)? {
            Step::Bucket(k) => jittered(k, u).max(t),
            Step::Poll { every } => t + every * (0.5 + u.clamp(0.0, 1.0)),
        })
    }

    /// The next move from elapsed `t` with `retries_left`, or None to stop.
    pub fn next_step(&self, t: f64, retries_left: u32) -> Option<Step> {
        let r = (retries_left.max(1) as usize).min(LAYERS);
        let b = super::grid::bucket_of(t);
        match self.next[b][r - 1] {
            STOP => None,
            code if code >= POLL_CODE => {
                let n = POLLS[usize::from(code - POLL_CODE).min(POLLS.len() - 1)];
                let (start, end) = poll_span(b, self.grid_end);
                Some(Step::Poll {
                    every: super::polls::spacing(start, end, n),
                })
            }
            k => Some(Step::Bucket(usize::from(k))),
        }
    }

    /// Survival at `t` seconds, log-linear between edges.
    pub fn survival_at(&self, t: f64) -> f64 {
        self.survival_in(t, super::grid::bucket_of(t))
    }

    /// `survival_at(t)`, given `b = bucket_of(t)`: log-linear between the bucket's edges, linear
    /// into a survival of 0.
    #[inline]
    fn survival_in(&self, t: f64, b: usize) -> f64 {
        let (t0, t1) = (edge(b), edge(b + 1));
        let (l0, l1) = (
            f64::from(self.ln_survival[b]),
            f64::from(self.ln_survival[b + 1]),
        );
        if t >= t1 {
            return l1.exp();
        }
        let f = if t1 > t0 {
            ((t - t0) / (t1 - t0)).clamp(0.0, 1.0)
        } else {
            0.0
        };
        if f == 0.0 || l0 == l1 {
            return l0.exp();
        }
        if l1 == f64::NEG_INFINITY || l0 == f64::NEG_INFINITY {
            let (s0, s1) = (l0.exp(), l1.exp());
            return s0 + (s1 - s0) * f;
        }
        (l0 + (l1 - l0) * f).exp()
    }

    /// The survival at edge `i` (posterior mean).
    fn survival_at_edge(&self, i: usize) -> f64 {
        f64::from(self.ln_survival[i]).exp()
    }

    /// P(recovered by `t`) at each grid edge up to `horizon`: the learned recovery curve.
    pub fn recovery_curve(&self, horizon: f64) -> Vec<(f64, f64)> {
        (1..=BUCKETS)
            .take_while(|&i| edge(i) <= horizon * 1.0001)
            .map(|i| (edge(i), 1.0 - self.survival_at_edge(i)))
            .collect()
    }
}

/// The middle of bucket `b` (where a jittered attempt planned in it lands on average).
#[inline]
pub fn mid(b: usize) -> f64 {
    (edge(b) + edge(b + 1)) / 2.0
}

/// The last bucket whose end lies inside `horizon`: the plan's last attempt goes in it.
fn last_bucket(horizon: f64) -> usize {
    (1..BUCKETS)
        .take_while(|&k| edge(k + 1) <= horizon * 1.0001)
        .last()
        .unwrap_or(1)
}

/// Where a poll from bucket `b` starts and ends: from the bucket's middle (the first failure
/// for bucket 0) to the next bucket's middle, or to the grid's end (`end`) from its last bucket.
fn poll_span(b: usize, end: f64) -> (f64, f64) {
    let start = if b == 0 { 0.0 } else { mid(b) };
    if edge(b + 1) < end {
        (start, mid(b + 1))
    } else {
        (start, end)
    }
}

/// A random time inside bucket `k`, uniform on a log scale (the jitter of a planned attempt).
pub fn jittered(k: usize, u: f64) -> f64 {
    let (lo, hi) = (edge(k), edge(k + 1));
    if lo <= 0.0 {
        return hi * u.clamp(0.0, 1.0);
    }
    lo * (u.clamp(0.0, 1.0) * super::grid::ln_step(k)).exp()
}

/// Fit the evidence (warm-started from `previous`) and build the plan. `cost` is the price of
/// one failed attempt and `horizon` the deadline, both in seconds.
pub fn build(
    hazard: &Hazard,
    prior: &Prior,
    cost: f64,
    horizon: f64,
    previous: Option<&Fit>,
) -> Plan {
    let fit = hazard.fit(prior, previous);
    let q = fit.pass_rate;
    let mut s = [0f64; BUCKETS + 1];
    s[0] = 1.0;
    for b in 0..BUCKETS {
        s[b + 1] = s[b] * (1.0 - fit.hazard(b, prior));
    }
    // Survival at each bucket's middle (geometric mean of its edges' survival).
    let mut sm = [0f64; BUCKETS];
    for b in 0..BUCKETS {
        sm[b] = (s[b] * s[b + 1]).sqrt();
    }
    let k_max = last_bucket(horizon);
    let h = horizon.max(mid(k_max));
    let mut ls = [0f64; BUCKETS + 1];
    for (l, v) in ls.iter_mut().zip(s.iter()) {
        *l = v.max(1e-300).ln();
    }
    let mut v = vec![[0f64; LAYERS + 1]; BUCKETS + 1];
    let mut next = [[STOP; LAYERS]; BUCKETS];
    // A step from bucket `i` to bucket `k`: its wait and its chance to fail, the same for every
    // number of retries left (so found once per step, not once per layer).
    let (mut wait, mut fail) = ([0f64; BUCKETS], [0f64; BUCKETS]);
    for i in (0..=k_max).rev() {
        let t_i = if i == 0 { 0.0 } else { mid(i) };
        v[i][0] = h - t_i;
        let si = if i == 0 { 1.0 } else { sm[i].max(1e-300) };
        // Twelve doublings ahead at most: a plan never needs a longer single wait.
        let steps = (i + 1)..=k_max.min(i + 48);
        for k in steps.clone() {
            wait[k] = mid(k) - t_i;
            fail[k] = (1.0 - q) * (sm[k] / si).min(1.0);
        }
        // Polls to the next bucket's middle (to the grid's end from its last bucket), each
        // number of attempts priced once. They are priced without the pass rate: polling is for
        // finding a recovery sooner, and betting a burst of attempts on lucky passes is what a
        // retry storm is made of (the grid's own steps still weigh the pass rate).
        let (start, end) = poll_span(i, edge(k_max + 1));
        let stretch = Stretch::new(i, start, end, &ls);
        let polls = POLLS.map(|n| stretch.price(n, 0.0, cost));
        for r in 1..=LAYERS {
            // The last layer (more retries than the plan counts) continues in itself.
            let then = if r == LAYERS { LAYERS } else { r - 1 };
            let mut best = h - t_i;
            let mut best_k = STOP;
            for k in steps.clone() {
                let c = wait[k] + fail[k] * (cost + v[k][then]);
                if c < best {
                    best = c;
                    best_k = k as u8;
                }
            }
            for (p, (&n, &(expected, all_fail))) in POLLS.iter().zip(polls.iter()).enumerate() {
                let n = usize::from(n);
                if r < LAYERS && n > r {
                    break;
                }
                let left = if r == LAYERS { LAYERS } else { r - n };
                // After the last poll: the next bucket's state, or (from the last bucket) stop.
                let after = if i < k_max { v[i + 1][left] } else { h - end };
                let c = expected + all_fail * after;
                if c < best {
                    best = c;
                    best_k = POLL_CODE + p as u8;
                }
            }
            v[i][r] = best;
            if i < BUCKETS {
                next[i][r - 1] = best_k;
            }
        }
    }
    Plan {
        next,
        ln_survival: s.map(|v| {
            if v > 0.0 {
                v.ln() as f32
            } else {
                f32::NEG_INFINITY
            }
        }),
        confidence: std::array::from_fn(|_| AtomicU8::new(UNKNOWN)),
        pass_rate: q,
        expected_cost: v[0][LAYERS],
        fit,
        built_for: (cost, horizon),
        grid_end: edge(k_max + 1),
    }
}

/// Confidence in the estimate "recovered between the start of bucket `from` and edge `to`": one
/// minus the width of the 90% credible interval of a Beta posterior over the pooled counts.
pub fn confidence(fit: &Fit, prior: &Prior, from: usize, to: usize) -> f64 {
    use statrs::distribution::{Beta, ContinuousCDF};
    let from = from.min(BUCKETS - 1);
    let (at_risk, _) = fit.counts(from, prior);
    let events: f64 = (from..to.clamp(from + 1, BUCKETS))
        .map(|b| fit.counts(b, prior).1)
        .sum::<f64>()
        .min(at_risk);
    let a = events + 0.5;
    let b = (at_risk - events).max(0.0) + 0.5;
    // The Beta inverse slows to a crawl for parameters in the millions; past 1e5 the interval is
    // far narrower than any confidence shown, so the same shape with smaller counts is as good.
    let shrink = (1e5 / (a + b)).min(1.0);
    let (a, b) = ((a * shrink).max(0.5), (b * shrink).max(0.5));
    match Beta::new(a, b) {
        Ok(beta) => (1.0 - (beta.inverse_cdf(0.95) - beta.inverse_cdf(0.05))).clamp(0.0, 1.0),
        Err(_) => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learn::grid::{bucket_of, buckets_passed, last_possible_bucket};

    /// Feed `n` all-or-nothing episodes with recovery time `t_rec` observed by probing every edge.
    fn fit(recovery: impl Fn(usize) -> f64, n: usize) -> (Hazard, Prior) {
        let prior = Prior::log_logistic(5.0, 1.0);
        let mut h = Hazard::new(1e9);
        for j in 0..n {
            let t = recovery(j);
            h.begin_episode();
            let passed = buckets_passed(t);
            h.survived(0, passed);
            h.recovered(passed, last_possible_bucket(t));
        }
        (h, prior)
    }

    #[test]
    fn known_recovery_plans_one_attempt_just_after_it() {
        // Every outage lasts between 8 and 10 s: the best plan retries once, at about 10 s.
        let (h, prior) = fit(|j| 8.0 + 2.0 * (j % 100) as f64 / 100.0, 2000);
        let plan = build(&h, &prior, 2.0, 3600.0, None);
        let k = plan.next[0][RETRY_LAYERS - 1] as usize;
        assert!(k != 0);
        let t = mid(k);
        assert!((8.5..=12.0).contains(&t), "next attempt at {t}");
        assert!(plan.success_probability(0.0, edge(k + 1)) > 0.95);
        let c = confidence(&plan.fit, &prior, 0, k);
        assert!(c > 0.9, "confidence {c}");
    }

    #[test]
    fn costly_failures_push_the_attempt_later() {
        // Recovery uniform in 0..20 s: a cheap failure retries early, an expensive one waits.
        let (h, prior) = fit(|j| 20.0 * ((j % 200) as f64 + 0.5) / 200.0, 4000);
        let cheap = mid(build(&h, &prior, 0.1, 3600.0, None).next[0][RETRY_LAYERS - 1] as usize);
        let dear = mid(build(&h, &prior, 60.0, 3600.0, None).next[0][RETRY_LAYERS - 1] as usize);
        assert!(cheap < dear, "cheap {cheap} dear {dear}");
        assert!(dear >= 15.0);
    }

    #[test]
    fn cheap_attempts_against_a_spread_out_recovery_poll_within_a_bucket() {
        // Recovery spread evenly over 10 to 30 minutes, a failed attempt costing 0.5 s: one
        // attempt per bucket (about 190 s apart at 1,000 s) finds it too late.
        let (h, prior) = fit(|j| 600.0 + 1200.0 * ((j % 400) as f64 + 0.5) / 400.0, 4000);
        let plan = build(&h, &prior, 0.5, 7200.0, None);
        let t = 1000.0;
        let width = edge(bucket_of(t) + 1) - edge(bucket_of(t));
        match plan.next_step(t, 50) {
            Some(Step::Poll { every }) => {
                assert!(
                    every > 0.0 && every < width / 2.0,
                    "every {every}, bucket {width}"
                );
                let at = plan.next_attempt(t, 50, 0.25).unwrap_or(0.0);
                assert!((at - (t + 0.75 * every)).abs() < 1e-9);
            }
            other => panic!("expected a poll at {t} s, got {other:?}"),
        }
        // The same outage with dear attempts: one attempt per bucket at most.
        let dear = build(&h, &prior, 300.0, 7200.0, None);
        assert!(!matches!(dear.next_step(t, 50), Some(Step::Poll { .. })));
        // Few retries left: never more polls than retries.
        assert!(!matches!(plan.next_step(t, 1), Some(Step::Poll { .. })));
    }

    #[test]
    fn one_retry_left_waits_for_certainty() {
        let (h, prior) = fit(|j| 20.0 * ((j % 200) as f64 + 0.5) / 200.0, 4000);
        let plan = build(&h, &prior, 1.0, 3600.0, None);
        let last = mid(plan.next[0][0] as usize);
        let many = mid(plan.next[0][RETRY_LAYERS - 1] as usize);
        assert!(
            last >= many,
            "with one retry left, wait at least as long: {last} vs {many}"
        );
        assert!(last >= 19.0);
    }

    #[test]
    fn the_curve_is_read_log_linearly_between_edges_and_linearly_into_zero() {
        let (h, prior) = fit(|j| 20.0 * ((j % 200) as f64 + 0.5) / 200.0, 4000);
        let mut plan = build(&h, &prior, 1.0, 3600.0, None);
        let b = bucket_of(10.0);
        let (t0, t1) = (edge(b), edge(b + 1));
        let (s0, s1) = (plan.survival_at(t0), plan.survival_at(t1));
        assert!(s0 > s1 && s1 > 0.0, "a falling stretch: {s0} then {s1}");
        // At the edges: the survival as built, to its f32 storage.
        assert!((plan.survival_at(t0) - plan.survival_at_edge(b)).abs() < 1e-12);
        // Between them: geometric interpolation, s0 * (s1 / s0)^f.
        for f in [0.1, 0.5, 0.9] {
            let t = t0 + f * (t1 - t0);
            let want = s0 * (s1 / s0).powf(f);
            assert!((plan.survival_at(t) / want - 1.0).abs() < 1e-9, "f {f}");
        }
        // Into a survival of 0 the reading is linear (a log-linear one would be 0 at once).
        plan.ln_survival[b + 1] = f32::NEG_INFINITY;
        let mid_t = t0 + 0.5 * (t1 - t0);
        assert!((plan.survival_at(mid_t) - 0.5 * s0).abs() < 1e-12);
        // A jittered attempt stays inside its bucket, log-uniform: u = 0.5 is the geometric middle.
        for k in [1, b, BUCKETS - 1] {
            let (lo, hi) = (edge(k), edge(k + 1));
            assert_eq!(jittered(k, 0.0), lo);
            assert!((jittered(k, 1.0) / hi - 1.0).abs() < 1e-12);
            assert!((jittered(k, 0.5) / (lo * hi).sqrt() - 1.0).abs() < 1e-12);
        }
    }
}
