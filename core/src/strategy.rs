//! Static backoff strategies: what the heuristic tier uses, what the learned tier falls back to,
//! and the baselines the simulator compares against. Every one is capped by the caller's `cap`.

use crate::error::{Error, Result};
use crate::time::{serde_secs, serde_vec_secs};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// A static delay schedule. `retry` numbers start at 1 (the first retry, after the first failure).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Strategy {
    /// Retry at once.
    Immediate,
    /// The same delay every time.
    Constant {
        /// The delay, in seconds in JSON.
        #[serde(with = "serde_secs")]
        #[cfg_attr(feature = "schema", schemars(with = "crate::time::Seconds"))]
        delay: Duration,
    },
    /// `base + step * (retry - 1)`.
    Linear {
        /// The first retry's delay, in seconds in JSON.
        #[serde(with = "serde_secs")]
        #[cfg_attr(feature = "schema", schemars(with = "crate::time::Seconds"))]
        base: Duration,
        /// Added for each later retry, in seconds in JSON.
        #[serde(with = "serde_secs")]
        #[cfg_attr(feature = "schema", schemars(with = "crate::time::Seconds"))]
        step: Duration,
    },
    /// `base * factor^(retry - 1)`, no jitter (the blind classic).
    Exponential {
        /// The first retry's delay, in seconds in JSON.
        #[serde(with = "serde_secs")]
        #[cfg_attr(feature = "schema", schemars(with = "crate::time::Seconds"))]
        base: Duration,
        /// Growth per retry (JSON default 2; 1..=100).
        #[serde(default = "two")]
        factor: f64,
    },
    /// Uniform in `[0, min(cap, base * factor^(retry - 1))]` (AWS "full jitter").
    FullJitter {
        /// The upper end of the first retry's range, in seconds in JSON.
        #[serde(with = "serde_secs")]
        #[cfg_attr(feature = "schema", schemars(with = "crate::time::Seconds"))]
        base: Duration,
        /// Growth per retry (JSON default 2; 1..=100).
        #[serde(default = "two")]
        factor: f64,
    },
    /// Half the exponential delay plus a uniform share of the other half (AWS "equal jitter").
    EqualJitter {
        /// The first retry's full (unjittered) delay, in seconds in JSON.
        #[serde(with = "serde_secs")]
        #[cfg_attr(feature = "schema", schemars(with = "crate::time::Seconds"))]
        base: Duration,
        /// Growth per retry (JSON default 2; 1..=100).
        #[serde(default = "two")]
        factor: f64,
    },
    /// `min(cap, uniform(base, previous * 3))` (AWS "decorrelated jitter").
    DecorrelatedJitter {
        /// The smallest delay, in seconds in JSON.
        #[serde(with = "serde_secs")]
        #[cfg_attr(feature = "schema", schemars(with = "crate::time::Seconds"))]
        base: Duration,
    },
    /// An explicit list (e.g. 10 s, 30 s, 90 s); the last entry repeats.
    Schedule {
        /// The delays, in seconds in JSON; at least one.
        #[serde(with = "serde_vec_secs")]
        #[cfg_attr(feature = "schema", schemars(with = "Vec<crate::time::Seconds>"))]
        delays: Vec<Duration>,
    },
}

fn two() -> f64 {
    2.0
}

impl Strategy {
    /// Full jitter with factor 2: the field's best common static policy.
    pub fn full_jitter(base: Duration) -> Strategy {
        Strategy::FullJitter { base, factor: 2.0 }
    }

    /// Check the parameters: factors finite and at least 1, schedules non-empty.
    pub fn validate(&self) -> Result<()> {
        match self {
            Strategy::Exponential { factor, .. }
            | Strategy::FullJitter { factor, .. }
            | Strategy::EqualJitter { factor, .. }
                if !(factor.is_finite() && (1.0..=100.0).contains(factor)) =>
            {
                return Err(Error::InvalidConfig(format!(
                    "backoff factor must be between 1 and 100, got {factor}"
                )));
            }
            Strategy::Schedule { delays } if delays.is_empty() => {
                return Err(Error::InvalidConfig(
                    "an explicit schedule needs at least one delay".into(),
                ));
            }
            _ => {}
        }
        Ok(())
    }

