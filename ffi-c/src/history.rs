//! The attempt history from C: log every attempt as JSON Lines (with rotation and a size bound),
//! and the per-episode facts logged with each attempt.

use crate::engine::{smartretry_engine, smartretry_episode};
use crate::handle::get;
use crate::status::{guard, smartretry_status, FfiError};
use crate::text::{opt_str_arg, str_arg};
use smartretry::history::HistoryOptions;
use smartretry::{EpisodeMeta, JsonlHistory};
use std::ffi::c_char;
use std::path::Path;
use std::sync::Arc;

/// Log every attempt of this engine to the JSON Lines file at `path` (appended). `options_json`
/// may be NULL or an object such as {"max_bytes": 10000000, "max_files": 3,
/// "worker_version": "1.4.2"}: rotate at max_bytes, keep max_files rotated files. Replaces any
/// earlier history file (which is flushed and closed).
///
/// # Safety
/// `engine` must be NULL or an engine handle; strings NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn smartretry_engine_set_history(
    engine: *const smartretry_engine,
    path: *const c_char,
    options_json: *const c_char,
) -> smartretry_status {
    guard(|| {
        let e = get(engine)?;
        // SAFETY: forwarded contract.
        let path = unsafe { str_arg(path, "path") }?;
        // SAFETY: forwarded contract.
        let options = unsafe { opt_str_arg(options_json, "options_json") }?;
        let options = match options {
            Some(json) => HistoryOptions::from_json(json)?,
            None => HistoryOptions::default(),
        };
        let sink = JsonlHistory::open(Path::new(path), options)?;
        e.engine.set_history(Some(Arc::new(sink)));
        Ok(())
    })
}

/// Write out buffered history records (they are also written when the history is stopped or the
/// engine freed).
///
/// # Safety
/// `engine` must be NULL or an engine handle.
#[no_mangle]
pub unsafe extern "C" fn smartretry_engine_flush_history(
    engine: *const smartretry_engine,
) -> smartretry_status {
    guard(|| Ok(get(engine)?.engine.flush_history()?))
}

/// Stop logging attempts (the file is flushed and closed).
///
/// # Safety
/// `engine` must be NULL or an engine handle.
#[no_mangle]
pub unsafe extern "C" fn smartretry_engine_stop_history(
    engine: *const smartretry_engine,
) -> smartretry_status {
    guard(|| {
        let e = get(engine)?;
        e.engine.flush_history()?;
        e.engine.set_history(None);
        Ok(())
    })
}

/// Facts about the episode's job, logged with each later attempt: `job_type` and
/// `worker_version` (NULL: unknown), `payload_size` in bytes (negative: unknown) and the latest
/// downstream call's latency in seconds (negative: unknown). Replaces earlier facts.
///
/// # Safety
/// `episode` must be NULL or an episode handle; strings NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn smartretry_episode_set_meta(
    episode: *const smartretry_episode,
    job_type: *const c_char,
    payload_size: i64,
    worker_version: *const c_char,
    downstream_latency: f64,
) -> smartretry_status {
    guard(|| {
        let ep = get(episode)?;
        // SAFETY: forwarded contract.
        let job_type = unsafe { opt_str_arg(job_type, "job_type") }?;
        // SAFETY: forwarded contract.
        let worker_version = unsafe { opt_str_arg(worker_version, "worker_version") }?;
        for (what, v) in [("job_type", job_type), ("worker_version", worker_version)] {
            if let Some(v) = v {
                smartretry::names::check_name(what, v)?;
            }
        }
        let latency = if downstream_latency.is_sign_negative() && downstream_latency.is_finite() {
            None
        } else if downstream_latency.is_nan() {
            return Err(FfiError::Argument(
                "downstream_latency must be a number (negative: unknown)".into(),
            ));
        } else {
            Some(smartretry::time::secs(
                "downstream_latency",
                downstream_latency,
            )?)
        };
        let meta = EpisodeMeta {
            job_type: job_type.map(str::to_string),
            payload_size: u64::try_from(payload_size).ok(),
            worker_version: worker_version.map(str::to_string),
            downstream_latency: latency,
        };
        ep.lock().set_meta(meta);
        Ok(())
    })
}
