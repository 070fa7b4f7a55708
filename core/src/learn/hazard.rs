//! Decay-weighted evidence about recovery times over the bucket grid, and its fit.
//!
//! Evidence comes in two kinds. A failure at elapsed `t` says "not recovered by t": every bucket
//! wholly before `t` was survived (right-censored, exact). A success at `t` after a failure at
//! `t'` says "recovered somewhere in (t', t]" (interval-censored): it is kept as an interval, not
//! guessed into a bucket. The fit is the self-consistent (Turnbull) EM estimate of the discrete
//! hazard, so an interval's mass moves to where the other evidence puts recoveries: vague
//! observations ("back by 4 s") do not smear the estimate once sharper ones ("back by 2 s") exist.
//! Attempts are never treated as independent coin flips.
//!
//! Partial recovery is modelled beside the recovery time: before the dependency recovers, each
//! attempt may still succeed with a pass rate `q` (a brown-out shedding part of its load, an
//! incident that fails only some calls). A success is then either a recovery inside its interval
//! or a lucky attempt while still down, weighed by the fit. `q` itself is estimated by moments:
//! each retry is recorded with the chance `s` that it would fail if recovery were all-or-nothing
//! (the survival ratio over its wait, from the fit of the time); failures are expected to be
//! `(1 - q) * sum(s)`, so `q = 1 - failures / sum(s)`. A free survival curve can explain lucky
//! passes as early recoveries, so `q` is not left to the EM; the moment estimate is not fooled.
//!
//! Decay: each new episode is worth `growth` times the previous one; stored weights are
//! rescaled when they grow large, so nothing is touched per old observation.

use super::grid::BUCKETS;
use super::intervals::Intervals;
use super::prior::Prior;
use serde::{Deserialize, Serialize};

/// Successes observed with recovery in buckets `from..=to`, and their (decayed) weight.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// First bucket recovery may lie in (grid index).
    pub from: u8,
    /// Last bucket recovery may lie in (grid index, inclusive).
    pub to: u8,
    /// Effective (decayed) number of successes with this interval.
    pub weight: f64,
}

/// Distinct intervals kept; beyond it the lightest one is folded into its nearest neighbour.
pub const MAX_INTERVALS: usize = 48;
/// EM iterations from a cold start and from the previous fit.
const COLD_ITERATIONS: usize = 40;
const WARM_ITERATIONS: usize = 12;

/// Decay-weighted survival evidence over the bucket grid (see the module docs): what a model's plan
/// is fitted from.
#[derive(Debug, Clone)]
#[repr(C)] // The scalars a decision reads (episodes) first, the per-bucket counts last.
pub struct Hazard {
    /// Weight of an observation made now.
    weight: f64,
    /// Per-episode growth of `weight`: 2^(1/half_life).
    growth: f64,
    /// Sum of episode weights (effective episode count = episodes / weight).
    episodes: f64,
    /// Weighted count of failed retries (attempts after an episode's first failure that failed).
    retry_failures: f64,
    /// Weighted sum, over retries, of their chance to fail were recovery all-or-nothing.
    expected_failures: f64,
    intervals: Intervals,
    survived: [f64; BUCKETS],
}

/// Pseudo-failures of the pass-rate prior (centred on 0): a few lucky successes do not make a
/// brown-out, but a steady share of them does.
const PASS_PRIOR: f64 = 5.0;

/// The fitted expected counts per bucket (effective units, data only; the prior is added at use).
#[derive(Debug, Clone)]
pub struct Fit {
    /// Expected episodes at risk in each bucket (still down at its start), effective units.
    pub risk: [f32; BUCKETS],
    /// Expected recoveries in each bucket, effective units.
    pub events: [f32; BUCKETS],
    /// Estimated chance that an attempt succeeds while the dependency is still down.
    pub pass_rate: f64,
}

impl Fit {
    /// Posterior mean hazard of bucket `b` (data plus prior).
    #[inline]
    pub fn hazard(&self, b: usize, prior: &Prior) -> f64 {
        let (risk, ev) = self.counts(b, prior);
        if risk <= 0.0 {
            0.0
        } else {
            (ev / risk).clamp(0.0, 1.0)
        }
    }

