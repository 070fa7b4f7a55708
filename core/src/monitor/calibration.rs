//! How well a model's p(success) matches what happened: the Brier score over all scored retries,
//! and a drift score, the recent mean of (outcome - p), which moves away from 0 when the
//! dependency's behaviour changes faster than the model follows.

use serde::Serialize;

/// Weight of the newest outcome in the drift score (about the last 30 retries count).
const DRIFT_WEIGHT: f64 = 1.0 / 32.0;

/// One model's calibration so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Calibration {
    /// Retries scored.
    pub scored: u64,
    /// Sum of (p - outcome)^2.
    pub brier_sum: f64,
    /// Exponentially weighted mean of (outcome - p): > 0 the model is pessimistic, < 0 optimistic.
    pub bias: f64,
}

impl Calibration {
    /// Score one retry: its predicted p(success) and whether it succeeded.
    pub fn observe(&mut self, probability: f64, success: bool) {
        if !probability.is_finite() {
            return;
        }
        let p = probability.clamp(0.0, 1.0);
        let y = if success { 1.0 } else { 0.0 };
        self.scored += 1;
        self.brier_sum += (p - y) * (p - y);
        // The first outcomes weigh more, so the score is not stuck near 0 while warming up.
        let w = DRIFT_WEIGHT.max(1.0 / self.scored as f64);
        self.bias += w * ((y - p) - self.bias);
    }

    /// Mean squared error of p(success): 0 perfect, 0.25 no better than a coin.
    pub fn brier(&self) -> Option<f64> {
        (self.scored > 0).then(|| self.brier_sum / self.scored as f64)
    }

    /// |recent mean of (outcome - p)|, 0..1.
    pub fn drift(&self) -> f64 {
        self.bias.abs()
    }
}
