//! Operator surfaces: run-time overrides per queue and tenant, snapshots of what was learned,
//! and statistics.

use crate::engine::smartretry_engine;
use crate::handle::get;
use crate::names::{class_or_all_in, scope_in, smartretry_class, smartretry_scope};
use crate::status::{guard, smartretry_status, FfiError, FfiResult};
use crate::text::{json_c_string, out_ptr, str_arg};
use smartretry::{PolicyPatch, Stats};
use std::ffi::{c_char, CStr};
use std::path::PathBuf;

/// Engine-wide counters, for dashboards (see smartretry::Stats; the JSON form may carry more).
#[repr(C)]
pub struct smartretry_stats {
    pub episodes: u64,
    pub failures: u64,
    pub successes: u64,
    pub successes_after_retry: u64,
    pub first_retry_successes: u64,
    pub retries: u64,
    pub give_ups: u64,
    pub escalations: u64,
    pub guardrail_clamps: u64,
    pub budget_denials: u64,
    pub breaker_delays: u64,
    pub decisions_heuristic: u64,
    pub decisions_bayesian: u64,
    pub decisions_operator: u64,
    pub decisions_guardrail: u64,
    pub fallbacks: u64,
    pub models: u64,
}

impl From<Stats> for smartretry_stats {
    fn from(s: Stats) -> Self {
        smartretry_stats {
            episodes: s.episodes,
            failures: s.failures,
            successes: s.successes,
            successes_after_retry: s.successes_after_retry,
            first_retry_successes: s.first_retry_successes,
            retries: s.retries,
            give_ups: s.give_ups,
            escalations: s.escalations,
            guardrail_clamps: s.guardrail_clamps,
            budget_denials: s.budget_denials,
            breaker_delays: s.breaker_delays,
            decisions_heuristic: s.decisions_heuristic,
            decisions_bayesian: s.decisions_bayesian,
            decisions_operator: s.decisions_operator,
            decisions_guardrail: s.decisions_guardrail,
            fallbacks: s.fallbacks,
            models: s.models as u64,
        }
    }
}

/// Set an override for a queue or tenant (`scope`, `name`), for one class or
/// SMARTRETRY_CLASS_ALL. `patch_json` is a JSON object of class-policy fields, e.g.
/// {"max_attempts":2} or {"fixed_delay":5}.
///
/// # Safety
/// `engine` must be NULL or an engine handle; strings NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn smartretry_engine_set_override(
    engine: *const smartretry_engine,
    scope: smartretry_scope,
    name: *const c_char,
    class: smartretry_class,
    patch_json: *const c_char,
) -> smartretry_status {
    guard(|| {
        let e = get(engine)?;
        // SAFETY: forwarded contract.
        let name = unsafe { str_arg(name, "name") }?;
        // SAFETY: forwarded contract.
        let json = unsafe { str_arg(patch_json, "patch_json") }?;
        let scope = scope_in(scope, name)?;
        let class = class_or_all_in(class)?;
        let patch = PolicyPatch::from_json(json)?;
        e.engine.set_override(scope, class, patch)?;
        Ok(())
    })
}

/// Set an operator's fixed delay (seconds, still bounded by the class's min/max delay) for a
/// queue or tenant, for one class or SMARTRETRY_CLASS_ALL.
///
/// # Safety
/// `engine` must be NULL or an engine handle; `name` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn smartretry_engine_set_override_delay(
    engine: *const smartretry_engine,
    scope: smartretry_scope,
    name: *const c_char,
    class: smartretry_class,
    delay: f64,
) -> smartretry_status {
    guard(|| {
        let e = get(engine)?;
        // SAFETY: forwarded contract.
        let name = unsafe { str_arg(name, "name") }?;
        let patch = PolicyPatch {
            fixed_delay: Some(smartretry::time::secs("fixed_delay", delay)?),
            ..PolicyPatch::default()
        };
        e.engine
            .set_override(scope_in(scope, name)?, class_or_all_in(class)?, patch)?;
        Ok(())
    })
}

/// Remove an override (SMARTRETRY_CLASS_ALL: every override of the scope).
///
/// # Safety
/// `engine` must be NULL or an engine handle; `name` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn smartretry_engine_clear_override(
    engine: *const smartretry_engine,
    scope: smartretry_scope,
    name: *const c_char,
    class: smartretry_class,
) -> smartretry_status {
    guard(|| {
        let e = get(engine)?;
        // SAFETY: forwarded contract.
        let name = unsafe { str_arg(name, "name") }?;
        e.engine
            .clear_override(&scope_in(scope, name)?, class_or_all_in(class)?);
        Ok(())
    })
}

