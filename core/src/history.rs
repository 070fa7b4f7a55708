//! Attempt history as JSON Lines, in the engine's schema (`sim/HISTORY.md`). The simulator's
//! replay and the learned tier's training read the same records; `writer` appends them with
//! rotation and a size bound.

mod writer;

pub use writer::{HistoryOptions, JsonlHistory};

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One attempt, as logged.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AttemptRecord {
    /// Unix time of the attempt's outcome, seconds.
    pub time: f64,
    /// The queue key.
    pub queue: String,
    /// The tenant, or null.
    pub tenant: Option<String>,
    /// The kind of job, when the caller gave it.
    pub job_type: Option<String>,
    /// 1-based attempt number within the job.
    pub attempt: u32,
    /// The failure's class (snake_case name); null for a success.
    pub error_class: Option<String>,
    /// The failure's error code (errno name, exception type...), when known.
    pub error_code: Option<String>,
    /// The failure's HTTP status, when known.
    pub http_status: Option<u16>,
    /// Delay waited before this attempt, seconds.
    pub delay_before: f64,
    /// Seconds since the failure episode began (0 for the first failure).
    pub since_episode_start: f64,
    /// "success" or "failure".
    pub outcome: String,
    /// The job's payload size in bytes, when the caller gave it.
    pub payload_size: Option<u64>,
    /// The version of the worker that ran the attempt, when the caller gave it.
    pub worker_version: Option<String>,
    /// Hour of day of `time`, UTC (0-23): outages and load follow the clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hour_of_day: Option<u8>,
    /// Day of week of `time`, UTC, 0 = Monday ... 6 = Sunday.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day_of_week: Option<u8>,
    /// The downstream call's latency for this attempt, seconds, when the caller measured it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub downstream_latency: Option<f64>,
    /// Jobs waiting in the queue at the attempt, when the caller gave it (`AttemptContext`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_depth: Option<u64>,
    /// Health signals when known (latency, queue depth, recent failure rate, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<serde_json::Value>,
}

impl AttemptRecord {
    /// Fill `hour_of_day` and `day_of_week` from `time` (UTC).
    pub fn with_calendar(mut self) -> AttemptRecord {
        let (hour, day) = calendar(self.time);
        self.hour_of_day = Some(hour);
        self.day_of_week = Some(day);
        self
    }
}

impl AttemptRecord {
    /// Overlay the caller's attempt context: its values replace the episode's facts and, where
    /// given, the clock's calendar.
    pub fn with_context(mut self, c: &crate::learned::AttemptContext) -> AttemptRecord {
        if let Some(h) = c.hour_of_day {
            self.hour_of_day = Some(h.floor() as u8);
        }
        if c.day_of_week.is_some() {
            self.day_of_week = c.day_of_week;
        }
        if c.payload_size.is_some() {
            self.payload_size = c.payload_size;
        }
        if c.queue_depth.is_some() {
            self.queue_depth = c.queue_depth;
        }
        if let Some(d) = c.downstream_latency {
            self.downstream_latency = Some(d.as_secs_f64());
        }
        if c.worker_version.is_some() {
            self.worker_version = c.worker_version.clone();
        }
        if self.tenant.is_none() {
            self.tenant = c.tenant.clone();
        }
        self
    }
}

/// Hour of day (0-23) and day of week (0 = Monday) of a Unix time, UTC.
pub fn calendar(unix_secs: f64) -> (u8, u8) {
    let secs = if unix_secs.is_finite() {
        unix_secs.max(0.0) as u64
    } else {
        0
    };
    let days = secs / 86_400;
    let hour = (secs % 86_400) / 3_600;
    // 1970-01-01 was a Thursday (3 when Monday is 0).
    let day = (days + 3) % 7;
    (hour as u8, day as u8)
}

/// Where attempt records go.
pub trait HistorySink: Send + Sync {
    /// Record one attempt. Must not fail or block for long: it runs on the deciding thread.
    fn write(&self, record: &AttemptRecord);

    /// Push buffered records to their destination.
    fn flush(&self) -> Result<()> {
        Ok(())
    }
}

impl crate::engine::Engine {
    /// Flush the attempt history sink, if one is set.
    pub fn flush_history(&self) -> Result<()> {
        let sink = self.inner.history.read().clone();
        sink.map_or(Ok(()), |s| s.flush())
    }
}

/// Read a JSON Lines history; a bad line is an error naming its line number.
pub fn read_history(path: &Path) -> Result<Vec<AttemptRecord>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l)
                .map_err(|e| Error::InvalidJson(format!("{}:{}: {e}", path.display(), i + 1)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_is_utc() {
        // 2023-11-14 00:00:00 UTC was a Tuesday.
        assert_eq!(calendar(1_699_920_000.0), (0, 1));
        // 1970-01-04 23:30 UTC was a Sunday.
        assert_eq!(calendar(3.0 * 86_400.0 + 23.5 * 3_600.0), (23, 6));
        assert_eq!(calendar(f64::NAN), (0, 3));
    }

    #[test]
    fn old_lines_without_features_still_parse() {
        let line = r#"{"time":1.0,"queue":"q","tenant":null,"job_type":null,"attempt":1,"error_class":null,"error_code":null,"http_status":null,"delay_before":0.0,"since_episode_start":0.0,"outcome":"success","payload_size":null,"worker_version":null}"#;
        let r: AttemptRecord = serde_json::from_str(line).unwrap();
        assert_eq!((r.hour_of_day, r.downstream_latency), (None, None));
    }
}
