//! Sampling helpers for the generative models. Written against `rand::Rng` only, so every draw
//! comes from the seeded stream of one run and the whole simulation stays reproducible.

use rand::Rng;
use serde::Deserialize;

/// A log-normal distribution given the way people state it: its median and the standard
/// deviation `sigma` of its logarithm (so the p10-p90 range is `median * exp(±1.2816 sigma)`).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogNormal {
    /// Median, in seconds.
    pub median: f64,
    /// Standard deviation of ln(value).
    pub sigma: f64,
}

impl LogNormal {
    /// Reject parameters that would produce NaN or nonsense.
    pub fn validate(&self, what: &str) -> Result<(), String> {
        if !(self.median.is_finite() && self.median > 0.0) {
            return Err(format!(
                "{what}: median must be a positive number of seconds"
            ));
        }
        if !(self.sigma.is_finite() && self.sigma >= 0.0 && self.sigma <= 5.0) {
            return Err(format!("{what}: sigma must be between 0 and 5"));
        }
        Ok(())
    }

    /// One draw.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        self.median * (self.sigma * standard_normal(rng)).exp()
    }

    /// The `p` quantile (0 < p < 1), for tests and for the "true curve" of the plots.
    pub fn quantile(&self, p: f64) -> f64 {
        use statrs::distribution::{ContinuousCDF, Normal};
        let z = Normal::new(0.0, 1.0).map_or(0.0, |n| n.inverse_cdf(p));
        self.median * (self.sigma * z).exp()
    }

    /// P(X <= x).
    pub fn cdf(&self, x: f64) -> f64 {
        use statrs::distribution::{ContinuousCDF, Normal};
        if x <= 0.0 {
            return 0.0;
        }
        if self.sigma == 0.0 {
            return if x >= self.median { 1.0 } else { 0.0 };
        }
        let z = (x / self.median).ln() / self.sigma;
        Normal::new(0.0, 1.0).map_or(0.5, |n| n.cdf(z))
    }
}

/// A standard normal draw (Box-Muller; one value per call keeps the stream simple).
pub fn standard_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    // 1 - u is in (0, 1], so ln never sees 0.
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// An exponential draw with the given mean (inter-arrival times of a Poisson process).
pub fn exponential<R: Rng + ?Sized>(rng: &mut R, mean: f64) -> f64 {
    -mean * (1.0 - rng.random::<f64>()).ln()
}

/// Pick an index with probability proportional to `weights` (all non-negative, sum > 0).
pub fn weighted_index<R: Rng + ?Sized>(rng: &mut R, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut x = rng.random::<f64>() * total;
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len().saturating_sub(1)
}

/// The `p` quantile of a sample by linear interpolation; NaN for an empty sample.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        n => {
            let pos = p.clamp(0.0, 1.0) * (n - 1) as f64;
            let lo = pos.floor() as usize;
            let hi = pos.ceil() as usize;
            sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
        }
    }
}

/// A stable 64-bit seed from a list of parts (FNV-1a then a SplitMix64 finaliser), so every
/// (scenario, policy, seed) triple gets its own independent stream.
pub fn seed_of(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0xff)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    let mut z = h.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::SmallRng;
    use rand::SeedableRng;

    #[test]
    fn lognormal_quantiles_match_samples() {
        let d = LogNormal {
            median: 8.5,
            sigma: 0.27,
        };
        let mut rng = SmallRng::seed_from_u64(3);
        let mut xs: Vec<f64> = (0..20_000).map(|_| d.sample(&mut rng)).collect();
        xs.sort_by(f64::total_cmp);
        for p in [0.1, 0.5, 0.9] {
            let got = percentile(&xs, p);
            let want = d.quantile(p);
            assert!((got / want - 1.0).abs() < 0.02, "p{p}: {got} vs {want}");
            assert!((d.cdf(want) - p).abs() < 1e-9);
        }
    }

    #[test]
    fn seeds_differ_by_part() {
        assert_ne!(seed_of(&["a", "b"]), seed_of(&["ab"]));
        assert_eq!(seed_of(&["x", "1"]), seed_of(&["x", "1"]));
    }
}
