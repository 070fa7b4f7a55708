//! Retry budgets: a token bucket per queue and per tenant so that a retry storm cannot amplify an
//! outage. Presets behave exactly like gRPC retry throttling and the AWS SDKs' standard retry
//! quota, so users migrating from them keep what they know.

use crate::class::ErrorClass;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How a retry budget earns and spends tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BudgetConfig {
    /// Retries may be at most `ratio` of requests, plus a floor of `min_per_sec` retries per
    /// second; at most `capacity` tokens are banked (Finagle/Linkerd style).
    Ratio {
        ratio: f64,
        min_per_sec: f64,
        capacity: f64,
    },
    /// gRPC retry throttling (gRFC A6): starts full at `max_tokens`; each failed attempt costs 1,
    /// each success earns `token_ratio`; retries are allowed only while tokens > max_tokens / 2.
    Grpc { max_tokens: f64, token_ratio: f64 },
    /// AWS SDK standard retry quota: starts at `capacity` (500); a retry costs `retry_cost` (5),
    /// or `timeout_cost` (10) after a timeout; a successful retry refunds its cost, a success on
    /// the first attempt earns `no_retry_increment` (1).
    AwsStandard {
        capacity: f64,
        retry_cost: f64,
        timeout_cost: f64,
        no_retry_increment: f64,
    },
}

impl BudgetConfig {
    /// gRPC's `retryThrottling` with the given parameters (gRPC's own limits apply:
    /// 0 < max_tokens <= 1000, token_ratio > 0).
    pub fn grpc(max_tokens: f64, token_ratio: f64) -> BudgetConfig {
        BudgetConfig::Grpc {
            max_tokens,
            token_ratio,
        }
    }

    /// The AWS SDKs' standard retry mode quota: 500 tokens, cost 5, 10 for a timeout, refund on
    /// success, +1 for a success without retry.
    pub fn aws_standard() -> BudgetConfig {
        BudgetConfig::AwsStandard {
            capacity: 500.0,
            retry_cost: 5.0,
            timeout_cost: 10.0,
            no_retry_increment: 1.0,
        }
    }

    /// Retries at most 20% of requests with a floor of 10 per second.
    pub fn ratio(ratio: f64, min_per_sec: f64) -> BudgetConfig {
        BudgetConfig::Ratio {
            ratio,
            min_per_sec,
            capacity: (min_per_sec * 10.0).max(100.0 * ratio).max(1.0),
        }
    }

    pub fn validate(&self) -> Result<()> {
        let pos = |v: f64, what: &str, max: f64| {
            if v.is_finite() && v >= 0.0 && v <= max {
                Ok(())
            } else {
                Err(Error::InvalidConfig(format!(
                    "budget {what} must be a finite number in [0, {max}], got {v}"
                )))
            }
        };
        match self {
            BudgetConfig::Ratio {
                ratio,
                min_per_sec,
                capacity,
            } => {
                pos(*ratio, "ratio", 1000.0)?;
                pos(*min_per_sec, "min_per_sec", 1e9)?;
                pos(*capacity, "capacity", 1e12)?;
                if *capacity < 1.0 {
                    return Err(Error::InvalidConfig(
                        "budget capacity must be at least 1".into(),
                    ));
                }
            }
            BudgetConfig::Grpc {
                max_tokens,
                token_ratio,
            } => {
                pos(*max_tokens, "max_tokens", 1000.0)?;
                pos(*token_ratio, "token_ratio", 1000.0)?;
                if *max_tokens <= 0.0 || *token_ratio <= 0.0 {
                    return Err(Error::InvalidConfig(
                        "gRPC throttling needs max_tokens > 0 and token_ratio > 0".into(),
                    ));
                }
            }
            BudgetConfig::AwsStandard {
                capacity,
                retry_cost,
                timeout_cost,
                no_retry_increment,
            } => {
                pos(*capacity, "capacity", 1e12)?;
                pos(*retry_cost, "retry_cost", 1e12)?;
                pos(*timeout_cost, "timeout_cost", 1e12)?;
                pos(*no_retry_increment, "no_retry_increment", 1e12)?;
            }
        }
        Ok(())
    }
}

/// The live token bucket of one queue or tenant.
#[derive(Debug, Clone)]
pub struct RetryBudget {
    config: BudgetConfig,
    tokens: f64,
    refilled_at: Duration,
}

impl RetryBudget {
    pub fn new(config: BudgetConfig, now: Duration) -> RetryBudget {
        let tokens = match &config {
            BudgetConfig::Ratio { capacity, .. } => *capacity,
            BudgetConfig::Grpc { max_tokens, .. } => *max_tokens,
            BudgetConfig::AwsStandard { capacity, .. } => *capacity,
        };
        RetryBudget {
            config,
            tokens,
            refilled_at: now,
        }
    }

    pub fn tokens(&self) -> f64 {
        self.tokens
    }

    fn capacity(&self) -> f64 {
        match &self.config {
            BudgetConfig::Ratio { capacity, .. } => *capacity,
            BudgetConfig::Grpc { max_tokens, .. } => *max_tokens,
            BudgetConfig::AwsStandard { capacity, .. } => *capacity,
        }
    }

    fn add(&mut self, amount: f64) {
        self.tokens = (self.tokens + amount).clamp(0.0, self.capacity());
    }

    fn refill(&mut self, now: Duration) {
        if let BudgetConfig::Ratio { min_per_sec, .. } = self.config {
            let dt = now.saturating_sub(self.refilled_at).as_secs_f64();
            self.add(min_per_sec * dt);
        }
        self.refilled_at = self.refilled_at.max(now);
    }

