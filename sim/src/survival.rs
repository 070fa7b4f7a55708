//! Recovery-time estimation from censored observations (Turnbull's NPMLE, by EM).
//!
//! An episode never shows its recovery time R directly: a failed attempt at elapsed t says only
//! "not yet recovered at t" (R > t), a success at t says "recovered by t" (R ≤ t). So each
//! episode gives an interval (last failure, first success], or (last failure, ∞) when it never
//! succeeded. Treating successes as exact recovery times would bias R upwards by however late
//! the logged policy happened to look; treating failures as independent coin flips would ignore
//! that a dependency still down at t was down at every earlier moment too.

use rand::Rng;

/// What one episode says about its recovery time: `left < R <= right` (`right` infinite when
/// it never succeeded).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub left: f64,
    pub right: f64,
}

/// A discrete estimate of the recovery distribution: `mass[j]` at `support[j]`, and `never`
/// on "does not recover" (beyond every observation).
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    pub support: Vec<f64>,
    pub mass: Vec<f64>,
    pub never: f64,
}

/// Turnbull's estimator. Candidate support points are the distinct finite right ends (where a
/// recovery was first seen), plus "never" when some episode never succeeded; EM then moves mass
/// between them to maximise the likelihood of all intervals. O(iterations × (n + m)).
pub fn turnbull(obs: &[Interval], iterations: usize) -> Estimate {
    let mut support: Vec<f64> = obs
        .iter()
        .filter(|o| o.right.is_finite())
        .map(|o| o.right)
        .collect();
    support.sort_by(f64::total_cmp);
    support.dedup();
    let has_never = obs.iter().any(|o| !o.right.is_finite());
    let m = support.len() + usize::from(has_never);
    if obs.is_empty() || m == 0 {
        return Estimate {
            support,
            mass: Vec::new(),
            never: if has_never { 1.0 } else { 0.0 },
        };
    }
    // Index range [lo, hi) of the support points inside each interval; "never" is index m-1.
    let ranges: Vec<(usize, usize)> = obs
        .iter()
        .map(|o| {
            let lo = support.partition_point(|s| *s <= o.left);
            let hi = if o.right.is_finite() {
                support.partition_point(|s| *s <= o.right)
            } else {
                m
            };
            (lo, hi.max(lo))
        })
        .collect();
    let n = obs.len() as f64;
    let mut p = vec![1.0 / m as f64; m];
    let mut prefix = vec![0.0; m + 1];
    let mut acc = vec![0.0; m + 1];
    for _ in 0..iterations {
        for j in 0..m {
            prefix[j + 1] = prefix[j] + p[j];
        }
        acc.iter_mut().for_each(|a| *a = 0.0);
        for &(lo, hi) in &ranges {
            let denom = prefix[hi] - prefix[lo];
            if hi > lo && denom > 0.0 {
                acc[lo] += 1.0 / denom;
                acc[hi] -= 1.0 / denom;
            }
        }
        let mut run = 0.0;
        let mut change: f64 = 0.0;
        for j in 0..m {
            run += acc[j];
            let next = p[j] * run / n;
            change = change.max((next - p[j]).abs());
            p[j] = next;
        }
        if change < 1e-10 {
            break;
        }
    }
    let never = if has_never {
        p.pop().unwrap_or(0.0)
    } else {
        0.0
    };
    Estimate {
        support,
        mass: p,
        never,
    }
}

impl Estimate {
    /// P(R <= t).
    pub fn cdf(&self, t: f64) -> f64 {
        self.support
            .iter()
            .zip(&self.mass)
            .take_while(|(s, _)| **s <= t)
            .map(|(_, m)| m)
            .sum()
    }

    /// The smallest support point with CDF >= p (None if that needs "never").
    pub fn quantile(&self, p: f64) -> Option<f64> {
        let mut c = 0.0;
        for (s, m) in self.support.iter().zip(&self.mass) {
            c += m;
            if c + 1e-12 >= p {
                return Some(*s);
            }
        }
        None
    }