    /// Whether a delay is drawn at random (one draw per delay).
    fn jittered(&self) -> bool {
        matches!(
            self,
            Strategy::FullJitter { .. }
                | Strategy::EqualJitter { .. }
                | Strategy::DecorrelatedJitter { .. }
        )
    }

    /// A short name for reasons and reports.
    pub fn name(&self) -> &'static str {
        match self {
            Strategy::Immediate => "immediate",
            Strategy::Constant { .. } => "constant",
            Strategy::Linear { .. } => "linear",
            Strategy::Exponential { .. } => "exponential",
            Strategy::FullJitter { .. } => "full jitter",
            Strategy::EqualJitter { .. } => "equal jitter",
            Strategy::DecorrelatedJitter { .. } => "decorrelated jitter",
            Strategy::Schedule { .. } => "explicit schedule",
        }
    }

    /// The schedule's time scale in seconds: its base (or first) delay; 0 for `immediate`.
    pub fn scale(&self) -> f64 {
        match self {
            Strategy::Immediate => 0.0,
            Strategy::Constant { delay } => delay.as_secs_f64(),
            Strategy::Linear { base, step } => base.max(step).as_secs_f64(),
            Strategy::Exponential { base, .. }
            | Strategy::FullJitter { base, .. }
            | Strategy::EqualJitter { base, .. }
            | Strategy::DecorrelatedJitter { base } => base.as_secs_f64(),
            Strategy::Schedule { delays } => delays.first().map_or(0.0, Duration::as_secs_f64),
        }
    }

    /// The same shape with every delay multiplied by `scale` (portfolio candidates at other scales).
    pub fn scaled(&self, scale: f64) -> Strategy {
        let s = |d: &Duration| d.mul_f64(scale);
        match self {
            Strategy::Immediate => Strategy::Immediate,
            Strategy::Constant { delay } => Strategy::Constant { delay: s(delay) },
            Strategy::Linear { base, step } => Strategy::Linear {
                base: s(base),
                step: s(step),
            },
            Strategy::Exponential { base, factor } => Strategy::Exponential {
                base: s(base),
                factor: *factor,
            },
            Strategy::FullJitter { base, factor } => Strategy::FullJitter {
                base: s(base),
                factor: *factor,
            },
            Strategy::EqualJitter { base, factor } => Strategy::EqualJitter {
                base: s(base),
                factor: *factor,
            },
            Strategy::DecorrelatedJitter { base } => Strategy::DecorrelatedJitter { base: s(base) },
            Strategy::Schedule { delays } => Strategy::Schedule {
                delays: delays.iter().map(s).collect(),
            },
        }
    }

    /// The delay a retry step stands for, without drawing its jitter: the middle of a jittered
    /// range, the delay itself otherwise. Estimates quoted for a step are made at this delay, so
    /// they do not swing with each draw.
    pub fn nominal_delay(&self, retry: u32, previous: Duration, cap: Duration) -> Duration {
        let cap_s = cap.as_secs_f64();
        let (lo, hi) = self.range(retry.max(1), previous, cap_s);
        capped(cap_s, (lo + hi) / 2.0)
    }

    /// The range, seconds, a retry's delay is drawn from (one point when there is no jitter).
    fn range(&self, retry: u32, previous: Duration, cap_s: f64) -> (f64, f64) {
        let exp = |base: &Duration, factor: f64| -> f64 {
            // powi saturates to inf for huge exponents; min() with cap keeps it finite.
            (base.as_secs_f64() * factor.powi((retry - 1).min(1024) as i32)).min(cap_s)
        };
        let point = |x: f64| (x, x);
        match self {
            Strategy::Immediate => point(0.0),
            Strategy::Constant { delay } => point(delay.as_secs_f64()),
            Strategy::Linear { base, step } => {
                point(base.as_secs_f64() + step.as_secs_f64() * f64::from(retry - 1))
            }
            Strategy::Exponential { base, factor } => point(exp(base, *factor)),
            Strategy::FullJitter { base, factor } => (0.0, exp(base, *factor)),
            Strategy::EqualJitter { base, factor } => {
                let v = exp(base, *factor);
                (v / 2.0, v)
            }
            Strategy::DecorrelatedJitter { base } => {
                let lo = base.as_secs_f64();
                (lo, (previous.as_secs_f64().max(lo) * 3.0).max(lo))
            }
            Strategy::Schedule { delays } => point(
                delays
                    .get(retry as usize - 1)
                    .or(delays.last())
                    .map_or(0.0, Duration::as_secs_f64),
            ),
        }
    }

    /// The delay before retry number `retry` (1-based). `previous` is the delay used before the
    /// previous retry (decorrelated jitter needs it). The result never exceeds `cap`.
    pub fn delay<R: Rng + ?Sized>(
        &self,
        retry: u32,
        previous: Duration,
        cap: Duration,
        rng: &mut R,
    ) -> Duration {
        let cap_s = cap.as_secs_f64();
        let (lo, hi) = self.range(retry.max(1), previous, cap_s);
        capped(cap_s, self.draw(lo, hi, rng))
    }

    /// `delay` and `nominal_delay` of the same step, its range worked out once and stretched
    /// by `stretch` (≥ 1; contention pacing) before the draw. A stretched draw past the cap
    /// lands in the cap's top `CAP_SPREAD` share instead of on the cap itself: clamped, every
    /// retry stretched that far would go at the same moment, and those that collided once would
    /// collide again.
    pub fn delay_and_nominal<R: Rng + ?Sized>(
        &self,
        retry: u32,
        previous: Duration,
        cap: Duration,
        stretch: f64,
        rng: &mut R,
    ) -> (Duration, Duration) {
        let cap_s = cap.as_secs_f64();
        let (lo, hi) = self.range(retry.max(1), previous, cap_s);
        let k = stretch.max(1.0);
        let (lo, hi) = (lo * k, hi * k);
        let mut secs = self.draw(lo, hi, rng);
        if k > 1.0 && secs > cap_s && hi > cap_s && self.jittered() {
            // Where the draw fell beyond the cap, as a share of that stretch, mapped onto the
            // top of the capped range (no second draw: the same draws as always).
            let over = ((secs - cap_s) / (hi - cap_s)).clamp(0.0, 1.0);
            secs = cap_s * (1.0 - CAP_SPREAD * over);
        }
        (capped(cap_s, secs), capped(cap_s, (lo + hi) / 2.0))
    }

    /// A delay in seconds from the range `lo..hi`: the same draws as always, one uniform number
    /// for each jittered strategy and none otherwise.
    fn draw<R: Rng + ?Sized>(&self, lo: f64, hi: f64, rng: &mut R) -> f64 {
        if self.jittered() {
            lo + rng.random::<f64>() * (hi - lo)
        } else {
            lo
        }
    }
}

