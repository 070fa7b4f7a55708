//! The portfolio: whole schedules kept as candidates (the class's heuristic schedule, the field's
//! two best-known static schedules, and the learned plan), one chosen per episode by Thompson
//! sampling on the realised cost of past episodes. Safe by construction: at steady state it does
//! about as well as the best of them, including where the survival model is wrong (brown-outs,
//! contention, partial incidents).

use crate::strategy::Strategy;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::time::Duration;

/// The candidates. Index 0 is the plain heuristic, used until the model has enough evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arm {
    /// The class's own static schedule (the heuristic tier).
    Heuristic,
    /// Decorrelated jitter from 1 s ("exponential backoff and jitter": fewest calls under load).
    DecorrelatedJitter,
    /// Full jitter from 1 s (the AWS SDKs' and most libraries' default shape).
    FullJitter,
    /// The learned plan.
    Learned,
}

pub const ARMS: [Arm; 4] = [
    Arm::Heuristic,
    Arm::DecorrelatedJitter,
    Arm::FullJitter,
    Arm::Learned,
];

impl Arm {
    pub fn index(self) -> usize {
        self as usize
    }

    /// The static schedule this arm runs (None for the learned plan); `class` is the class's own.
    pub fn strategy(self, class: &Strategy) -> Option<Cow<'_, Strategy>> {
        let one = Duration::from_secs(1);
        match self {
            Arm::Heuristic => Some(Cow::Borrowed(class)),
            Arm::DecorrelatedJitter => Some(Cow::Owned(Strategy::DecorrelatedJitter { base: one })),
            Arm::FullJitter => Some(Cow::Owned(Strategy::full_jitter(one))),
            Arm::Learned => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Arm::Heuristic => "class's own schedule",
            Arm::DecorrelatedJitter => "decorrelated-jitter schedule",
            Arm::FullJitter => "full-jitter schedule",
            Arm::Learned => "learned plan",
        }
    }
}

/// Decayed statistics per arm: the score the sampling uses (cost net of the recovery time,
/// low-variance) and the full realised cost (unbiased even where the survival model is wrong).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Portfolio {
    /// Decayed episode counts, score sums and squared-score sums, per arm.
    pub n: [f64; 4],
    pub sum: [f64; 4],
    pub sum_sq: [f64; 4],
    /// Decayed sums and squared sums of the full realised cost, per arm.
    #[serde(default)]
    pub cost_sum: [f64; 4],
    #[serde(default)]
    pub cost_sum_sq: [f64; 4],
}

/// Episodes an arm needs before its realised cost can rule it out.
const MIN_FOR_VETO: f64 = 4.0;

/// Episodes each arm is tried before Thompson sampling takes over.
const MIN_TRIALS: f64 = 4.0;

impl Portfolio {
    /// Mean realised cost of an arm, if it has been tried.
    pub fn mean(&self, arm: Arm) -> Option<f64> {
        let i = arm.index();
        (self.n[i] > 0.0).then(|| self.sum[i] / self.n[i])
    }

    /// Record an episode's score and full cost (seconds) for the arm that ran it; `decay` < 1
    /// ages all arms.
    pub fn record(&mut self, arm: Arm, score: f64, cost: f64, decay: f64) {
        if !score.is_finite() || !cost.is_finite() {
            return;
        }
        for i in 0..4 {
            self.n[i] *= decay;
            self.sum[i] *= decay;
            self.sum_sq[i] *= decay;
            self.cost_sum[i] *= decay;
            self.cost_sum_sq[i] *= decay;
        }
        let i = arm.index();
        self.n[i] += 1.0;
        self.sum[i] += score;
        self.sum_sq[i] += score * score;
        self.cost_sum[i] += cost;
        self.cost_sum_sq[i] += cost * cost;
    }

    /// Arms whose realised cost is, with about 95% confidence, above another arm's. The score is
    /// exact where recovery is all-or-nothing; where attempts succeed during an outage
    /// (brown-outs) it flatters sparse schedules, and the realised cost catches that.
    fn dominated(&self) -> [bool; 4] {
        let mut lo = [f64::NEG_INFINITY; 4];
        let mut hi = [f64::INFINITY; 4];
        for i in 0..4 {
            let n = self.n[i];
            if n >= MIN_FOR_VETO {
                let mean = self.cost_sum[i] / n;
                let var = (self.cost_sum_sq[i] / n - mean * mean).max(0.0);
                let half = 2.0 * (var / n).sqrt();
                lo[i] = mean - half;
                hi[i] = mean + half;
            }
        }
        let best_hi = hi.iter().copied().fold(f64::INFINITY, f64::min);
        let mut out = [false; 4];
        for i in 0..4 {
            out[i] = lo[i] > best_hi;
        }
        out
    }

