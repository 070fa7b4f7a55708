//! A retry budget shared by a fleet: one token bucket in Redis, spent and refilled atomically by
//! a Lua script with the engine's own fixed-point arithmetic (ratio, gRPC A6 and AWS standard
//! kinds, so the presets mean the same fleet-wide as in one process).
//!
//! Each call is one round trip, bounded by the I/O timeout. When Redis cannot be reached the
//! budget falls back to a local bucket holding `local_share` of the configuration (capacity and
//! refill rate scaled; by default 1/8, for a fleet of eight), and retries Redis only after
//! `retry_after`, so an outage costs one timeout per `retry_after`, not one per call. Local
//! spending during an outage is not reconciled with the fleet bucket afterwards.

use crate::config::{FleetConfig, Keys};
use crate::error::{FleetError, Result};
use crate::remote::Remote;
use parking_lot::Mutex;
use smartretry::budget::{RetryBudget, MILLI};
use smartretry::{BudgetConfig, ErrorClass, SharedClock};
use std::time::Duration;

const SCRIPT: &str = include_str!("budget_script.lua");
/// An idle fleet budget is forgotten after a day (it then starts full, like a new one).
const IDLE_EXPIRY_MS: u64 = 86_400_000;

/// Where the last decision was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetMode {
    Fleet,
    /// Redis unreachable: the local share decides.
    Local,
}

pub struct FleetBudget {
    config: BudgetConfig,
    key: String,
    clock: SharedClock,
    script: redis::Script,
    remote: Mutex<Remote>,
    local: Mutex<RetryBudget>,
    /// While set, calls go to the local share until this time (by `clock`).
    down_until: Mutex<Option<Duration>>,
    retry_after: Duration,
}

/// The configuration with its capacity and refill scaled by `share` (the local fallback).
pub fn scaled(config: &BudgetConfig, share: f64) -> BudgetConfig {
    config.scaled(share)
}

fn milli(tokens: f64) -> i64 {
    (tokens * MILLI as f64).round() as i64
}

impl FleetBudget {
    /// The fleet budget `name` (a queue or tenant) in the fleet's namespace, on `clock`.
    pub fn new(
        fleet: &FleetConfig,
        name: &str,
        config: BudgetConfig,
        local_share: f64,
        clock: SharedClock,
    ) -> Result<FleetBudget> {
        fleet.validate()?;
        config.validate()?;
        smartretry::names::check_name("budget", name)?;
        if !(local_share > 0.0 && local_share <= 1.0) {
            return Err(FleetError::InvalidConfig(format!(
                "local_share must be in (0, 1], got {local_share}"
            )));
        }
        let now = clock.now();
        Ok(FleetBudget {
            key: Keys::new(&fleet.namespace).budget(name),
            local: Mutex::new(RetryBudget::new(scaled(&config, local_share), now)),
            config,
            clock,
            script: redis::Script::new(SCRIPT),
            remote: Mutex::new(Remote::open(&fleet.url, fleet.io_timeout)?),
            down_until: Mutex::new(None),
            retry_after: Duration::from_secs(1),
        })
    }

    /// How long to stay on the local share after Redis failed.
    pub fn retry_after(mut self, wait: Duration) -> FleetBudget {
        self.retry_after = wait;
        self
    }

    fn kind(&self) -> &'static str {
        match self.config {
            BudgetConfig::Ratio { .. } => "ratio",
            BudgetConfig::Grpc { .. } => "grpc",
            BudgetConfig::AwsStandard { .. } => "aws_standard",
        }
    }

    /// Run `op` on the fleet bucket; `None` when Redis is (or was just found) unreachable.
    fn fleet(&self, op: &str, amount: i64) -> Option<(bool, i64)> {
        let now = self.clock.now();
        {
            let mut down = self.down_until.lock();
            match *down {
                Some(until) if now < until => return None,
                _ => *down = None,
            }
        }
        let rate = match self.config {
            BudgetConfig::Ratio { min_per_sec, .. } => min_per_sec * MILLI as f64,
            _ => 0.0,
        };
        let mut invocation = self.script.key(&self.key);
        invocation
            .arg(op)
            .arg(now.as_micros() as u64)
            .arg(self.kind())
            .arg(milli(self.config.capacity()).max(0))
            .arg(rate)
            .arg(amount)
            .arg(IDLE_EXPIRY_MS);
        let out = self
            .remote
            .lock()
            .with(|c| invocation.invoke::<(i64, i64)>(c));
        match out {
            Ok((allowed, held)) => Some((allowed == 1, held)),
            Err(_) => {
                *self.down_until.lock() = Some(now + self.retry_after);
                None
            }
        }
    }

    /// A new request (a first attempt) started.
    pub fn on_request(&self) -> BudgetMode {
        let credit = match self.config {
            BudgetConfig::Ratio { ratio, .. } => milli(ratio),
            _ => 0,
        };
        match self.fleet("request", credit) {
            Some(_) => BudgetMode::Fleet,
            None => {
                self.local.lock().on_request(self.clock.now());
                BudgetMode::Local
            }
        }
    }

    /// An attempt failed (`retryable`: its class may be retried; gRPC counts only those).
    pub fn on_failure(&self, retryable: bool) -> BudgetMode {
        if !(retryable && matches!(self.config, BudgetConfig::Grpc { .. })) {
            return BudgetMode::Fleet;
        }
        match self.fleet("add", -MILLI) {
            Some(_) => BudgetMode::Fleet,
            None => {
                self.local.lock().on_failure(retryable);
                BudgetMode::Local
            }
        }
    }

    /// An attempt succeeded; `retry_cost` is what its retry had spent (None: a first attempt).
    pub fn on_success(&self, retry_cost: Option<f64>) -> BudgetMode {
        let credit = match self.config {
            BudgetConfig::Ratio { .. } => return BudgetMode::Fleet,
            BudgetConfig::Grpc { token_ratio, .. } => milli(token_ratio),
            BudgetConfig::AwsStandard {
                no_retry_increment, ..
            } => milli(retry_cost.unwrap_or(no_retry_increment)),
        };
        match self.fleet("add", credit) {
            Some(_) => BudgetMode::Fleet,
            None => {
                self.local.lock().on_success(retry_cost);
                BudgetMode::Local
            }
        }
    }

    /// Pay for one retry after a failure of `class`: the cost in tokens, or `None` when the
    /// budget says no; and where it was decided.
    pub fn try_spend(&self, class: ErrorClass) -> (Option<f64>, BudgetMode) {
        let cost = self.cost(class);
        match self.fleet("spend", cost) {
            Some((allowed, _)) => (
                allowed.then(|| cost as f64 / MILLI as f64),
                BudgetMode::Fleet,
            ),
            None => (
                self.local.lock().try_spend(class, self.clock.now()),
                BudgetMode::Local,
            ),
        }
    }

    /// Tokens the fleet bucket holds now (after refilling), or `None` if Redis is unreachable.
    pub fn tokens(&self) -> Option<f64> {
        self.fleet("request", 0)
            .map(|(_, held)| held as f64 / MILLI as f64)
    }

    /// What one retry of `class` costs, in thousandths: read off a full local bucket (the
    /// engine's own rule; gRPC retries cost nothing, they are throttled by the level).
    fn cost(&self, class: ErrorClass) -> i64 {
        let mut full = RetryBudget::new(self.config.clone(), Duration::ZERO);
        match full.try_spend(class, Duration::ZERO) {
            Some(tokens) => milli(tokens),
            // Costs more than the whole bucket: never affordable.
            None => milli(self.config.capacity()) + 1,
        }
    }
}