    /// Data plus prior at-risk and event counts of bucket `b`.
    #[inline]
    pub fn counts(&self, b: usize, prior: &Prior) -> (f64, f64) {
        (
            f64::from(self.risk[b]) + prior.risk[b],
            f64::from(self.events[b]) + prior.events[b],
        )
    }
}

/// The evidence in effective units, as snapshots store it.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    /// Effective episodes known to have survived each bucket.
    pub survived: Vec<f64>,
    /// Effective successes with recovery known to lie in an interval of buckets.
    pub intervals: Vec<Interval>,
    /// Effective (decayed) episodes seen.
    pub episodes: f64,
    /// Failed retries, in effective units (evidence for the pass rate).
    pub retry_failures: f64,
    /// Expected failed retries were recovery all-or-nothing, in effective units.
    pub expected_failures: f64,
}

impl Hazard {
    /// No evidence yet; an episode's weight halves after `half_life_episodes` newer episodes.
    pub fn new(half_life_episodes: f64) -> Hazard {
        Hazard {
            survived: [0.0; BUCKETS],
            intervals: Intervals::default(),
            weight: 1.0,
            growth: 2f64.powf(1.0 / half_life_episodes.max(1.0)),
            episodes: 0.0,
            retry_failures: 0.0,
            expected_failures: 0.0,
        }
    }

    /// Effective (decayed) episodes seen.
    pub fn episodes(&self) -> f64 {
        self.episodes / self.weight
    }

    /// The evidence in effective units (for snapshots, merging and tenant seeding).
    pub fn evidence(&self) -> Evidence {
        let w = self.weight;
        Evidence {
            survived: self.survived.iter().map(|v| v / w).collect(),
            intervals: self
                .intervals
                .iter()
                .map(|i| Interval {
                    weight: i.weight / w,
                    ..i
                })
                .collect(),
            episodes: self.episodes / w,
            retry_failures: self.retry_failures / w,
            expected_failures: self.expected_failures / w,
        }
    }

    /// Add evidence given in effective units, scaled by `factor`.
    pub fn absorb(&mut self, e: &Evidence, factor: f64) {
        let w = self.weight * factor.max(0.0);
        for (dst, src) in self.survived.iter_mut().zip(&e.survived) {
            *dst += w * src.max(0.0);
        }
        for i in &e.intervals {
            let (from, to) = (usize::from(i.from), usize::from(i.to));
            if from <= to && to < BUCKETS {
                self.add_interval(from, to, w * i.weight.max(0.0));
            }
        }
        self.episodes += w * e.episodes.max(0.0);
        self.retry_failures += w * e.retry_failures.max(0.0);
        self.expected_failures += w * e.expected_failures.max(0.0);
    }

    /// A new episode starts: older evidence loses weight relative to it.
    pub fn begin_episode(&mut self) {
        self.weight *= self.growth;
        self.episodes += self.weight;
        if self.weight > 1e12 {
            let w = self.weight;
            self.survived.iter_mut().for_each(|v| *v /= w);
            self.intervals.divide(w);
            self.episodes /= w;
            self.retry_failures /= w;
            self.expected_failures /= w;
            self.weight = 1.0;
        }
    }

    /// The episode survived (did not recover in) buckets `from..to`.
    pub fn survived(&mut self, from: usize, to: usize) {
        let w = self.weight;
        for r in &mut self.survived[from.min(BUCKETS)..to.min(BUCKETS)] {
            *r += w;
        }
    }

    /// A retry's outcome: `failed`, and `fail_chance`, its chance to fail were recovery
    /// all-or-nothing (survival at the attempt over survival at the previous one).
    pub fn retried(&mut self, failed: bool, fail_chance: f64, share: f64) {
        let w = self.weight * share.clamp(0.0, 1.0);
        if failed {
            self.retry_failures += w;
        }
        if fail_chance.is_finite() {
            self.expected_failures += w * fail_chance.clamp(0.0, 1.0);
        }
    }

