//! Attempt history as JSON Lines, in the schema sim/HISTORY.md documents. The simulator's replay and the learned
//! tier's training read the same records.

use crate::error::{Error, Result};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::Path;

/// One attempt, as logged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// Health signals when known (latency, queue depth, recent failure rate, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<serde_json::Value>,
}

/// Where attempt records go.
pub trait HistorySink: Send + Sync {
    /// Record one attempt. Must not fail or block for long: it runs on the deciding thread.
    fn write(&self, record: &AttemptRecord);
}

/// Appends records to a JSON Lines file (buffered; flushed on `flush` and on drop).
pub struct JsonlHistory {
    out: Mutex<BufWriter<File>>,
}

impl JsonlHistory {
    /// Open `path` for appending (created if missing).
    pub fn append(path: &Path) -> Result<JsonlHistory> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        Ok(JsonlHistory {
            out: Mutex::new(BufWriter::new(file)),
        })
    }

    /// Write buffered records to the file.
    pub fn flush(&self) -> Result<()> {
        self.out
            .lock()
            .flush()
            .map_err(|e| Error::InvalidState(format!("history flush failed: {e}")))
    }
}

impl HistorySink for JsonlHistory {
    fn write(&self, record: &AttemptRecord) {
        let mut out = self.out.lock();
        // A history write failure must never fail the retry decision itself.
        if serde_json::to_writer(&mut *out, record).is_ok() {
            let _ = out.write_all(b"\n");
        }
    }
}

impl Drop for JsonlHistory {
    fn drop(&mut self) {
        let _ = self.out.lock().flush();
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