    /// A new request (a first attempt) started.
    pub fn on_request(&mut self, now: Duration) {
        self.refill(now);
        if let BudgetConfig::Ratio { ratio, .. } = self.config {
            self.add(ratio);
        }
    }

    /// An attempt failed (gRPC counts every failed attempt against the budget).
    pub fn on_failure(&mut self) {
        if let BudgetConfig::Grpc { .. } = self.config {
            self.add(-1.0);
        }
    }

    /// An attempt succeeded; `retry_cost` is what the successful retry had spent (None if the
    /// success was a first attempt).
    pub fn on_success(&mut self, retry_cost: Option<f64>) {
        match self.config {
            BudgetConfig::Ratio { .. } => {}
            BudgetConfig::Grpc { token_ratio, .. } => self.add(token_ratio),
            BudgetConfig::AwsStandard {
                no_retry_increment, ..
            } => self.add(retry_cost.unwrap_or(no_retry_increment)),
        }
    }

    /// Whether a retry would be allowed now, without spending anything (for previews).
    pub fn would_allow(&self, class: ErrorClass) -> bool {
        let mut probe = self.clone();
        probe.try_spend(class, self.refilled_at).is_some()
    }

    /// Take what one retry costs; `None` means the budget says no. Returns the cost spent.
    pub fn try_spend(&mut self, class: ErrorClass, now: Duration) -> Option<f64> {
        self.refill(now);
        match self.config {
            BudgetConfig::Ratio { .. } => {
                if self.tokens >= 1.0 {
                    self.tokens -= 1.0;
                    Some(1.0)
                } else {
                    None
                }
            }
            BudgetConfig::Grpc { max_tokens, .. } => {
                (self.tokens > max_tokens / 2.0).then_some(0.0)
            }
            BudgetConfig::AwsStandard {
                retry_cost,
                timeout_cost,
                ..
            } => {
                let cost = if class == ErrorClass::Timeout {
                    timeout_cost
                } else {
                    retry_cost
                };
                if self.tokens >= cost {
                    self.tokens -= cost;
                    Some(cost)
                } else {
                    None
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ErrorClass::*;

    const T0: Duration = Duration::from_secs(1000);

    #[test]
    fn grpc_throttling_matches_a6() {
        // maxTokens 10, tokenRatio 0.1: after 5 failures tokens = 5 = half -> no retry.
        let mut b = RetryBudget::new(BudgetConfig::grpc(10.0, 0.1), T0);
        for _ in 0..4 {
            b.on_failure();
        }
        assert_eq!(b.tokens(), 6.0);
        assert!(b.try_spend(Unavailable, T0).is_some());
        b.on_failure();
        assert_eq!(b.tokens(), 5.0);
        assert!(
            b.try_spend(Unavailable, T0).is_none(),
            "no retry at or below half"
        );
        b.on_success(None);
        assert!((b.tokens() - 5.1).abs() < 1e-9);
        assert!(b.try_spend(Unavailable, T0).is_some());
        for _ in 0..100 {
            b.on_success(None);
        }
        assert_eq!(b.tokens(), 10.0, "capped at max_tokens");
    }

    #[test]
    fn aws_standard_quota() {
        let mut b = RetryBudget::new(BudgetConfig::aws_standard(), T0);
        assert_eq!(b.try_spend(Unavailable, T0), Some(5.0));
        assert_eq!(b.try_spend(Timeout, T0), Some(10.0));
        assert_eq!(b.tokens(), 485.0);
        b.on_success(Some(10.0));
        assert_eq!(b.tokens(), 495.0);
        b.on_success(None);
        assert_eq!(b.tokens(), 496.0);
        // drain: 99 retries of cost 5 = 495, then 1 token left: refused
        for _ in 0..99 {
            assert!(b.try_spend(ServerError, T0).is_some());
        }
        assert_eq!(b.tokens(), 1.0);
        assert_eq!(b.try_spend(ServerError, T0), None);
    }

    #[test]
    fn ratio_budget_limits_share_and_refills_floor() {
        let mut b = RetryBudget::new(
            BudgetConfig::Ratio {
                ratio: 0.1,
                min_per_sec: 1.0,
                capacity: 5.0,
            },
            T0,
        );
        let spent = (0..10)
            .filter(|_| b.try_spend(Unavailable, T0).is_some())
            .count();
        assert_eq!(spent, 5, "capacity bounds a burst");
        for _ in 0..20 {
            b.on_request(T0);
        }
        assert_eq!(b.try_spend(Unavailable, T0), Some(1.0)); // 20 requests * 0.1 = 2 tokens
        assert_eq!(b.try_spend(Unavailable, T0), Some(1.0));
        assert_eq!(b.try_spend(Unavailable, T0), None);
        assert!(
            b.try_spend(Unavailable, T0 + Duration::from_secs(1))
                .is_some(),
            "floor per second"
        );
    }

    #[test]
    fn invalid_configs() {
        assert!(BudgetConfig::grpc(0.0, 0.1).validate().is_err());
        assert!(BudgetConfig::grpc(10.0, f64::NAN).validate().is_err());
        assert!(BudgetConfig::ratio(-1.0, 1.0).validate().is_err());
        assert!(BudgetConfig::aws_standard().validate().is_ok());
        let json = r#"{"kind":"grpc","max_tokens":10,"token_ratio":0.1}"#;
        assert_eq!(
            serde_json::from_str::<BudgetConfig>(json).unwrap(),
            BudgetConfig::grpc(10.0, 0.1)
        );
    }
}