/// Every override in force, as a JSON array of [scope, class or null, patch] (caller frees).
///
/// # Safety
/// `engine` must be NULL or an engine handle; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_engine_overrides_json(
    engine: *const smartretry_engine,
    out: *mut *mut c_char,
) -> smartretry_status {
    // SAFETY: forwarded contract.
    guard(|| unsafe { write_engine_json(engine, out, |e| e.overrides()) })
}

/// A file path argument (NUL-terminated; any bytes on Unix).
///
/// # Safety
/// `path` must be NULL or NUL-terminated.
pub(crate) unsafe fn path_arg(path: *const c_char) -> FfiResult<PathBuf> {
    if path.is_null() {
        return Err(FfiError::Null("path"));
    }
    // SAFETY: non-NULL and NUL-terminated by contract.
    let bytes = unsafe { CStr::from_ptr(path) }.to_bytes();
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Ok(PathBuf::from(std::ffi::OsStr::from_bytes(bytes)))
    }
    #[cfg(not(unix))]
    {
        std::str::from_utf8(bytes)
            .map(PathBuf::from)
            .map_err(|_| FfiError::Utf8("path"))
    }
}

/// Run a snapshot operation on (engine, path).
///
/// # Safety
/// `engine` must be NULL or an engine handle; `path` NULL or NUL-terminated.
unsafe fn with_path(
    engine: *const smartretry_engine,
    path: *const c_char,
    op: fn(&smartretry::Engine, &std::path::Path) -> smartretry::Result<()>,
) -> smartretry_status {
    guard(|| {
        let e = get(engine)?;
        // SAFETY: forwarded contract.
        let path = unsafe { path_arg(path) }?;
        op(&e.engine, &path)?;
        Ok(())
    })
}

/// Write what the engine learned to `path`, atomically.
///
/// # Safety
/// `engine` must be NULL or an engine handle; `path` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn smartretry_engine_save_snapshot(
    engine: *const smartretry_engine,
    path: *const c_char,
) -> smartretry_status {
    // SAFETY: forwarded contract.
    unsafe { with_path(engine, path, smartretry::Engine::save_snapshot) }
}

/// Replace every model with the file's (a failed load changes nothing).
///
/// # Safety
/// `engine` must be NULL or an engine handle; `path` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn smartretry_engine_load_snapshot(
    engine: *const smartretry_engine,
    path: *const c_char,
) -> smartretry_status {
    // SAFETY: forwarded contract.
    unsafe { with_path(engine, path, smartretry::Engine::load_snapshot) }
}

/// Add the file's counts to the models (processes pool what they learned).
///
/// # Safety
/// `engine` must be NULL or an engine handle; `path` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn smartretry_engine_merge_snapshot(
    engine: *const smartretry_engine,
    path: *const c_char,
) -> smartretry_status {
    // SAFETY: forwarded contract.
    unsafe { with_path(engine, path, smartretry::Engine::merge_snapshot) }
}

/// The engine's counters.
///
/// # Safety
/// `engine` must be NULL or an engine handle; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_engine_stats(
    engine: *const smartretry_engine,
    out: *mut smartretry_stats,
) -> smartretry_status {
    guard(|| {
        let e = get(engine)?;
        // SAFETY: forwarded contract.
        *unsafe { out_ptr(out, "out") }? = e.engine.stats().into();
        Ok(())
    })
}

/// The engine's counters as JSON (caller frees).
///
/// # Safety
/// `engine` must be NULL or an engine handle; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_engine_stats_json(
    engine: *const smartretry_engine,
    out: *mut *mut c_char,
) -> smartretry_status {
    // SAFETY: forwarded contract.
    guard(|| unsafe { write_engine_json(engine, out, |e| e.stats()) })
}

/// Zero the engine's counters.
///
/// # Safety
/// `engine` must be NULL or an engine handle.
#[no_mangle]
pub unsafe extern "C" fn smartretry_engine_reset_stats(
    engine: *const smartretry_engine,
) -> smartretry_status {
    guard(|| {
        get(engine)?.engine.reset_stats();
        Ok(())
    })
}

/// The body of an engine's `*_json` getter: a value of the engine, as JSON the caller frees.
///
/// # Safety
/// `engine` must be NULL or an engine handle; `out` NULL or writable.
pub(crate) unsafe fn write_engine_json<T: serde::Serialize>(
    engine: *const smartretry_engine,
    out: *mut *mut c_char,
    value: impl FnOnce(&smartretry::Engine) -> T,
) -> FfiResult<()> {
    let e = get(engine)?;
    // SAFETY: forwarded contract.
    let out = unsafe { out_ptr(out, "out") }?;
    *out = json_c_string(&value(&e.engine))?;
    Ok(())
}
