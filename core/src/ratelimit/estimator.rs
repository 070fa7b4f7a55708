//! The measured send rate: responses are counted in fixed time buckets (0.5 s in the SDKs), and
//! when a bucket closes its rate is blended into the estimate (weight `smoothing`, 0.8), so the
//! estimate follows the last second or so without jumping on one burst.

use super::RateLimitConfig;

/// The smoothed rate responses arrive at, counted in fixed buckets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SendRate {
    /// The smoothed rate, requests per second (0 until a bucket has closed).
    pub rate: f64,
    /// Start of the bucket being counted (seconds on the engine's clock).
    bucket: f64,
    /// Responses counted since that bucket started.
    count: u64,
}

impl SendRate {
    /// An estimator started at `now` (its first bucket starts at the whole second, as the SDKs').
    pub fn new(now: f64) -> SendRate {
        SendRate {
            rate: 0.0,
            bucket: now.floor(),
            count: 0,
        }
    }

    /// Count one response at `now`; returns the estimate after it.
    pub fn record(&mut self, now: f64, cfg: &RateLimitConfig) -> f64 {
        let width = cfg.bucket.as_secs_f64();
        let bucket = (now / width).floor() * width;
        self.count = self.count.saturating_add(1);
        if bucket > self.bucket {
            let current = self.count as f64 / (bucket - self.bucket);
            self.rate = current * cfg.smoothing + self.rate * (1.0 - cfg.smoothing);
            self.count = 0;
            self.bucket = bucket;
        }
        self.rate
    }
}

#[cfg(test)]
mod tests {
    //! boto/botocore's rate estimator vectors (tests/unit/retries/test_adaptive.py,
    //! TestRateClocker), each started at t = 0 as there.
    use super::*;

    fn cfg() -> RateLimitConfig {
        RateLimitConfig::default()
    }

    #[test]
    fn initial_rate_is_zero() {
        // Source: boto/botocore tests/unit/retries/test_adaptive.py (test_initial_rate_is_0).
        assert_eq!(SendRate::new(0.0).rate, 0.0);
    }

    #[test]
    fn rate_updates_after_the_bucket() {
        // Source: boto/botocore tests/unit/retries/test_adaptive.py
        // (test_time_updates_if_after_bucket_range): 1 * 0.8 + 0 * 0.2.
        let mut r = SendRate::new(0.0);
        assert_eq!(r.record(1.0, &cfg()), 0.8);
    }

    #[test]
    fn constant_rate_is_measured() {
        // Source: boto/botocore tests/unit/retries/test_adaptive.py (test_can_measure_constant_rate).
        let mut r = SendRate::new(0.0);
        for t in 1..=20 {
            r.record(f64::from(t), &cfg());
        }
        assert!((r.rate - 1.0).abs() < 1e-7, "{}", r.rate);
    }

    #[test]
    fn smoothing_favours_recent_buckets() {
        // Source: boto/botocore tests/unit/retries/test_adaptive.py
        // (test_uses_smoothing_to_favor_recent_weights).
        let mut r = SendRate::new(0.0);
        for t in [1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0] {
            r.record(t, &cfg());
        }
        assert!((1.99..=2.0).contains(&r.rate), "{}", r.rate);
        r.record(14.0, &cfg());
        assert!((0.1..=2.0).contains(&r.rate), "{}", r.rate);
    }

    #[test]
    fn same_bucket_is_a_noop() {
        // Source: boto/botocore tests/unit/retries/test_adaptive.py (test_noop_when_delta_t_is_0).
        let mut r = SendRate::new(0.0);
        for t in [1.0, 1.0, 1.0, 2.0, 3.0] {
            r.record(t, &cfg());
        }
        assert!(r.rate >= 1.0, "{}", r.rate);
    }

    #[test]
    fn times_are_grouped_per_bucket() {
        // Source: boto/botocore tests/unit/retries/test_adaptive.py
        // (test_times_are_grouped_per_time_bucket): five responses in (0, 0.5), then the
        // sixth opens the next bucket: 6 / 0.5 s = 12 req/s.
        let mut r = SendRate::new(0.0);
        for t in [0.1, 0.2, 0.3, 0.4, 0.49] {
            r.record(t, &cfg());
        }
        assert_eq!(r.rate, 0.0);
        r.record(0.5, &cfg());
        assert_eq!(r.rate, 12.0 * 0.8);
    }
}
