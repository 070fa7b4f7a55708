//! What the caller knows about an attempt that the engine cannot see: the load on the queue and on
//! the dependency, the payload, the worker. The learned tier reads it as features; the attempt
//! history records it, so that the trainer learns from exactly what the engine will later see.
//! Every field is optional: a missing one is a neutral feature, never an error.

use crate::error::{Error, Result};
use std::time::Duration;

/// Optional per-attempt context, passed once with `Engine::begin_with_context` and updated with
/// `Episode::set_context` (e.g. the latest queue depth before each retry).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AttemptContext {
    /// Hour of day, UTC (0 to < 24, fractions allowed). When absent, the engine's clock gives it.
    pub hour_of_day: Option<f64>,
    /// Day of week, UTC, 0 = Monday ... 6 = Sunday. When absent, the engine's clock gives it.
    pub day_of_week: Option<u8>,
    /// The job's payload size, in bytes.
    pub payload_size: Option<u64>,
    /// Jobs waiting in the queue when the attempt ran.
    pub queue_depth: Option<u64>,
    /// The dependency's latest observed latency.
    pub downstream_latency: Option<Duration>,
    /// The version of the worker that runs the attempt.
    pub worker_version: Option<String>,
    /// The tenant the job runs for (when not given to `begin`).
    pub tenant: Option<String>,
}

impl AttemptContext {
    /// Reject values that cannot be true: an hour outside [0, 24), a day outside 0-6, a latency
    /// beyond a day, a bad name.
    pub fn validate(&self) -> Result<()> {
        if let Some(h) = self.hour_of_day {
            if !(0.0..24.0).contains(&h) {
                return Err(Error::InvalidConfig(format!(
                    "context hour_of_day must be in [0, 24), got {h}"
                )));
            }
        }
        if self.day_of_week.is_some_and(|d| d > 6) {
            return Err(Error::InvalidConfig(
                "context day_of_week must be 0 (Monday) to 6 (Sunday)".into(),
            ));
        }
        if self
            .downstream_latency
            .is_some_and(|d| d > Duration::from_secs(86_400))
        {
            return Err(Error::InvalidDuration {
                what: "downstream_latency",
                value: self.downstream_latency.map_or(0.0, |d| d.as_secs_f64()),
                max: 86_400.0,
            });
        }
        if let Some(v) = &self.worker_version {
            crate::names::check_name("worker_version", v)?;
        }
        if let Some(t) = &self.tenant {
            crate::names::check_name("tenant", t)?;
        }
        Ok(())
    }

    /// Seconds since midnight UTC and day of week at `unix` seconds, the caller's values taking
    /// precedence over the clock's (a caller in another time base can pass its own).
    pub(crate) fn calendar_at(&self, unix: f64, shift: f64) -> (f64, u8) {
        let (clock_sod, clock_dow) = seconds_of_day(unix + shift);
        match (self.hour_of_day, self.day_of_week) {
            (None, None) => (clock_sod, clock_dow),
            (h, d) => {
                // The caller's "now", moved forward by the shift.
                let sod0 = h.map_or(seconds_of_day(unix).0, |h| h * 3600.0);
                let dow0 = d.unwrap_or(seconds_of_day(unix).1);
                let total = sod0 + shift.max(0.0);
                let days = (total / 86_400.0).floor();
                let dow = (u64::from(dow0) + days as u64) % 7;
                (total - days * 86_400.0, dow as u8)
            }
        }
    }
}

/// Seconds since midnight UTC and day of week (0 = Monday) of a Unix time.
pub fn seconds_of_day(unix: f64) -> (f64, u8) {
    let t = if unix.is_finite() { unix.max(0.0) } else { 0.0 };
    let days = (t / 86_400.0).floor();
    // 1970-01-01 was a Thursday (3 when Monday is 0).
    let dow = ((days as u64) + 3) % 7;
    (t - days * 86_400.0, dow as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_context_is_refused() {
        let bad = [
            AttemptContext {
                hour_of_day: Some(24.0),
                ..Default::default()
            },
            AttemptContext {
                day_of_week: Some(7),
                ..Default::default()
            },
            AttemptContext {
                worker_version: Some(String::new()),
                ..Default::default()
            },
        ];
        for c in bad {
            assert!(c.validate().is_err(), "{c:?}");
        }
        assert!(AttemptContext::default().validate().is_ok());
    }

    #[test]
    fn calendar_follows_the_caller_then_the_clock() {
        // 2023-11-14 00:00:00 UTC was a Tuesday.
        let t = 1_699_920_000.0;
        assert_eq!(
            AttemptContext::default().calendar_at(t, 3600.0),
            (3600.0, 1)
        );
        let c = AttemptContext {
            hour_of_day: Some(23.5),
            day_of_week: Some(6),
            ..Default::default()
        };
        // Half an hour later it is Monday, 00:00.
        assert_eq!(c.calendar_at(t, 1800.0), (0.0, 0));
    }
}
