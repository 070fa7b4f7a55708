//! Snapshot files. Saving writes a uniquely named temporary file beside the target, fsyncs it,
//! renames it over the target and fsyncs the folder, so readers see the old file or the new one,
//! never a part; concurrent saves (threads, or containers that are all PID 1 on one volume)
//! never share a temporary file. Loading reads only a regular file, up to a size limit, without
//! blocking on a FIFO or reading a device.

use super::Snapshot;
use crate::error::{Error, Result};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, SystemTime};

/// Largest snapshot file read or written: 512 MiB. A model takes about 2 to 5 KB of JSON (96
/// buckets, up to 48 intervals, the portfolio), so the default 100,000 models fit; `/dev/zero`
/// or a multi-gigabyte file is refused without being read.
pub const MAX_SNAPSHOT_BYTES: u64 = 512 << 20;

/// Temporary files of ours older than this are orphans of a crashed save and are removed by the
/// next save to the same path. An hour is far longer than any save takes.
pub const ORPHAN_AGE: Duration = Duration::from_secs(3600);

fn io_err(path: &Path, message: impl Into<String>) -> Error {
    Error::Io {
        path: path.display().to_string(),
        message: message.into(),
    }
}

/// The folder and file name of a snapshot path.
fn split(path: &Path) -> Result<(&Path, String)> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| io_err(path, "not a file path"))?
        .to_string_lossy()
        .into_owned();
    Ok((dir, name))
}

/// The prefix of our temporary files for `name`; the rest is the pid and a random part.
fn temp_prefix(name: &str) -> String {
    format!(".{name}.tmp-")
}

/// Remove temporary files of ours for `name` older than `ORPHAN_AGE` (best effort: a file
/// another process is writing is young and stays).
fn remove_orphans(dir: &Path, name: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let prefix = temp_prefix(name);
    let now = SystemTime::now();
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().starts_with(&prefix) {
            continue;
        }
        let Ok(meta) = entry.metadata() else { continue };
        let old = meta
            .modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .is_some_and(|age| age > ORPHAN_AGE);
        if meta.is_file() && old {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Open for reading without blocking (a FIFO with no writer would block `open` forever), then
/// check on the open file (fstat, so the path cannot be swapped in between) that it is a
/// regular file of at most `max_bytes`, and read it.
fn read_regular_file(path: &Path, max_bytes: u64) -> Result<Vec<u8>> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(|e| Error::io(path, e))?;
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        return Err(io_err(path, "not a regular file"));
    }
    let too_big = |len: u64| {
        Error::SnapshotCorrupt(format!(
            "{} is {len} bytes or more; the limit is {max_bytes}",
            path.display()
        ))
    };
    if meta.len() > max_bytes {
        return Err(too_big(meta.len()));
    }
    // The file may grow after fstat: read at most one byte past the limit.
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > max_bytes {
        return Err(too_big(bytes.len() as u64));
    }
    Ok(bytes)
}

impl Snapshot {
    /// Write atomically: a uniquely named temporary file beside `path`, fsync, rename over,
    /// fsync the folder. Refuses a snapshot that would not load again (out-of-range numbers,
    /// over the size limit) rather than write it.
    pub fn save(&self, path: &Path) -> Result<()> {
        self.validate()
            .map_err(|e| Error::InvalidState(format!("refusing to save: {e}")))?;
        let bytes = self.encode();
        if bytes.len() as u64 > MAX_SNAPSHOT_BYTES {
            return Err(Error::InvalidState(format!(
                "refusing to save a {}-byte snapshot; the limit is {MAX_SNAPSHOT_BYTES}",
                bytes.len()
            )));
        }
        let (dir, name) = split(path)?;
        remove_orphans(dir, &name);
        let write = || -> std::io::Result<()> {
            let prefix = format!("{}{}-", temp_prefix(&name), std::process::id());
            // Random name, created with O_EXCL; removed on drop unless persisted.
            let mut tmp = tempfile::Builder::new()
                .prefix(&prefix)
                .rand_bytes(12)
                .tempfile_in(dir)?;
            tmp.write_all(&bytes)?;
            tmp.as_file().sync_all()?;
            tmp.persist(path).map_err(|e| e.error)?;
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
            Ok(())
        };
        write().map_err(|e| Error::io(path, e))
    }

    /// Read and verify a snapshot file (a regular file of at most `MAX_SNAPSHOT_BYTES`).
    pub fn load(path: &Path) -> Result<Snapshot> {
        Snapshot::load_with_limit(path, MAX_SNAPSHOT_BYTES)
    }

    /// `load` with another size limit.
    pub fn load_with_limit(path: &Path, max_bytes: u64) -> Result<Snapshot> {
        Snapshot::decode(&read_regular_file(path, max_bytes)?)
    }
}