    /// Pick the arm for a new episode: any arm tried fewer than four times first, then the lowest cost
    /// drawn from each arm's posterior of its mean cost.
    pub fn choose<R: Rng + ?Sized>(&self, rng: &mut R) -> Arm {
        if let Some(arm) = ARMS.into_iter().find(|a| self.n[a.index()] < MIN_TRIALS) {
            return arm;
        }
        let dominated = self.dominated();
        let mut best = (f64::INFINITY, Arm::Heuristic);
        for arm in ARMS {
            let i = arm.index();
            if dominated[i] {
                continue;
            }
            let n = self.n[i];
            let mean = self.sum[i] / n;
            let var = (self.sum_sq[i] / n - mean * mean)
                .max((0.05 * mean).powi(2))
                .max(1e-6);
            let draw = mean + (var / n).sqrt() * standard_normal(rng);
            if draw < best.0 {
                best = (draw, arm);
            }
        }
        best.1
    }

    /// The arm with the lowest mean cost (what a preview shows, without sampling).
    pub fn best(&self) -> Arm {
        let dominated = self.dominated();
        ARMS.into_iter()
            .filter(|a| self.n[a.index()] >= MIN_TRIALS && !dominated[a.index()])
            .min_by(|a, b| {
                let ma = self.sum[a.index()] / self.n[a.index()];
                let mb = self.sum[b.index()] / self.n[b.index()];
                ma.total_cmp(&mb)
            })
            .unwrap_or(Arm::Heuristic)
    }

    /// Pool another portfolio's statistics.
    pub fn merge(&mut self, other: &Portfolio) {
        for i in 0..4 {
            self.n[i] += other.n[i].max(0.0);
            self.sum[i] += other.sum[i].max(0.0);
            self.sum_sq[i] += other.sum_sq[i].max(0.0);
            self.cost_sum[i] += other.cost_sum[i].max(0.0);
            self.cost_sum_sq[i] += other.cost_sum_sq[i].max(0.0);
        }
    }
}

/// Box-Muller: one standard normal draw.
fn standard_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    let u1: f64 = rng.random::<f64>().max(1e-300);
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::SmallRng;
    use rand::SeedableRng;

    #[test]
    fn explores_then_exploits_the_cheapest() {
        let mut p = Portfolio::default();
        let mut rng = SmallRng::seed_from_u64(3);
        let cost = |a: Arm| match a {
            Arm::Learned => 5.0,
            Arm::Heuristic => 20.0,
            Arm::DecorrelatedJitter => 30.0,
            Arm::FullJitter => 60.0,
        };
        let mut picks = [0usize; 4];
        for _ in 0..400 {
            let arm = p.choose(&mut rng);
            picks[arm.index()] += 1;
            let c = cost(arm) * (0.8 + 0.4 * rng.random::<f64>());
            p.record(arm, c, c, 0.999);
        }
        assert!(picks[Arm::Learned.index()] > 360, "{picks:?}");
        assert_eq!(p.best(), Arm::Learned);
        assert!(p.mean(Arm::Learned).unwrap() < 6.0);
    }

    #[test]
    fn realised_cost_vetoes_a_flattering_score() {
        // The learned arm scores best but costs most in full: it must stop being chosen.
        let mut p = Portfolio::default();
        let mut rng = SmallRng::seed_from_u64(5);
        let mut late_learned = 0;
        for round in 0..600 {
            let arm = p.choose(&mut rng);
            let jitter = 0.8 + 0.4 * rng.random::<f64>();
            let (score, cost) = match arm {
                Arm::Learned => (1.0 * jitter, 40.0 * jitter),
                _ => (5.0 * jitter, 20.0 * jitter),
            };
            p.record(arm, score, cost, 0.999);
            if round >= 300 && arm == Arm::Learned {
                late_learned += 1;
            }
        }
        assert!(late_learned < 15, "{late_learned}");
        assert_ne!(p.best(), Arm::Learned);
    }
}
