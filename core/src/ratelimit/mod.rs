//! Adaptive client rate limiting: the AWS SDKs' "adaptive" retry mode, per (key, dependency).
//!
//! Delaying retries is not enough when a dependency throttles: new calls keep arriving at the old
//! rate. Once a key has been throttled, every call (first attempts included) takes a token from
//! a bucket whose fill rate follows a CUBIC curve: cut to `beta` (0.7) of the measured send rate
//! on each throttle, grown back as `C (t - K)^3 + W_max` (C = 0.4) on every other response, and
//! never above twice the measured send rate (counted in 0.5 s buckets, smoothed with weight 0.8).
//!
//! - [`cubic`]: the curve; [`estimator`]: the measured send rate; [`bucket`]: the token bucket;
//! - [`limiter`]: the three together for one key; `engine_glue`: `Engine::acquire` and the hooks.
//!
//! Off unless the policy has a `rate_limit` section (`"rate_limit": {}` takes the SDKs' constants).
//! A throttle is a failure classified `rate_limited` (429, `ThrottlingException`,
//! `RESOURCE_EXHAUSTED` and whatever the policy's rules map there).

pub mod bucket;
pub mod cubic;
pub(crate) mod engine_glue;
pub mod estimator;
pub mod limiter;

pub(crate) use engine_glue::Limiters;
pub use limiter::{ClientRateLimiter, RateLimitState};

use crate::error::{Error, Result};
use crate::time::serde_secs;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The limiter's constants (policy JSON `rate_limit`). Every default is the AWS SDKs'.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Share of the send rate kept after a throttle (CUBIC's multiplicative decrease).
    pub beta: f64,
    /// CUBIC's `C`: how fast the rate grows back after a throttle.
    pub scale_constant: f64,
    /// Weight of the newest bucket in the measured send rate.
    pub smoothing: f64,
    /// Width of the buckets the send rate is counted in, seconds.
    #[serde(with = "serde_secs")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::time::Seconds"))]
    pub bucket: Duration,
    /// Lowest fill rate, calls per second: a throttled key still makes progress.
    pub min_fill_rate: f64,
    /// Smallest bucket, tokens: at least one call can always be paid for.
    pub min_capacity: f64,
    /// The rate never exceeds this multiple of the measured send rate.
    pub max_rate_scale: f64,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            beta: 0.7,
            scale_constant: 0.4,
            smoothing: 0.8,
            bucket: Duration::from_millis(500),
            min_fill_rate: 0.5,
            min_capacity: 1.0,
            max_rate_scale: 2.0,
        }
    }
}

impl RateLimitConfig {
    /// Check every constant is finite and in range.
    pub fn validate(&self) -> Result<()> {
        let ok = |c: bool, msg: &str| {
            if c {
                Ok(())
            } else {
                Err(Error::InvalidConfig(format!("rate_limit.{msg}")))
            }
        };
        let finite_in = |v: f64, lo: f64, hi: f64| v.is_finite() && v > lo && v <= hi;
        ok(finite_in(self.beta, 0.0, 1.0), "beta must be in (0, 1]")?;
        ok(
            finite_in(self.scale_constant, 0.0, 1e6),
            "scale_constant must be in (0, 1e6]",
        )?;
        ok(
            finite_in(self.smoothing, 0.0, 1.0),
            "smoothing must be in (0, 1]",
        )?;
        ok(
            self.bucket >= Duration::from_millis(1) && self.bucket <= Duration::from_secs(3600),
            "bucket must be between 1 ms and 1 h",
        )?;
        ok(
            finite_in(self.min_fill_rate, 0.0, 1e9),
            "min_fill_rate must be in (0, 1e9] calls per second",
        )?;
        ok(
            self.min_capacity.is_finite() && (1.0..=1e9).contains(&self.min_capacity),
            "min_capacity must be in [1, 1e9] (one call must fit)",
        )?;
        ok(
            self.max_rate_scale.is_finite() && (1.0..=1e6).contains(&self.max_rate_scale),
            "max_rate_scale must be in [1, 1e6]",
        )
    }
}