    /// The moment estimate of the pass rate (see the module doc).
    pub fn pass_rate(&self) -> f64 {
        let (f, e) = (self.retry_failures, self.expected_failures);
        let q = 1.0 - (f + PASS_PRIOR * self.weight) / (e + PASS_PRIOR * self.weight);
        if q.is_finite() {
            q.clamp(0.0, 0.95)
        } else {
            0.0
        }
    }

    /// The episode recovered somewhere in buckets `from..=to`.
    pub fn recovered(&mut self, from: usize, to: usize) {
        let to = to.min(BUCKETS - 1);
        self.add_interval(from.min(to), to, self.weight);
    }

    fn add_interval(&mut self, from: usize, to: usize, weight: f64) {
        self.intervals.add(from as u8, to as u8, weight);
    }

    /// Fit the hazard and the pass rate by EM, starting from `warm` (the previous fit) when given.
    pub fn fit(&self, prior: &Prior, warm: Option<&Fit>) -> Fit {
        let w = self.weight;
        let mut h = [0f64; BUCKETS];
        let q = self.pass_rate();
        let iterations = match warm {
            Some(f) => {
                for (b, hb) in h.iter_mut().enumerate() {
                    *hb = f.hazard(b, prior);
                }
                WARM_ITERATIONS
            }
            None => {
                for (b, hb) in h.iter_mut().enumerate() {
                    *hb = prior.events[b] / prior.risk[b].max(1e-12);
                }
                COLD_ITERATIONS
            }
        };
        let mut risk = [0f64; BUCKETS];
        let mut events = [0f64; BUCKETS];
        let mut share = [0f64; BUCKETS];
        for _ in 0..iterations.max(1) {
            for b in 0..BUCKETS {
                risk[b] = self.survived[b] / w;
                events[b] = 0.0;
            }
            for iv in self.intervals.iter() {
                let (from, to) = (usize::from(iv.from), usize::from(iv.to));
                let mut alive = 1.0;
                let mut total = 0.0;
                for b in from..=to {
                    let hb = h[b].max(1e-9);
                    share[b] = alive * hb;
                    total += share[b];
                    alive *= 1.0 - hb;
                }
                // Recovered inside the interval, or still down and the attempt was lucky.
                let lucky = q * alive / (total + q * alive).max(1e-300);
                let weight = iv.weight / w;
                let (recovered, lucky_w) = (weight * (1.0 - lucky), weight * lucky);
                let mut remaining = 1.0;
                for b in from..=to {
                    let p = share[b] / total;
                    risk[b] += recovered * remaining + lucky_w;
                    events[b] += recovered * p;
                    remaining = (remaining - p).max(0.0);
                }
            }
            for b in 0..BUCKETS {
                let r = risk[b] + prior.risk[b];
                h[b] = if r > 0.0 {
                    ((events[b] + prior.events[b]) / r).clamp(0.0, 1.0)
                } else {
                    0.0
                };
            }
        }
        let mut fit = Fit {
            risk: [0.0; BUCKETS],
            events: [0.0; BUCKETS],
            pass_rate: q,
        };
        for b in 0..BUCKETS {
            fit.risk[b] = risk[b] as f32;
            fit.events[b] = events[b] as f32;
        }
        fit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weak() -> Prior {
        Prior::log_logistic(1.0, 1e-6)
    }

    #[test]
    fn censored_failures_add_risk_only() {
        let mut h = Hazard::new(1e9);
        h.begin_episode();
        h.survived(0, 10);
        let fit = h.fit(&weak(), None);
        assert!(fit.risk[..10].iter().all(|&v| (v - 1.0).abs() < 1e-4));
        assert_eq!(fit.risk[10], 0.0);
        assert!(fit.events.iter().all(|&v| v == 0.0));
    }

    #[test]
    fn vague_intervals_move_into_sharper_ones() {
        // 50 episodes: "back by bucket 40"; 50: "back by bucket 30"; 50: "still down at 28".
        let mut h = Hazard::new(1e9);
        for _ in 0..50 {
            h.begin_episode();
            h.recovered(0, 40);
            h.begin_episode();
            h.recovered(0, 30);
            h.begin_episode();
            h.survived(0, 28);
        }
        let fit = h.fit(&weak(), None);
        let mass_29_30: f32 = fit.events[28..=30].iter().sum();
        let mass_after: f32 = fit.events[31..=40].iter().sum();
        let total: f32 = fit.events.iter().sum();
        assert!((total - 100.0).abs() < 1e-2);
        assert!(
            mass_29_30 > 95.0,
            "mass in the innermost interval: {mass_29_30}"
        );
        assert!(mass_after < 5.0, "{mass_after}");
    }

    #[test]
    fn decay_halves_old_evidence_and_rescaling_keeps_it() {
        let mut h = Hazard::new(10.0);
        h.begin_episode();
        h.survived(0, 1);
        for _ in 0..10 {
            h.begin_episode();
        }
        assert!((h.evidence().survived[0] - 0.5).abs() < 1e-9);
        for _ in 0..2000 {
            h.begin_episode();
        }
        assert!(h.episodes().is_finite() && h.episodes() > 10.0);
    }

    #[test]
    fn interval_list_stays_bounded() {
        let mut h = Hazard::new(1e9);
        for i in 0..200usize {
            h.begin_episode();
            h.recovered(i % 90, (i % 90) + 3);
        }
        assert!(h.intervals.len() <= MAX_INTERVALS);
        let total: f64 = h.evidence().intervals.iter().map(|i| i.weight).sum();
        assert!(
            (total - 200.0).abs() < 1e-3,
            "folding keeps the weight: {total}"
        );
    }
}

#[cfg(test)]
mod pass_rate_tests {
    use super::*;
    use crate::learn::grid::{buckets_passed, last_possible_bucket};
    use rand::rngs::SmallRng;
    use rand::{Rng, SeedableRng};