    /// The step curve (t, P(R <= t)) at every support point.
    pub fn curve(&self) -> Vec<(f64, f64)> {
        let mut c = 0.0;
        self.support
            .iter()
            .zip(&self.mass)
            .map(|(s, m)| {
                c += m;
                (*s, c)
            })
            .collect()
    }

    /// Draw a recovery time consistent with an episode's interval, from the estimate restricted
    /// to it. `Ok(None)` means "never recovers"; when the estimate puts no mass inside the
    /// interval, the interval's right end is the answer (the only thing known for sure).
    pub fn sample_within<R: Rng + ?Sized>(&self, iv: Interval, rng: &mut R) -> Option<f64> {
        let inside = |s: f64| s > iv.left && s <= iv.right;
        let never = if iv.right.is_finite() {
            0.0
        } else {
            self.never
        };
        let total: f64 = self
            .support
            .iter()
            .zip(&self.mass)
            .filter(|(s, _)| inside(**s))
            .map(|(_, m)| m)
            .sum::<f64>()
            + never;
        if total <= 0.0 {
            return iv.right.is_finite().then_some(iv.right);
        }
        let mut x = rng.random::<f64>() * total;
        for (s, m) in self.support.iter().zip(&self.mass) {
            if inside(*s) {
                if x < *m {
                    return Some(*s);
                }
                x -= m;
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::LogNormal;
    use rand::rngs::SmallRng;
    use rand::SeedableRng;

    #[test]
    fn recovers_the_median_from_censored_looks() {
        let d = LogNormal {
            median: 20.0,
            sigma: 0.5,
        };
        let mut rng = SmallRng::seed_from_u64(5);
        // A logging policy that looks every 1-10 s and gives up after 60 s.
        let obs: Vec<Interval> = (0..3000)
            .map(|_| {
                let r = d.sample(&mut rng);
                let mut t = 0.0;
                loop {
                    let next = t + 1.0 + 9.0 * rng.random::<f64>();
                    if next > 60.0 {
                        return Interval {
                            left: t,
                            right: f64::INFINITY,
                        };
                    }
                    if next >= r {
                        return Interval {
                            left: t,
                            right: next,
                        };
                    }
                    t = next;
                }
            })
            .collect();
        let e = turnbull(&obs, 2000);
        let total: f64 = e.mass.iter().sum::<f64>() + e.never;
        assert!((total - 1.0).abs() < 1e-6);
        let med = e.quantile(0.5).unwrap();
        assert!((med / 20.0 - 1.0).abs() < 0.1, "median {med}");
        // P(R > 60) for LogNormal(20, 0.5) is ~1.4%: the never-mass absorbs it.
        assert!(e.never < 0.05 && e.cdf(60.0) > 0.9);
        // The naive "success time = recovery time" is biased late.
        let mut naive: Vec<f64> = obs
            .iter()
            .filter(|o| o.right.is_finite())
            .map(|o| o.right)
            .collect();
        naive.sort_by(f64::total_cmp);
        assert!(naive[naive.len() / 2] > med);
    }

    #[test]
    fn samples_stay_inside_their_interval() {
        let e = turnbull(
            &[
                Interval {
                    left: 0.0,
                    right: 5.0,
                },
                Interval {
                    left: 2.0,
                    right: 8.0,
                },
                Interval {
                    left: 9.0,
                    right: f64::INFINITY,
                },
            ],
            200,
        );
        let mut rng = SmallRng::seed_from_u64(1);
        for _ in 0..100 {
            let iv = Interval {
                left: 2.0,
                right: 8.0,
            };
            let r = e.sample_within(iv, &mut rng).unwrap();
            assert!(r > 2.0 && r <= 8.0);
        }
        assert!(e.never > 0.0);
        assert!(turnbull(&[], 10).mass.is_empty());
    }
}
