//! The JSON Lines history writer: buffered appends, rotation when the file reaches its size
//! bound (`history.jsonl` -> `history.jsonl.1` -> ... -> `history.jsonl.N`, the oldest dropped),
//! so that a long-running worker's history never grows without bound.

use super::{AttemptRecord, HistorySink};
use crate::error::{Error, Result};
use crate::fork::ProcessOwner;
use parking_lot::{Mutex, MutexGuard};
use serde::Deserialize;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// How a history file is bounded and what it adds to each record.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HistoryOptions {
    /// Rotate when the file would exceed this many bytes (None: never rotate).
    pub max_bytes: Option<u64>,
    /// Rotated files kept beside the live one (0: the live file is truncated instead).
    /// Disk use stays below `max_bytes * (max_files + 1)`.
    pub max_files: u32,
    /// Written as `worker_version` on records that carry none.
    pub worker_version: Option<String>,
}

impl Default for HistoryOptions {
    fn default() -> Self {
        HistoryOptions {
            max_bytes: None,
            max_files: 3,
            worker_version: None,
        }
    }
}

/// The smallest size bound accepted: one record must fit.
const MIN_MAX_BYTES: u64 = 4096;
/// More rotated files than this is a configuration mistake.
const MAX_MAX_FILES: u32 = 1000;

impl HistoryOptions {
    /// Options from a JSON object such as `{"max_bytes": 10000000, "max_files": 5}`.
    pub fn from_json(json: &str) -> Result<HistoryOptions> {
        let opts: HistoryOptions = serde_json::from_str(json)
            .map_err(|e| Error::InvalidConfig(format!("history options: {e}")))?;
        opts.validate()?;
        Ok(opts)
    }

    /// Refuse a size bound too small for one record, too many files, or a bad version name.
    pub fn validate(&self) -> Result<()> {
        if self.max_bytes.is_some_and(|b| b < MIN_MAX_BYTES) {
            return Err(Error::InvalidConfig(format!(
                "history max_bytes must be at least {MIN_MAX_BYTES}"
            )));
        }
        if self.max_files > MAX_MAX_FILES {
            return Err(Error::InvalidConfig(format!(
                "history max_files must be at most {MAX_MAX_FILES}"
            )));
        }
        if let Some(v) = &self.worker_version {
            crate::engine::check_name("worker_version", v)?;
        }
        Ok(())
    }
}

struct Output {
    file: BufWriter<File>,
    /// Bytes in the live file (on disk plus buffered).
    size: u64,
    /// The process that buffered what `file` holds, as of fork generation `generation`. A
    /// forked child inherits the parent's buffered lines, which the parent writes itself: the
    /// child opens the file anew and drops its copy unwritten, or every one of them would be in
    /// the history twice. Told by the fork hooks (`crate::fork`), which every binding registers.
    owner: ProcessOwner,
    generation: u64,
}

/// Appends records to a JSON Lines file (buffered; flushed on `flush` and on drop).
pub struct JsonlHistory {
    path: PathBuf,
    options: HistoryOptions,
    out: Mutex<Output>,
}

fn open(path: &Path) -> Result<Output> {
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    Ok(Output {
        file: BufWriter::new(file),
        size,
        owner: ProcessOwner::new(),
        generation: crate::fork::generation(),
    })
}

impl JsonlHistory {
    /// Append to `path` without a size bound.
    pub fn append(path: &Path) -> Result<JsonlHistory> {
        JsonlHistory::open(path, HistoryOptions::default())
    }

    /// Append to `path` with rotation and defaults from `options`.
    pub fn open(path: &Path, options: HistoryOptions) -> Result<JsonlHistory> {
        options.validate()?;
        Ok(JsonlHistory {
            path: path.to_path_buf(),
            out: Mutex::new(open(path)?),
            options,
        })
    }

