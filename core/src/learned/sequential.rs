//! Confidence bounds that stay valid however often they are checked.
//!
//! A rollout looks at its evidence after every episode and acts the first time a bound is
//! crossed. A fixed-sample bound (1.64 standard errors for 95%) checked that way is crossed by
//! chance far more often than 5% of the time: over a few hundred looks, a canary no better than
//! the live tiers is promoted by one lucky streak about a third of the time. The bound here is
//! Robbins' normal mixture (Howard, Ramdas, McAuliffe and Sekhon, "Time-uniform, nonparametric,
//! nonasymptotic confidence sequences", 2021): with probability at least `1 - α` it holds at
//! every number of observations at once, so acting on its first crossing keeps the error rate.

use statrs::distribution::{ContinuousCDF, Normal};

/// The number of standard errors that bounds a running mean of `n` observations one-sidedly at
/// the confidence a single look would get from `z` standard errors (1.64: 95%), valid at every
/// `n` at once. `tightest` (observations) is where the bound is about narrowest: the evidence
/// size decisions are expected at. Infinite for no observations.
pub fn z_at_every_look(z: f64, n: u64, tightest: f64) -> f64 {
    if n == 0 || !z.is_finite() {
        return f64::INFINITY;
    }
    let alpha = match Normal::standard().sf(z.max(0.0)) {
        a if a.is_finite() => a.clamp(1e-15, 0.5),
        _ => 1e-15,
    };
    let (n, m) = (n as f64, tightest.max(1.0));
    // With intrinsic time n (in units of the variance) and mixture weight m:
    // |mean - true| < se * sqrt((n + m) / n * ln((n + m) / (m * alpha^2))).
    ((n + m) / n * ((n + m) / (m * alpha * alpha)).ln()).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::SmallRng;
    use rand::{Rng, SeedableRng};

    #[test]
    fn wider_than_one_look_and_about_flat_from_the_tightest_point() {
        assert!(z_at_every_look(1.64, 10, 30.0) > z_at_every_look(1.64, 30, 30.0));
        for n in [30, 100, 300, 1000, 10_000] {
            let z = z_at_every_look(1.64, n, 30.0);
            assert!(z > 2.5 && z < 4.5, "n {n}: {z}");
        }
        assert!(z_at_every_look(1.64, 0, 30.0).is_infinite());
        assert!(z_at_every_look(2.33, 100, 30.0) > z_at_every_look(1.64, 100, 30.0));
    }

    /// Check a null stream after every observation, as a rollout does: a fixed-sample 1.64 is
    /// crossed in far more than 5% of runs, the sequential bound in at most about 5%.
    #[test]
    fn checked_after_every_observation_it_keeps_its_error_rate() {
        let mut rng = SmallRng::seed_from_u64(17);
        let runs = 400;
        let (mut fixed, mut always) = (0, 0);
        for _ in 0..runs {
            let (mut sum, mut sq) = (0.0, 0.0);
            let (mut crossed_fixed, mut crossed_always) = (false, false);
            for n in 1..=500u64 {
                let z: f64 = (0..12).map(|_| rng.random::<f64>()).sum::<f64>() - 6.0;
                sum += z;
                sq += z * z;
                if n < 30 {
                    continue;
                }
                let k = n as f64;
                let mean = sum / k;
                let se = ((sq / k - mean * mean).max(0.0) / k).sqrt();
                crossed_fixed |= mean > 1.64 * se;
                crossed_always |= mean > z_at_every_look(1.64, n, 30.0) * se;
            }
            fixed += usize::from(crossed_fixed);
            always += usize::from(crossed_always);
        }
        assert!(
            fixed > runs / 6,
            "fixed-sample bound crossed in {fixed} of {runs}"
        );
        assert!(
            always <= runs * 7 / 100,
            "sequential bound crossed in {always} of {runs}"
        );
    }
}
