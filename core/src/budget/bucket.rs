//! The live token bucket of one queue or tenant, in thousandths of a token.
//!
//! Why fixed point: gRPC's reference implementations (gRPC core `retry_throttle.cc`, grpc-java
//! `RetriableStream.Throttle`) keep tokens as integers scaled by 1000. With floats, 10 tokens
//! minus eight failures plus eight successes of 0.1 is 2.0000000000000004, not 2, and a retry the
//! specification throttles at exactly the threshold slips through.

use super::shared::Sharing;
use super::BudgetConfig;
use crate::class::ErrorClass;
use std::time::Duration;

/// Thousandths per token: the fixed-point scale of every budget.
pub const MILLI: i64 = 1000;

/// A token amount in thousandths, rounded to the nearest. Config values are validated to at
/// most 1e12 tokens; `as` saturates anything else instead of wrapping.
pub(crate) fn to_milli(tokens: f64) -> i64 {
    (tokens * MILLI as f64).round() as i64
}

fn to_tokens(milli: i64) -> f64 {
    milli as f64 / MILLI as f64
}

/// The live token bucket of one queue or tenant.
#[derive(Debug, Clone)]
pub struct RetryBudget {
    pub(super) config: BudgetConfig,
    /// Tokens held, in thousandths; always in `0..=capacity`.
    pub(super) milli: i64,
    pub(super) capacity: i64,
    /// Ratio budgets: the part of a thousandth earned by the per-second floor but not yet
    /// credited (so frequent refills do not round the floor away).
    pub(super) carry: f64,
    pub(super) refilled_at: Duration,
    /// Set when the bucket is this engine's part of a budget shared by a fleet (see `shared`).
    pub(super) sharing: Option<Box<Sharing>>,
}

impl RetryBudget {
    /// A full bucket.
    pub fn new(config: BudgetConfig, now: Duration) -> RetryBudget {
        let capacity = to_milli(config.capacity()).max(0);
        RetryBudget {
            config,
            milli: capacity,
            capacity,
            carry: 0.0,
            refilled_at: now,
            sharing: None,
        }
    }

    /// The configuration the bucket was built with.
    pub fn config(&self) -> &BudgetConfig {
        &self.config
    }

    /// Tokens held (exact to three decimal places).
    pub fn tokens(&self) -> f64 {
        to_tokens(self.milli)
    }

    /// Tokens held, in thousandths (the exact value).
    pub fn milli_tokens(&self) -> i64 {
        self.milli
    }

    pub(super) fn add(&mut self, milli: i64) {
        self.milli = self.milli.saturating_add(milli).clamp(0, self.capacity);
    }

    /// Tokens earned by a request or a success: into the bucket, or, while it leases from a
    /// fleet, set aside for the fleet's bucket (see `shared`).
    fn credit(&mut self, milli: i64) {
        if !self.credit_to_fleet(milli) {
            self.add(milli);
        }
    }

    fn refill(&mut self, now: Duration) {
        if let BudgetConfig::Ratio { min_per_sec, .. } = self.config {
            // A shared bucket refills at its local share while alone, not at all while the
            // fleet's bucket refills for it.
            let min_per_sec = min_per_sec * self.refill_share();
            let dt = now.saturating_sub(self.refilled_at).as_secs_f64();
            self.carry += min_per_sec * MILLI as f64 * dt;
            let whole = self.carry.floor();
            self.carry -= whole;
            let before = self.milli;
            self.add(whole as i64);
            if self.sharing.is_some() {
                self.note_minted(self.milli - before);
            }
            if self.milli == self.capacity {
                self.carry = 0.0;
            }
        }
        self.refilled_at = self.refilled_at.max(now);
    }

    /// A new request (a first attempt) started.
    pub fn on_request(&mut self, now: Duration) {
        self.refill(now);
        if let BudgetConfig::Ratio { ratio, .. } = self.config {
            self.credit(to_milli(ratio));
        }
    }

    /// An attempt failed. gRFC A6 counts only failures whose status is retryable (grpc-java:
    /// "qualified failure"); a permanent error says nothing about the server's load and costs
    /// nothing. The other kinds pay when a retry is taken, not when an attempt fails.
    pub fn on_failure(&mut self, retryable: bool) {
        if let (BudgetConfig::Grpc { .. }, true) = (&self.config, retryable) {
            self.credit(-MILLI);
        }
    }

    /// An attempt succeeded; `retry_cost` is what the successful retry had spent (None if the
    /// success was a first attempt).
    pub fn on_success(&mut self, retry_cost: Option<f64>) {
        match self.config {
            BudgetConfig::Ratio { .. } => {}
            BudgetConfig::Grpc { token_ratio, .. } => self.credit(to_milli(token_ratio)),
            BudgetConfig::AwsStandard {
                no_retry_increment, ..
            } => self.credit(to_milli(retry_cost.unwrap_or(no_retry_increment))),
        }
    }

    /// Whether a retry would be allowed at `now`, without spending anything.
    pub fn would_allow(&self, class: ErrorClass, now: Duration) -> bool {
        self.clone().try_spend(class, now).is_some()
    }

    /// What a retry after a failure of `class` costs, in thousandths.
    pub(super) fn cost(&self, class: ErrorClass) -> i64 {
        match self.config {
            BudgetConfig::Ratio { .. } => MILLI,
            BudgetConfig::Grpc { .. } => 0,
            BudgetConfig::AwsStandard {
                retry_cost,
                timeout_cost,
                throttling_cost,
                ..
            } => to_milli(match class {
                ErrorClass::Timeout => timeout_cost,
                ErrorClass::RateLimited => throttling_cost.unwrap_or(retry_cost),
                _ => retry_cost,
            }),
        }
    }

    /// Take what one retry costs; `None` means the budget says no. Returns the cost spent, in
    /// tokens.
    pub fn try_spend(&mut self, class: ErrorClass, now: Duration) -> Option<f64> {
        self.refill(now);
        let allowed = match self.config {
            // A6: "retries are throttled when the token count is at or below half the maximum".
            // Integer halving, as gRPC core and grpc-java do.
            BudgetConfig::Grpc { .. } => self.milli > self.capacity / 2,
            _ => self.milli >= self.cost(class),
        };
        if !allowed {
            return None;
        }
        let cost = self.cost(class);
        self.add(-cost);
        Some(to_tokens(cost))
    }
}