/// The top share of a cap that a delay beyond it is spread over, rather than clamped onto the
/// cap where every such retry would go at once (a stretched draw here; a learned delay in the
/// max-delay guardrail).
pub(crate) const CAP_SPREAD: f64 = 0.2;

/// `secs` as a delay between zero and the cap.
fn capped(cap_s: f64, secs: f64) -> Duration {
    Duration::from_secs_f64(secs.clamp(0.0, cap_s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::SmallRng;
    use rand::SeedableRng;

    fn s(x: f64) -> Duration {
        Duration::from_secs_f64(x)
    }

    #[test]
    fn a_stretched_schedule_keeps_its_jitter_at_the_cap() {
        let mut rng = SmallRng::seed_from_u64(7);
        let st = Strategy::full_jitter(s(1.0));
        let cap = s(10.0);
        let mut at_cap = 0;
        let mut top = Vec::new();
        for _ in 0..2000 {
            // Retry 4: the range is 0-8 s, stretched 5x to 0-40 s, three quarters beyond the cap.
            let (d, nominal) = st.delay_and_nominal(4, Duration::ZERO, cap, 5.0, &mut rng);
            assert!(d <= cap && nominal <= cap);
            if d == cap {
                at_cap += 1;
            }
            if d >= s(8.0) {
                top.push(d);
            }
        }
        // Clamped, about 1,500 of them would go at 10 s exactly, together.
        assert!(at_cap <= 2, "{at_cap}");
        assert!(top.len() > 1400, "{}", top.len());
        top.sort();
        top.dedup();
        assert!(
            top.len() > 1400,
            "distinct delays at the top: {}",
            top.len()
        );
        // Without a stretch the schedule is exactly as configured (the same draws).
        let mut a = SmallRng::seed_from_u64(9);
        let mut b = SmallRng::seed_from_u64(9);
        for retry in 1..10 {
            let (d, _) = st.delay_and_nominal(retry, Duration::ZERO, cap, 1.0, &mut a);
            assert_eq!(d, st.delay(retry, Duration::ZERO, cap, &mut b));
        }
    }

    #[test]
    fn exponential_doubles_and_caps() {
        let mut rng = SmallRng::seed_from_u64(1);
        let st = Strategy::Exponential {
            base: s(1.0),
            factor: 2.0,
        };
        let d: Vec<f64> = (1..=8)
            .map(|n| st.delay(n, Duration::ZERO, s(60.0), &mut rng).as_secs_f64())
            .collect();
        assert_eq!(d, vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]);
        // a huge retry number saturates at the cap instead of overflowing
        assert_eq!(
            st.delay(u32::MAX, Duration::ZERO, s(60.0), &mut rng),
            s(60.0)
        );
    }

    #[test]
    fn jitters_stay_in_their_ranges() {
        let mut rng = SmallRng::seed_from_u64(7);
        let cap = s(60.0);
        for n in 1..=10 {
            let ceiling = (2f64.powi(n as i32 - 1)).min(60.0);
            let f = Strategy::full_jitter(s(1.0)).delay(n, Duration::ZERO, cap, &mut rng);
            assert!(f.as_secs_f64() <= ceiling);
            let e = Strategy::EqualJitter {
                base: s(1.0),
                factor: 2.0,
            }
            .delay(n, Duration::ZERO, cap, &mut rng);
            assert!(e.as_secs_f64() >= ceiling / 2.0 && e.as_secs_f64() <= ceiling);
            let prev = s(5.0);
            let dj = Strategy::DecorrelatedJitter { base: s(1.0) }.delay(n, prev, cap, &mut rng);
            assert!(dj >= s(1.0) && dj <= s(15.0));
        }
    }

    #[test]
    fn schedule_repeats_last_and_linear_grows() {
        let mut rng = SmallRng::seed_from_u64(1);
        let st = Strategy::Schedule {
            delays: vec![s(10.0), s(30.0), s(90.0)],
        };
        let got: Vec<_> = (1..=4)
            .map(|n| st.delay(n, Duration::ZERO, s(3600.0), &mut rng))
            .collect();
        assert_eq!(got, vec![s(10.0), s(30.0), s(90.0), s(90.0)]);
        let lin = Strategy::Linear {
            base: s(1.0),
            step: s(2.0),
        };
        assert_eq!(lin.delay(3, Duration::ZERO, s(60.0), &mut rng), s(5.0));
        assert_eq!(
            Strategy::Immediate.delay(3, Duration::ZERO, s(60.0), &mut rng),
            Duration::ZERO
        );
    }

    #[test]
    fn validation_and_json() {
        assert!(Strategy::Schedule { delays: vec![] }.validate().is_err());
        assert!(Strategy::FullJitter {
            base: s(1.0),
            factor: f64::NAN
        }
        .validate()
        .is_err());
        let st: Strategy = serde_json::from_str(r#"{"kind":"full_jitter","base":0.5}"#).unwrap();
        assert_eq!(st, Strategy::full_jitter(s(0.5)));
        assert!(serde_json::from_str::<Strategy>(r#"{"kind":"constant","delay":-1}"#).is_err());
        // a typo is an error, not a silent default
        assert!(
            serde_json::from_str::<Strategy>(r#"{"kind":"exponential","base":1,"factr":10}"#)
                .is_err()
        );
        assert_eq!(st.scaled(4.0), Strategy::full_jitter(s(2.0)));
    }
}
