//! Decay-weighted discrete-time hazard counts over the bucket grid, fitted from censored outcomes.
//!
//! An episode that failed at elapsed `t` says only "not recovered by t" (right-censored): every
//! bucket wholly before `t` gains one at-risk count and no event. A success at `t` after a failure
//! at `t'` says "recovered somewhere in (t', t]" (interval-censored): the event is spread over
//! those buckets in proportion to the current estimate (one EM step). Attempts are never treated
//! as independent coin flips: what a failure at `t` proves is carried to every later decision.
//!
//! Decay: instead of shrinking every count for each new episode, each new episode is worth
//! `growth` times the previous one; counts are rescaled when the weight grows large.

use super::grid::BUCKETS;
use super::prior::Prior;

#[derive(Debug, Clone)]
pub struct Hazard {
    risk: [f64; BUCKETS],
    events: [f64; BUCKETS],
    /// Weight of an observation made now.
    weight: f64,
    /// Per-episode growth of `weight`: 2^(1/half_life).
    growth: f64,
    /// Sum of episode weights (effective episode count = episodes / weight).
    episodes: f64,
}

impl Hazard {
    pub fn new(half_life_episodes: f64) -> Hazard {
        Hazard {
            risk: [0.0; BUCKETS],
            events: [0.0; BUCKETS],
            weight: 1.0,
            growth: 2f64.powf(1.0 / half_life_episodes.max(1.0)),
            episodes: 0.0,
        }
    }

    /// A model holding the given effective counts (from a snapshot or a tenant's queue prior).
    pub fn from_counts(half_life: f64, risk: &[f64], events: &[f64], episodes: f64) -> Hazard {
        let mut h = Hazard::new(half_life);
        for b in 0..BUCKETS {
            h.risk[b] = risk.get(b).copied().unwrap_or(0.0).max(0.0);
            h.events[b] = events.get(b).copied().unwrap_or(0.0).clamp(0.0, h.risk[b]);
        }
        h.episodes = episodes.max(0.0);
        h
    }

    /// Effective (decayed) episodes seen.
    pub fn episodes(&self) -> f64 {
        self.episodes / self.weight
    }

    /// Effective at-risk and event counts (for snapshots and merging).
    pub fn counts(&self) -> (Vec<f64>, Vec<f64>) {
        let w = self.weight;
        (
            self.risk.iter().map(|v| v / w).collect(),
            self.events.iter().map(|v| v / w).collect(),
        )
    }

    /// A new episode starts: older evidence loses weight relative to it.
    pub fn begin_episode(&mut self) {
        self.weight *= self.growth;
        self.episodes += self.weight;
        if self.weight > 1e12 {
            let w = self.weight;
            self.risk.iter_mut().for_each(|v| *v /= w);
            self.events.iter_mut().for_each(|v| *v /= w);
            self.episodes /= w;
            self.weight = 1.0;
        }
    }

    /// The episode survived (did not recover in) buckets `from..to`.
    pub fn survived(&mut self, from: usize, to: usize) {
        let w = self.weight;
        for r in &mut self.risk[from.min(BUCKETS)..to.min(BUCKETS)] {
            *r += w;
        }
    }

    /// Posterior mean hazard of bucket `b` (data plus prior).
    #[inline]
    pub fn hazard(&self, b: usize, prior: &Prior) -> f64 {
        let w = self.weight;
        let risk = self.risk[b] / w + prior.risk[b];
        let ev = self.events[b] / w + prior.events[b];
        if risk <= 0.0 {
            return 0.0;
        }
        (ev / risk).clamp(0.0, 1.0)
    }

    /// Effective (data + prior) at-risk and event counts of bucket `b`.
    pub fn bucket_counts(&self, b: usize, prior: &Prior) -> (f64, f64) {
        let w = self.weight;
        (
            self.risk[b] / w + prior.risk[b],
            self.events[b] / w + prior.events[b],
        )
    }

    /// The episode recovered somewhere in buckets `from..=to`: spread one event over them in
    /// proportion to the current estimate of where recovery happens.
    pub fn recovered(&mut self, from: usize, to: usize, prior: &Prior) {
        let to = to.min(BUCKETS - 1);
        let from = from.min(to);
        let w = self.weight;
        if from == to {
            self.risk[to] += w;
            self.events[to] += w;
            return;
        }
        // P(event in b) ∝ h_b * prod_{a<b} (1 - h_a), over the interval.
        let mut share = [0.0f64; BUCKETS];
        let mut alive = 1.0;
        for (b, slot) in share.iter_mut().enumerate().take(to + 1).skip(from) {
            let h = self.hazard(b, prior).max(1e-9);
            *slot = alive * if b == to { 1.0 } else { h };
            alive *= 1.0 - h;
        }
        let total: f64 = share[from..=to].iter().sum();
        let mut remaining = 1.0;
        for (b, s) in share.iter().enumerate().take(to + 1).skip(from) {
            let p = s / total;
            self.risk[b] += w * remaining;
            self.events[b] += w * p;
            remaining = (remaining - p).max(0.0);
        }
    }

    /// Add another model's effective counts (pooling what two processes learned).
    pub fn merge(&mut self, risk: &[f64], events: &[f64], episodes: f64) {
        let w = self.weight;
        for b in 0..BUCKETS {
            let r = risk.get(b).copied().unwrap_or(0.0).max(0.0);
            self.risk[b] += w * r;
            self.events[b] += w * events.get(b).copied().unwrap_or(0.0).clamp(0.0, r);
        }
        self.episodes += w * episodes.max(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat() -> Prior {
        Prior::log_logistic(1.0, 1e-9)
    }

    #[test]
    fn censored_failures_add_risk_only() {
        let mut h = Hazard::new(1e9);
        h.begin_episode();
        h.survived(0, 10);
        let (r, e) = h.counts();
        assert!(r[..10].iter().all(|&v| (v - 1.0).abs() < 1e-6));
        assert_eq!(r[10], 0.0);
        assert!(e.iter().all(|&v| v == 0.0));
    }

    #[test]
    fn interval_event_is_spread_and_sums_to_one() {
        let mut h = Hazard::new(1e9);
        h.begin_episode();
        h.recovered(5, 9, &flat());
        let (r, e) = h.counts();
        let total: f64 = e.iter().sum();
        assert!((total - 1.0).abs() < 1e-9);
        assert!((r[5] - 1.0).abs() < 1e-9);
        assert!(r[9] > 0.0 && r[9] < 1.0);
    }

    #[test]
    fn decay_halves_old_evidence() {
        let mut h = Hazard::new(10.0);
        h.begin_episode();
        h.survived(0, 1);
        for _ in 0..10 {
            h.begin_episode();
        }
        let (r, _) = h.counts();
        assert!((r[0] - 0.5).abs() < 1e-9, "{}", r[0]);
        // rescaling keeps effective counts
        for _ in 0..500 {
            h.begin_episode();
        }
        let before = h.episodes();
        assert!(before.is_finite() && before > 0.0);
    }
}
