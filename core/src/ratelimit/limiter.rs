//! One key's adaptive rate limiter: the send-rate estimate, the CUBIC curve and the token bucket
//! together. Off until the first throttle (every call passes), then on for good: each response
//! moves the bucket's rate (a throttle cuts it, anything else lets it grow along the curve), and
//! every call, first attempts included, takes a token.

use super::bucket::TokenBucket;
use super::cubic::Cubic;
use super::estimator::SendRate;
use super::RateLimitConfig;

/// Tokens one call takes (first attempts and retries alike, as in botocore and aws-sdk-go-v2).
const CALL_COST: f64 = 1.0;

/// One key's adaptive client rate limiter (the AWS SDKs' adaptive retry mode).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClientRateLimiter {
    /// Set by the first throttle; before it the limiter only measures.
    pub enabled: bool,
    /// The measured rate responses arrive at.
    pub send_rate: SendRate,
    /// The CUBIC curve the allowed rate follows after throttles.
    pub cubic: Cubic,
    /// The token bucket calls take tokens from.
    pub bucket: TokenBucket,
}

/// What a limiter looks like from outside, for reports and tests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimitState {
    /// Whether a throttle has switched the limiter on (before it, every call passes).
    pub enabled: bool,
    /// Tokens per second the bucket fills at: the calls per second allowed.
    pub fill_rate: f64,
    /// The smoothed rate responses have been arriving at, per second.
    pub measured_rate: f64,
    /// The send rate when the last throttle came (`W_max`).
    pub last_max_rate: f64,
    /// Tokens available now (negative when calls are queued ahead).
    pub tokens: f64,
}

impl ClientRateLimiter {
    /// A limiter created at `now`, not yet enabled.
    pub fn new(now: f64, cfg: &RateLimitConfig) -> ClientRateLimiter {
        ClientRateLimiter {
            enabled: false,
            send_rate: SendRate::new(now),
            cubic: Cubic::new(now),
            bucket: TokenBucket::new(cfg.min_fill_rate, cfg),
        }
    }

    /// A response arrived at `now` (`throttled`: the server said slow down).
    pub fn update(&mut self, throttled: bool, now: f64, cfg: &RateLimitConfig) {
        let measured = self.send_rate.record(now, cfg);
        let rate = if throttled {
            let sending = if self.enabled {
                measured.min(self.bucket.fill_rate)
            } else {
                measured
            };
            self.enabled = true;
            self.cubic.on_throttle(sending, now, cfg)
        } else {
            self.cubic.on_success(now, cfg)
        };
        // Never more than a multiple of what is actually being sent: a rate nobody has tried is
        // not known to be safe.
        let rate = rate.min(cfg.max_rate_scale * measured);
        self.bucket.set_rate(rate, now, cfg);
    }

    /// Take a token for a call at `now`: seconds to wait before sending (0 when disabled or a
    /// token is there). The token is the caller's either way.
    pub fn acquire(&mut self, now: f64) -> f64 {
        self.acquire_within(now, f64::INFINITY).unwrap_or(0.0)
    }

    /// `acquire` for a caller that will not wait longer than `max_wait` seconds (its deadline):
    /// None, taking nothing, when the token is further away, so a call given up on never
    /// holds capacity another could use.
    pub fn acquire_within(&mut self, now: f64, max_wait: f64) -> Option<f64> {
        if !self.enabled {
            return Some(0.0);
        }
        self.bucket.refill(now);
        let wait = self.bucket.wait_for_filled(CALL_COST);
        if wait > max_wait {
            return None;
        }
        self.bucket.take(CALL_COST);
        Some(wait)
    }

    /// Seconds until a call at `now` would get a token, changing nothing.
    pub fn wait_at(&self, now: f64) -> f64 {
        if !self.enabled {
            return 0.0;
        }
        self.bucket.wait_for(CALL_COST, now)
    }

