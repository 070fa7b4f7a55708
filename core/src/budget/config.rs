//! What a retry budget is configured with, as written in policy JSON.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// How a retry budget earns and spends tokens. Amounts are kept in thousandths of a token (as
/// grpc-java and gRPC core do), so values are exact to three decimal places; further decimals
/// are rounded.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum BudgetConfig {
    /// Retries may be at most `ratio` of requests, plus a floor of `min_per_sec` retries per
    /// second; at most `capacity` tokens are banked (Finagle/Linkerd style).
    Ratio {
        /// Retries allowed per request made (0..1000; 0.1 = at most one retry per ten requests).
        ratio: f64,
        /// Retries allowed per second regardless of traffic, so quiet queues can still retry.
        min_per_sec: f64,
        /// Most tokens banked, so a quiet spell cannot save up for a storm.
        capacity: f64,
    },
    /// gRPC retry throttling (gRFC A6): starts full at `max_tokens`; each failure with a
    /// retryable status costs 1 token, each success earns `token_ratio`; retries are allowed
    /// only while tokens > max_tokens / 2.
    Grpc {
        /// Tokens the bucket holds, and starts with (0 < max_tokens <= 1000).
        max_tokens: f64,
        /// Tokens a success earns (> 0).
        token_ratio: f64,
    },
    /// AWS SDK standard retry quota. Every field has the SDKs' default, so
    /// `{"kind": "aws_standard"}` alone is the standard mode: 500 tokens, a retry costs 5, a
    /// retry after a timeout 10; a successful retry refunds what it cost, a success at the first
    /// attempt earns 1.
    ///
    /// `throttling_cost` (default: `retry_cost`) is what a retry after a rate-limit error costs.
    /// The SDKs' opt-in "new retries" behaviour (`AWS_NEW_RETRIES_2026`; botocore,
    /// smithy-kotlin) is `retry_cost` 14, `timeout_cost` 14, `throttling_cost` 5.
    AwsStandard {
        /// Tokens the bucket holds, and starts with (default 500).
        #[serde(default = "aws::capacity")]
        capacity: f64,
        /// What a retry costs (default 5).
        #[serde(default = "aws::retry_cost")]
        retry_cost: f64,
        /// What a retry after a timeout costs (default 10).
        #[serde(default = "aws::timeout_cost")]
        timeout_cost: f64,
        /// What a retry after a rate-limit error costs (default: `retry_cost`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        throttling_cost: Option<f64>,
        /// What a success at the first attempt earns (default 1).
        #[serde(default = "aws::no_retry_increment")]
        no_retry_increment: f64,
    },
}

/// The AWS SDKs' standard-mode defaults (botocore `retries/standard.py`, aws-sdk-go-v2
/// `aws/retry/standard.go`, smithy-rs `retries/strategy/standard.rs`).
mod aws {
    pub fn capacity() -> f64 {
        500.0
    }
    pub fn retry_cost() -> f64 {
        5.0
    }
    pub fn timeout_cost() -> f64 {
        10.0
    }
    pub fn no_retry_increment() -> f64 {
        1.0
    }
}

/// Largest token amount accepted anywhere (fits the fixed-point counter with room to spare).
const MAX_TOKENS: f64 = 1e12;

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
            capacity: aws::capacity(),
            retry_cost: aws::retry_cost(),
            timeout_cost: aws::timeout_cost(),
            throttling_cost: None,
            no_retry_increment: aws::no_retry_increment(),
        }
    }

    /// Retries at most `ratio` of requests with a floor of `min_per_sec` per second.
    pub fn ratio(ratio: f64, min_per_sec: f64) -> BudgetConfig {
        BudgetConfig::Ratio {
            ratio,
            min_per_sec,
            capacity: (min_per_sec * 10.0).max(100.0 * ratio).max(1.0),
        }
    }

    /// This configuration with its capacity and refill rate scaled by `share` (0..=1): the part
    /// of a fleet's budget one of its processes may use alone (ratio capacity at least 1 token;
    /// gRPC `max_tokens` at least 0.001).
    pub fn scaled(&self, share: f64) -> BudgetConfig {
        let mut c = self.clone();
        match &mut c {
            BudgetConfig::Ratio {
                min_per_sec,
                capacity,
                ..
            } => {
                *min_per_sec *= share;
                *capacity = (*capacity * share).max(1.0);
            }
            BudgetConfig::Grpc { max_tokens, .. } => *max_tokens = (*max_tokens * share).max(0.001),
            BudgetConfig::AwsStandard { capacity, .. } => *capacity *= share,
        }
        c
    }

    /// The bucket's size in tokens.
    pub fn capacity(&self) -> f64 {
        match self {
            BudgetConfig::Ratio { capacity, .. } => *capacity,
            BudgetConfig::Grpc { max_tokens, .. } => *max_tokens,
            BudgetConfig::AwsStandard { capacity, .. } => *capacity,
        }
    }

    /// Check every amount is finite and in range, with a clear error naming it.
    pub fn validate(&self) -> Result<()> {
        let check = |v: f64, what: &str, max: f64| {
            if v.is_finite() && (0.0..=max).contains(&v) {
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
                check(*ratio, "ratio", 1000.0)?;
                check(*min_per_sec, "min_per_sec", 1e9)?;
                check(*capacity, "capacity", MAX_TOKENS)?;
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
                check(*max_tokens, "max_tokens", 1000.0)?;
                check(*token_ratio, "token_ratio", 1000.0)?;
                // In thousandths, as gRPC keeps them: both must be at least 0.001.
                if *max_tokens < 0.0005 || *token_ratio < 0.0005 {
                    return Err(Error::InvalidConfig(
                        "gRPC throttling needs max_tokens > 0 and token_ratio > 0".into(),
                    ));
                }
            }
            BudgetConfig::AwsStandard {
                capacity,
                retry_cost,
                timeout_cost,
                throttling_cost,
                no_retry_increment,
            } => {
                check(*capacity, "capacity", MAX_TOKENS)?;
                check(*retry_cost, "retry_cost", MAX_TOKENS)?;
                check(*timeout_cost, "timeout_cost", MAX_TOKENS)?;
                if let Some(c) = throttling_cost {
                    check(*c, "throttling_cost", MAX_TOKENS)?;
                }
                check(*no_retry_increment, "no_retry_increment", MAX_TOKENS)?;
            }
        }
        Ok(())
    }
}
