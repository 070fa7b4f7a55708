//! The heuristic tier's belief turned into pseudo-counts, so that a model with no data behaves
//! like the heuristic and untried delays do not look attractive only because of a flat prior.

use super::grid::{edge, BUCKETS};

/// Pseudo-counts per bucket: `risk[b]` pseudo-episodes still failing at the start of bucket `b`,
/// `events[b]` of them recovering within it.
#[derive(Debug, Clone, PartialEq)]
pub struct Prior {
    /// Pseudo-episodes still failing at the start of each bucket.
    pub risk: [f64; BUCKETS],
    /// Pseudo-episodes recovering within each bucket.
    pub events: [f64; BUCKETS],
}

impl Prior {
    /// A log-logistic recovery time with the given median (seconds), shape 1 (heavy tail: the
    /// prior admits long outages), worth `strength` pseudo-episodes.
    pub fn log_logistic(median: f64, strength: f64) -> Prior {
        let median = median.max(0.01);
        let surv = |t: f64| 1.0 / (1.0 + t / median);
        let mut p = Prior {
            risk: [0.0; BUCKETS],
            events: [0.0; BUCKETS],
        };
        for b in 0..BUCKETS {
            let (s0, s1) = (surv(edge(b)), surv(edge(b + 1)));
            p.risk[b] = strength * s0;
            p.events[b] = strength * (s0 - s1);
        }
        p
    }

    /// The same prior scaled to a different strength.
    pub fn scaled(&self, factor: f64) -> Prior {
        let mut p = self.clone();
        p.risk.iter_mut().for_each(|v| *v *= factor);
        p.events.iter_mut().for_each(|v| *v *= factor);
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prior_mass_is_the_strength() {
        let p = Prior::log_logistic(10.0, 2.0);
        assert!((p.risk[0] - 2.0).abs() < 1e-12);
        let total: f64 = p.events.iter().sum();
        assert!(total < 2.0 && total > 1.99);
        // hazard below 1 everywhere, so no bucket looks like a sure thing
        assert!(p.events.iter().zip(p.risk.iter()).all(|(e, r)| e < r));
    }
}
