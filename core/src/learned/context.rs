//! What the caller knows about an attempt that the engine cannot see: the load on the queue and on
//! the dependency, the payload, the worker. The learned tier reads it as features; the attempt
//! history records it, so that the trainer learns from exactly what the engine will later see.
//! Every field is optional: a missing one is a neutral feature, never an error.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
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

/// The context's JSON form, as the C ABI (and Go through it) pass it and as the attempt history
/// names its fields: `{"queue_depth": 120, "downstream_latency": 0.25, ...}` (latency in seconds).
/// Unknown fields are refused, so that a typo is an error rather than a silently neutral feature.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ContextJson {
    hour_of_day: Option<f64>,
    day_of_week: Option<u8>,
    payload_size: Option<u64>,
    queue_depth: Option<u64>,
    downstream_latency: Option<f64>,
    worker_version: Option<String>,
    tenant: Option<String>,
}

impl AttemptContext {
    /// Parse and validate the JSON form (see `ContextJson`); an empty string or `{}` is the empty
    /// context. A negative, NaN or over-a-day latency is `InvalidDuration`; anything else wrong
    /// is `InvalidConfig` naming the field.
    pub fn from_json(text: &str) -> Result<AttemptContext> {
        if text.trim().is_empty() {
            return Ok(AttemptContext::default());
        }
        let bad = |e: serde_json::Error| Error::InvalidConfig(format!("attempt context: {e}"));
        let value: serde_json::Value = serde_json::from_str(text).map_err(bad)?;
        if !value.is_object() {
            return Err(Error::InvalidConfig(
                "attempt context must be a JSON object".into(),
            ));
        }
        let j: ContextJson = serde_json::from_value(value).map_err(bad)?;
        let downstream_latency = j
            .downstream_latency
            .map(|s| crate::time::secs("downstream_latency", s))
            .transpose()?;
        let c = AttemptContext {
            hour_of_day: j.hour_of_day,
            day_of_week: j.day_of_week,
            payload_size: j.payload_size,
            queue_depth: j.queue_depth,
            downstream_latency,
            worker_version: j.worker_version,
            tenant: j.tenant,
        };
        c.validate()?;
        Ok(c)
    }

    /// The JSON form `from_json` reads.
    pub fn to_json(&self) -> String {
        let j = ContextJson {
            hour_of_day: self.hour_of_day,
            day_of_week: self.day_of_week,
            payload_size: self.payload_size,
            queue_depth: self.queue_depth,
            downstream_latency: self.downstream_latency.map(|d| d.as_secs_f64()),
            worker_version: self.worker_version.clone(),
            tenant: self.tenant.clone(),
        };
        serde_json::to_string(&j).unwrap_or_else(|_| "{}".into())
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
    fn json_form_round_trips_and_refuses_typos_and_bad_values() {
        let c = AttemptContext::from_json(
            r#"{"queue_depth": 120, "downstream_latency": 0.25, "worker_version": "v2", "day_of_week": 4}"#,
        )
        .expect("valid");
        assert_eq!(c.queue_depth, Some(120));
        assert_eq!(c.downstream_latency, Some(Duration::from_millis(250)));
        assert_eq!(AttemptContext::from_json(&c.to_json()).expect("again"), c);
        assert_eq!(
            AttemptContext::from_json(" ").expect("empty"),
            AttemptContext::default()
        );
        for bad in [
            r#"{"queue_dept": 1}"#,
            r#"{"downstream_latency": -1}"#,
            r#"{"hour_of_day": 25}"#,
            r#"{"queue_depth": -3}"#,
            r#"{"worker_version": ""}"#,
            "[1, 2]",
            "{",
        ] {
            assert!(AttemptContext::from_json(bad).is_err(), "{bad}");
        }
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