    /// The limiter's numbers at `now` (seconds on the engine's clock).
    pub fn state(&self, now: f64) -> RateLimitState {
        RateLimitState {
            enabled: self.enabled,
            fill_rate: self.bucket.fill_rate,
            measured_rate: self.send_rate.rate,
            last_max_rate: self.cubic.last_max_rate,
            tokens: self.bucket.capacity_at(now),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOL: f64 = 1e-9;

    fn close(expected: f64, actual: f64, what: &str) {
        assert!(
            (expected - actual).abs() <= TOL * expected.abs().max(1.0),
            "{what}: expected {expected}, got {actual}"
        );
    }

    /// The whole limiter driven by responses every 200 ms from t = 0, throttles at 2.0 s and 3.2 s:
    /// (time, throttled, measured send rate, bucket fill rate).
    /// Source: aws/aws-sdk-go-v2 aws/retry/adaptive_ratelimit_test.go (TestAdaptiveRateLimit_Update,
    /// case "base"); the same table in smithy-lang/smithy-rs
    /// rust-runtime/aws-smithy-runtime/src/client/retries/client_rate_limiter.rs
    /// (test_client_sending_rates), which differs only in the last bits of a few values, and
    /// rounded to 6 digits in smithy-lang/smithy-typescript
    /// packages/util-retry/src/DefaultRateLimiter.spec.ts (updateClientSendingRate).
    #[test]
    fn sdk_vector_sending_rates() {
        let cfg = RateLimitConfig::default();
        let mut l = ClientRateLimiter::new(0.0, &cfg);
        for (t, throttled, measured, fill) in [
            (0.2, false, 0.0, 0.5),
            (0.4, false, 0.0, 0.5),
            (0.6, false, 4.8, 0.5),
            (0.8, false, 4.8, 0.5),
            (1.0, false, 4.16, 0.5),
            (1.2, false, 4.16, 0.6912),
            (1.4, false, 4.16, 1.0976),
            (1.6, false, 5.632, 1.6384),
            (1.8, false, 5.632, 2.3328),
            (2.0, true, 4.3264, 3.02848),
            (2.2, false, 4.3264, 3.4866391734702598),
            (2.4, false, 4.3264, 3.8218744160402554),
            (2.6, false, 5.665280, 4.053385727709987),
            (2.8, false, 5.665280, 4.200373108479455),
            (3.0, false, 4.333056, 4.282036558348658),
            (3.2, true, 4.333056, 2.99742559084406),
            (3.4, false, 4.333056, 3.4522263943863463),
        ] {
            l.update(throttled, t, &cfg);
            close(measured, l.send_rate.rate, &format!("measured rate at {t}"));
            close(fill, l.bucket.fill_rate, &format!("fill rate at {t}"));
        }
    }

    /// The first throttle at `t` on a limiter created at 0 sets the rate to 0.7 of the send
    /// rate measured from that one response (0.8 / t, or 1.6 at 0.5 s), and an empty bucket:
    /// the next call waits for one token. Source: smithy-lang/smithy-typescript
    /// packages/util-retry/src/DefaultRateLimiter.spec.ts (getSendToken: 0.5 s -> 892.857 ms,
    /// 1 s -> 1785.714 ms, 2 s -> 2000 ms, the last at the minimum fill rate).
    #[test]
    fn smithy_typescript_send_token_delays() {
        let cfg = RateLimitConfig::default();
        for (t, delay_ms) in [
            (0.5, 892.8571428571428),
            (1.0, 1785.7142857142856),
            (2.0, 2000.0),
        ] {
            let mut l = ClientRateLimiter::new(0.0, &cfg);
            l.update(true, t, &cfg);
            close(delay_ms, l.acquire(t) * 1000.0, &format!("delay at {t}"));
        }
    }

    /// The throttled rate is 0.7 of the send rate measured from one response at `t` (created at
    /// 0, W_max 10 at 5 s beforehand, which a throttle replaces). Source:
    /// smithy-lang/smithy-typescript packages/util-retry/src/DefaultRateLimiter.spec.ts
    /// (cubicThrottle, values given to 8 digits). The same file's cubicSuccess and
    /// updateClientSendingRate tables are aws-sdk-go-v2's, rounded (see `cubic.rs` and
    /// `sdk_vector_sending_rates`).
    #[test]
    fn smithy_typescript_cubic_throttle() {
        let cfg = RateLimitConfig::default();
        for (t, expected) in [
            (5.0, 0.112),
            (6.0, 0.09333333),
            (7.0, 0.08),
            (8.0, 0.07),
            (9.0, 0.06222222),
        ] {
            let mut l = ClientRateLimiter::new(0.0, &cfg);
            l.cubic.last_max_rate = 10.0;
            l.cubic.last_throttle = 5.0;
            let measured = l.send_rate.record(t, &cfg);
            let cut = l.cubic.on_throttle(measured, t, &cfg);
            assert!((cut - expected).abs() < 1e-8, "at {t}: {cut} vs {expected}");
        }
    }

    /// No token is taken before the first throttle. Source: boto/botocore
    /// tests/unit/retries/test_adaptive.py (test_bucket_bucket_acquisition_only_if_enabled).
    #[test]
    fn no_acquisition_until_enabled() {
        let cfg = RateLimitConfig::default();
        let mut l = ClientRateLimiter::new(0.0, &cfg);
        for i in 0..100 {
            assert_eq!(l.acquire(f64::from(i) * 0.001), 0.0);
        }
        assert_eq!(l.bucket.capacity, 0.0);
    }

    /// A throttle enables the bucket. Source: boto/botocore tests/unit/retries/test_adaptive.py
    /// (test_token_bucket_enabled_on_throttling_error); smithy-lang/smithy-rs
    /// rust-runtime/aws-smithy-runtime/src/client/retries/client_rate_limiter.rs
    /// (throttling_is_enabled_once_throttling_error_is_received).
    #[test]
    fn a_throttle_enables_the_bucket() {
        let cfg = RateLimitConfig::default();
        let mut l = ClientRateLimiter::new(0.0, &cfg);
        assert!(!l.enabled);
        l.update(true, 0.0, &cfg);
        assert!(l.enabled);
        // Enabled, the bucket is empty: the next call waits for a token at the minimum rate.
        close(2.0, l.acquire(0.0), "wait at 0.5 token/s");
    }

    /// After a success the rate is the curve's, capped at twice the measured rate. Source:
    /// boto/botocore tests/unit/retries/test_adaptive.py (test_max_rate_updated_on_success_response,
    /// test_max_rate_cant_exceed_20_percent_max): measured 21 and curve 20 give 20; measured 20
    /// and curve 100 give 40.
    #[test]
    fn success_rate_is_capped_by_twice_the_measured_rate() {
        let cfg = RateLimitConfig::default();
        for (measured, curve, expected) in [(21.0, 20.0, 20.0), (20.0, 100.0, 40.0)] {
            let mut l = ClientRateLimiter::new(0.0, &cfg);
            // As botocore's test stubs the estimator and the curve: the estimate is set (a
            // response inside the current bucket leaves it alone), and the curve is anchored so
            // that it reads `curve` at t = 0.1 (W_max = curve, last throttle K seconds before).
            l.send_rate.rate = measured;
            l.cubic.last_max_rate = curve;
            l.cubic.last_throttle = 0.1 - l.cubic.time_window(&cfg);
            l.update(false, 0.1, &cfg);
            close(measured, l.send_rate.rate, "measured");
            close(expected, l.bucket.fill_rate, "fill rate");
        }
    }

    /// A caller that will not wait takes nothing.
    #[test]
    fn acquire_within_takes_nothing_beyond_the_bound() {
        let cfg = RateLimitConfig::default();
        let mut l = ClientRateLimiter::new(0.0, &cfg);
        l.update(true, 0.0, &cfg);
        // Empty bucket at 0.5 token/s: the token is 2 s away.
        assert_eq!(l.acquire_within(0.0, 1.0), None);
        assert_eq!(l.bucket.capacity, 0.0);
        close(2.0, l.acquire_within(0.0, 2.0).unwrap(), "within the bound");
        close(-1.0, l.bucket.capacity, "reserved");
    }

    /// Once enabled, calls keep getting through at any pace, and the bucket follows the clock.
    /// Adapted from smithy-lang/smithy-rs rust-runtime/aws-smithy-runtime/src/client/retries/
    /// client_rate_limiter.rs (test_when_throttling_is_enabled_requests_can_still_be_sent),
    /// with a fixed pseudo-random step instead of a random one.
    #[test]
    fn calls_still_flow_once_enabled() {
        let cfg = RateLimitConfig::default();
        let mut l = ClientRateLimiter::new(0.0, &cfg);
        l.update(true, 0.0, &cfg);
        let mut now = 0.0;
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..100 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            now += (x % 1000) as f64 / 1000.0;
            let wait = l.acquire(now);
            assert!((0.0..=2.0).contains(&wait), "{wait}");
            now += wait;
            l.update(false, now, &cfg);
        }
        assert!(l.enabled);
        assert!(l.state(now).tokens <= l.bucket.max_capacity);
    }
}