    /// The live file's path (rotated files add `.1`, `.2`, ...).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The output of this process (see `Output::pid`).
    fn output(&self) -> MutexGuard<'_, Output> {
        let mut out = self.out.lock();
        let generation = crate::fork::generation();
        if out.generation == generation {
            return out;
        }
        out.generation = generation;
        if !out.owner.is_current() {
            // The file opened anew, or else the inherited descriptor behind an empty buffer.
            let file = match open(&self.path) {
                Ok(fresh) => {
                    out.size = fresh.size;
                    Some(fresh.file)
                }
                Err(_) => out.file.get_ref().try_clone().ok().map(BufWriter::new),
            };
            if let Some(file) = file {
                std::mem::forget(std::mem::replace(&mut out.file, file));
            }
            out.owner.take_over();
        }
        out
    }

    fn rotated(&self, n: u32) -> PathBuf {
        let mut p = self.path.clone().into_os_string();
        p.push(format!(".{n}"));
        PathBuf::from(p)
    }

    /// Shift `path.1..` up by one (dropping the oldest), move the live file to `path.1`, and
    /// start a new live file.
    fn rotate(&self, out: &mut Output) -> std::io::Result<()> {
        out.file.flush()?;
        let keep = self.options.max_files;
        if keep == 0 {
            let file = OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(&self.path)?;
            drop(std::mem::replace(&mut out.file, BufWriter::new(file)));
            out.size = 0;
            return Ok(());
        }
        let _ = std::fs::remove_file(self.rotated(keep));
        for n in (1..keep).rev() {
            let from = self.rotated(n);
            if from.exists() {
                std::fs::rename(&from, self.rotated(n + 1))?;
            }
        }
        std::fs::rename(&self.path, self.rotated(1))?;
        let fresh = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        drop(std::mem::replace(&mut out.file, BufWriter::new(fresh)));
        out.size = 0;
        Ok(())
    }
}

impl HistorySink for JsonlHistory {
    fn flush(&self) -> Result<()> {
        self.output()
            .file
            .flush()
            .map_err(|e| Error::io(&self.path, e))
    }

    fn write(&self, record: &AttemptRecord) {
        let mut line = match (&self.options.worker_version, &record.worker_version) {
            (Some(v), None) => {
                let mut r = record.clone();
                r.worker_version = Some(v.clone());
                serde_json::to_vec(&r)
            }
            _ => serde_json::to_vec(record),
        }
        .unwrap_or_default();
        if line.is_empty() {
            return;
        }
        line.push(b'\n');
        let mut out = self.output();
        let len = line.len() as u64;
        if let Some(max) = self.options.max_bytes {
            // A history write failure must never fail the retry decision itself.
            if out.size > 0 && out.size + len > max && self.rotate(&mut out).is_err() {
                return;
            }
        }
        if out.file.write_all(&line).is_ok() {
            out.size += len;
        }
    }
}

impl Drop for JsonlHistory {
    fn drop(&mut self) {
        let _ = self.output().file.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(i: u32) -> AttemptRecord {
        AttemptRecord {
            time: 1_699_920_000.0 + f64::from(i),
            queue: "q".into(),
            attempt: i,
            outcome: "failure".into(),
            ..Default::default()
        }
        .with_calendar()
    }

    #[test]
    fn rotates_and_keeps_the_bound() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.jsonl");
        let opts = HistoryOptions {
            max_bytes: Some(4096),
            max_files: 2,
            worker_version: Some("w7".into()),
        };
        let h = JsonlHistory::open(&path, opts).unwrap();
        for i in 0..400 {
            h.write(&record(i));
        }
        h.flush().unwrap();
        let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        assert!(size(&path) <= 4096);
        assert!(size(&h.rotated(1)) <= 4096 && size(&h.rotated(1)) > 3000);
        assert!(h.rotated(2).exists());
        assert!(!h.rotated(3).exists());
        let last = crate::history::read_history(&path).unwrap();
        let newest = last.last().unwrap();
        assert_eq!(newest.attempt, 399);
        assert_eq!(newest.worker_version.as_deref(), Some("w7"));
        assert_eq!((newest.hour_of_day, newest.day_of_week), (Some(0), Some(1)));
    }

    #[test]
    fn zero_rotated_files_truncates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.jsonl");
        let opts = HistoryOptions::from_json(r#"{"max_bytes":4096,"max_files":0}"#).unwrap();
        let h = JsonlHistory::open(&path, opts).unwrap();
        for i in 0..400 {
            h.write(&record(i));
        }
        h.flush().unwrap();
        assert!(std::fs::metadata(&path).unwrap().len() <= 4096);
        assert!(!h.rotated(1).exists());
    }

    #[test]
    fn bad_options_are_typed_errors() {
        for bad in [
            r#"{"max_bytes":10}"#,
            r#"{"max_files":100000}"#,
            r#"{"rotate":true}"#,
            "1",
        ] {
            let e = HistoryOptions::from_json(bad).unwrap_err();
            assert_eq!(e.code(), "INVALID_CONFIG", "{bad}");
        }
    }
}
