//! A manual clock for tests and simulations: time moves only when told to.

use crate::error::{invalid_argument, seconds};
use napi_derive::napi;
use std::sync::Arc;
use std::time::Duration;

/// Default start of a manual clock: 2023-11-14T22:13:20Z.
const DEFAULT_START_SECS: f64 = 1_700_000_000.0;

/// A clock that moves only when advanced; pass it to `new Engine(policy, clock)`.
#[napi]
pub struct ManualClock {
    pub(crate) inner: Arc<smartretry::ManualClock>,
}

#[napi]
impl ManualClock {
    /// A manual clock reading `startSeconds` (Unix time, default 1700000000).
    #[napi(constructor)]
    pub fn new(start_seconds: Option<f64>) -> napi::Result<Self> {
        let start = instant(start_seconds.unwrap_or(DEFAULT_START_SECS))?;
        Ok(ManualClock {
            inner: smartretry::ManualClock::shared(start),
        })
    }

    /// Current reading, seconds since the Unix epoch.
    #[napi]
    pub fn now(&self) -> f64 {
        use smartretry::Clock;
        self.inner.now().as_secs_f64()
    }

    /// Move time forward by `secs` seconds.
    #[napi]
    pub fn advance(&self, secs: f64) -> napi::Result<()> {
        self.inner.advance(seconds("clock advance", secs)?);
        Ok(())
    }

    /// Move time forward by `ms` milliseconds.
    #[napi]
    pub fn advance_ms(&self, ms: f64) -> napi::Result<()> {
        self.inner.advance(seconds("clock advance", ms / 1000.0)?);
        Ok(())
    }

    /// Jump to `secs` (Unix time) if later than now; returns the new reading.
    #[napi]
    pub fn set(&self, secs: f64) -> napi::Result<f64> {
        Ok(self.inner.set(instant(secs)?).as_secs_f64())
    }
}

/// A point in time (Unix seconds): finite and non-negative.
pub(crate) fn instant(secs: f64) -> napi::Result<Duration> {
    Duration::try_from_secs_f64(secs)
        .map_err(|_| invalid_argument(format!("invalid time {secs}: expected Unix seconds")))
}

pub(crate) fn secs_f64(d: Duration) -> f64 {
    d.as_secs_f64()
}
