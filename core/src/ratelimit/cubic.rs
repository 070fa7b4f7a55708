//! The CUBIC calculator: after a throttle the allowed rate drops to `beta` times the rate that
//! was throttled, then grows back along `W(t) = C (t - K)^3 + W_max`, flat around the rate that
//! was throttled (so it is approached carefully) and steep beyond it (so spare capacity is found
//! quickly). `K` is the time the curve takes to climb back to `W_max`.

use super::RateLimitConfig;

/// The cubic's anchor: the rate when the last throttle came, and when it came.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cubic {
    /// `W_max`: the send rate (requests/s) when the last throttle arrived.
    pub last_max_rate: f64,
    /// When the last throttle arrived (seconds on the engine's clock).
    pub last_throttle: f64,
}

impl Cubic {
    /// A calculator that has seen no throttle yet: `W_max` 0, anchored at `now`.
    pub fn new(now: f64) -> Cubic {
        Cubic {
            last_max_rate: 0.0,
            last_throttle: now,
        }
    }

    /// `K = cbrt(W_max (1 - beta) / C)`, seconds from the last throttle back to `W_max`.
    pub fn time_window(&self, cfg: &RateLimitConfig) -> f64 {
        (self.last_max_rate * (1.0 - cfg.beta) / cfg.scale_constant).cbrt()
    }

    /// The rate the curve allows at `now` (any response that was not a throttle).
    pub fn on_success(&self, now: f64, cfg: &RateLimitConfig) -> f64 {
        let dt = now - self.last_throttle - self.time_window(cfg);
        cfg.scale_constant * dt.powi(3) + self.last_max_rate
    }

    /// A throttle at `now` while sending at `rate`: remember both, and answer the cut rate.
    pub fn on_throttle(&mut self, rate: f64, now: f64, cfg: &RateLimitConfig) -> f64 {
        self.last_max_rate = rate;
        self.last_throttle = now;
        rate * cfg.beta
    }
}

#[cfg(test)]
mod tests {
    //! The SDKs' published CUBIC vectors. Each table names the file it comes from.
    use super::*;

    const TOL: f64 = 1e-9;

    fn close(expected: f64, actual: f64) {
        assert!(
            (expected - actual).abs() <= TOL * expected.abs().max(1.0),
            "expected {expected}, got {actual}"
        );
    }

    fn sdk() -> RateLimitConfig {
        RateLimitConfig::default()
    }

    /// Successes only, from `W_max` 10 throttled at t = 5.
    /// Source: aws/aws-sdk-go-v2 aws/retry/adaptive_ratelimit_test.go (TestAdaptiveRateLimit_cubic,
    /// case "success"); the same table in smithy-lang/smithy-rs
    /// rust-runtime/aws-smithy-runtime/src/client/retries/client_rate_limiter.rs
    /// (test_calculated_rate_with_successes); rounded to 8 digits in smithy-lang/smithy-typescript
    /// packages/util-retry/src/DefaultRateLimiter.spec.ts (cubicSuccess).
    #[test]
    fn sdk_vector_successes() {
        let c = Cubic {
            last_max_rate: 10.0,
            last_throttle: 5.0,
        };
        for (t, expected) in [
            (5.0, 7.0),
            (6.0, 9.64893600966),
            (7.0, 10.000030849917364),
            (8.0, 10.453284520772092),
            (9.0, 13.408697022224185),
            (10.0, 21.26626835427364),
            (11.0, 36.425998516920465),
        ] {
            close(expected, c.on_success(t, &sdk()));
        }
    }

    /// Successes and throttles mixed. The SDK test writes the cut rate back as `W_max` and
    /// cuts the previous *calculated* rate, so the table is replayed exactly that way.
    /// Source: aws/aws-sdk-go-v2 aws/retry/adaptive_ratelimit_test.go (TestAdaptiveRateLimit_cubic,
    /// case "mixed"); smithy-lang/smithy-rs
    /// rust-runtime/aws-smithy-runtime/src/client/retries/client_rate_limiter.rs
    /// (test_calculated_rate_with_throttles).
    #[test]
    fn sdk_vector_mixed() {
        let mut c = Cubic {
            last_max_rate: 10.0,
            last_throttle: 5.0,
        };
        let mut rate = 0.0;
        for (throttled, t, expected) in [
            (false, 5.0, 7.0),
            (false, 6.0, 9.64893600966),
            (true, 7.0, 6.754255206761999),
            (true, 8.0, 4.727978644733399),
            (false, 9.0, 4.670125557970046),
            (false, 10.0, 4.770870456867401),
            (false, 11.0, 6.011819748005445),
            (false, 12.0, 10.792973431384178),
        ] {
            if throttled {
                rate = c.on_throttle(rate, t, &sdk());
                c.last_max_rate = rate;
            } else {
                rate = c.on_success(t, &sdk());
            }
            close(expected, rate);
        }
    }

    /// `K` for `W_max` 10: source boto/botocore tests/unit/retries/test_throttling.py
    /// (test_starting_params).
    #[test]
    fn botocore_starting_k() {
        let c = Cubic {
            last_max_rate: 10.0,
            last_throttle: 0.0,
        };
        close(1.9574338205844317, c.time_window(&sdk()));
    }

    /// Below `W_max` before `K`, at it at `K`, above after. Source: boto/botocore
    /// tests/unit/retries/test_throttling.py (test_success_responses_until_max_hit).
    #[test]
    fn botocore_success_until_max_hit() {
        let c = Cubic {
            last_max_rate: 10.0,
            last_throttle: 0.0,
        };
        let k = c.time_window(&sdk());
        for t in [k / 3.0, k / 2.0, k / 1.1] {
            assert!(c.on_success(t, &sdk()) <= 10.0);
        }
        close(10.0, c.on_success(k, &sdk()));
        for t in [k * 1.1, k * 2.0] {
            assert!(c.on_success(t, &sdk()) >= 10.0);
        }
    }

    /// A throttle at 8 req/s cuts to 5.6 and moves `K` to 1.8171205928321397. Source:
    /// boto/botocore tests/unit/retries/test_throttling.py
    /// (test_error_response_decreases_rate_by_beta).
    #[test]
    fn botocore_error_decreases_rate_by_beta() {
        let mut c = Cubic {
            last_max_rate: 10.0,
            last_throttle: 0.0,
        };
        close(5.6, c.on_throttle(8.0, 1.0, &sdk()));
        assert_eq!(c.last_max_rate, 8.0);
        assert_eq!(c.last_throttle, 1.0);
        close(1.8171205928321397, c.time_window(&sdk()));
    }

    /// With beta 0.6 the curve starts at the cut rate. Source: boto/botocore
    /// tests/unit/retries/test_throttling.py (test_t_0_should_match_beta_decrease); with beta
    /// 0.7, smithy-lang/smithy-rs rust-runtime/aws-smithy-runtime/src/client/retries/
    /// client_rate_limiter.rs (should_match_beta_decrease).
    #[test]
    fn curve_starts_at_the_cut_rate() {
        let cfg = RateLimitConfig { beta: 0.6, ..sdk() };
        let mut c = Cubic {
            last_max_rate: 10.0,
            last_throttle: 0.0,
        };
        close(6.0, c.on_throttle(10.0, 1.0, &cfg));
        close(6.0, c.on_success(1.0, &cfg));
        let c = Cubic {
            last_max_rate: 10.0,
            last_throttle: 1.0,
        };
        close(7.0, c.on_success(1.0, &sdk()));
    }
}