    /// Episodes retried with full jitter (base 5 s): recovery after `recovery(rng)`, and before
    /// that each attempt passes with chance `q`.
    fn episodes(q: f64, n: usize, recovery: impl Fn(&mut SmallRng) -> f64) -> Hazard {
        let mut rng = SmallRng::seed_from_u64(9);
        let mut h = Hazard::new(1e9);
        let prior = Prior::log_logistic(10.0, 2.0);
        let mut plan = crate::learn::planner::build(&h, &prior, 2.0, 3600.0, None);
        for i in 0..n {
            if i % 100 == 99 {
                plan = crate::learn::planner::build(&h, &prior, 2.0, 3600.0, Some(&plan.fit));
            }
            let r = recovery(&mut rng);
            h.begin_episode();
            let (mut t, mut passed) = (0.0, 0);
            for retry in 1..200 {
                let cap: f64 = (5.0 * 2f64.powi(retry - 1)).min(60.0);
                let before = t;
                t += rng.random::<f64>() * cap;
                let s = plan.survival_at(t) / plan.survival_at(before).max(1e-300);
                let short = before > 0.0 && t - before <= 0.25 * before;
                if t >= r || rng.random::<f64>() < q {
                    if short {
                        h.retried(false, s, 1.0);
                    }
                    h.recovered(passed, last_possible_bucket(t));
                    break;
                }
                if short {
                    h.retried(true, s, 1.0);
                }
                let now = buckets_passed(t);
                if now > passed {
                    h.survived(passed, now);
                    passed = now;
                }
            }
        }
        h
    }

    #[test]
    fn pass_rate_is_found_in_a_brown_out_and_zero_without_one() {
        let prior = Prior::log_logistic(10.0, 2.0);
        let lognormal = |median: f64| {
            move |rng: &mut SmallRng| {
                let z: f64 = (0..12).map(|_| rng.random::<f64>()).sum::<f64>() - 6.0;
                median * (0.8 * z).exp()
            }
        };
        let brown = episodes(0.3, 3000, lognormal(60.0)).fit(&prior, None);
        let clean = episodes(0.0, 3000, lognormal(8.0)).fit(&prior, None);
        eprintln!(
            "brown-out q {} clean q {}",
            brown.pass_rate, clean.pass_rate
        );
        assert!(brown.pass_rate > 0.15, "{}", brown.pass_rate);
        assert!(clean.pass_rate < 0.05, "{}", clean.pass_rate);
    }
}
