//! The learned (ML) tier from C: load a model file per queue, roll it out (off → shadow → canary
//! → full), promote on evidence, roll back, and read its status and counters. Every decision and
//! every parse is the core's (`RolloutMode::parse`, `RolloutConfig::from_json`, the model file's
//! checks); this module only translates. See docs/learned-tier.md.

use crate::admin::{path_arg, write_engine_json};
use crate::engine::{smartretry_engine, EngineHandle};
use crate::handle::get;
use crate::status::{guard, smartretry_status, FfiResult};
use crate::text::{json_c_string, out_ptr, owned_c_string, str_arg};
use smartretry::learned::LearnedStats;
use smartretry::{RolloutConfig, RolloutMode};
use std::ffi::c_char;
use std::sync::Arc;

/// The learned tier's counters, engine-wide and cumulative (see smartretry::learned::LearnedStats).
#[repr(C)]
pub struct smartretry_learned_stats {
    /// Decisions the learned tier made.
    pub decisions: u64,
    /// Episodes priced in shadow.
    pub shadow_episodes: u64,
    /// Decisions where the model failed and the chain fell back (Bayesian, heuristic, static).
    pub fallbacks: u64,
    /// Automatic rollbacks.
    pub rollbacks: u64,
    /// Automatic promotions.
    pub promotions: u64,
}

impl From<LearnedStats> for smartretry_learned_stats {
    fn from(s: LearnedStats) -> Self {
        smartretry_learned_stats {
            decisions: s.decisions,
            shadow_episodes: s.shadow_episodes,
            fallbacks: s.fallbacks,
            rollbacks: s.rollbacks,
            promotions: s.promotions,
        }
    }
}

/// The engine and the queue name of a call.
///
/// # Safety
/// `engine` must be NULL or an engine handle; `queue` NULL or a NUL-terminated string that
/// outlives `'a`.
unsafe fn engine_queue<'a>(
    engine: *const smartretry_engine,
    queue: *const c_char,
) -> FfiResult<(Arc<EngineHandle>, &'a str)> {
    let e = get(engine)?;
    // SAFETY: forwarded contract.
    let queue = unsafe { str_arg(queue, "queue") }?;
    Ok((e, queue))
}

/// Load the model file at `path` (written by `smartretry train`) for `queue`. Its rollout mode is
/// unchanged (a new queue starts `off`). A file that is truncated, corrupt, of another version or
/// with other features is SMARTRETRY_INVALID_MODEL, one that cannot be read SMARTRETRY_IO; either
/// way the queue keeps the model it had.
///
/// # Safety
/// `engine` must be NULL or an engine handle; `queue` and `path` NULL or NUL-terminated (`path`
/// any bytes on Unix).
#[no_mangle]
pub unsafe extern "C" fn smartretry_engine_load_model(
    engine: *const smartretry_engine,
    queue: *const c_char,
    path: *const c_char,
) -> smartretry_status {
    guard(|| {
        // SAFETY: forwarded contract.
        let (e, queue) = unsafe { engine_queue(engine, queue) }?;
        // SAFETY: forwarded contract.
        let path = unsafe { path_arg(path) }?;
        e.engine.load_learned_model(queue, &path)?;
        Ok(())
    })
}

/// Remove `queue`'s model. Its mode stays: decisions the mode gives the learned tier fall back
/// (Bayesian, heuristic, static), each counted and announced, until a model is loaded again or
/// the queue is rolled back. A queue without a model is a no-op.
///
/// # Safety
/// `engine` must be NULL or an engine handle; `queue` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn smartretry_engine_unload_model(
    engine: *const smartretry_engine,
    queue: *const c_char,
) -> smartretry_status {
    guard(|| {
        // SAFETY: forwarded contract.
        let (e, queue) = unsafe { engine_queue(engine, queue) }?;
        e.engine.unload_learned_model(queue);
        Ok(())
    })
}

/// Set `queue`'s rollout mode by hand: "off", "shadow", "canary:WEIGHT" (WEIGHT in (0, 1];
/// "canary" is 0.1) or "full". The evidence starts over. A mode other than "off" without a model
/// loaded is SMARTRETRY_INVALID_STATE; a mode that does not parse SMARTRETRY_INVALID_CONFIG.
///
/// # Safety
/// `engine` must be NULL or an engine handle; `queue` and `mode` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn smartretry_engine_set_rollout(
    engine: *const smartretry_engine,
    queue: *const c_char,
    mode: *const c_char,
) -> smartretry_status {
    guard(|| {
        // SAFETY: forwarded contract.
        let (e, queue) = unsafe { engine_queue(engine, queue) }?;
        // SAFETY: forwarded contract.
        let mode = unsafe { str_arg(mode, "mode") }?;
        e.engine.set_rollout(queue, RolloutMode::parse(mode)?)?;
        Ok(())
    })
}

/// Step `queue` up one mode (shadow → canary → full) if the evidence supports it, else
/// SMARTRETRY_INVALID_STATE with what the evidence says. `out_mode` (may be NULL) receives the
/// new mode's name, e.g. "canary:0.2" (caller frees with smartretry_string_free).
///
/// # Safety
/// `engine` must be NULL or an engine handle; `queue` NULL or NUL-terminated; `out_mode` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_engine_promote_rollout(
    engine: *const smartretry_engine,
    queue: *const c_char,
    out_mode: *mut *mut c_char,
) -> smartretry_status {
    guard(|| {
        // SAFETY: forwarded contract.
        let (e, queue) = unsafe { engine_queue(engine, queue) }?;
        let next = e.engine.promote_rollout(queue)?;
        // SAFETY: the caller guarantees a non-NULL `out_mode` is writable.
        if let Some(out) = unsafe { out_mode.as_mut() } {
            *out = owned_c_string(next.name())?;
        }
        Ok(())
    })
}

/// Roll `queue` back to "off" at once (the manual rollback).
///
/// # Safety
/// `engine` must be NULL or an engine handle; `queue` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn smartretry_engine_rollback_rollout(
    engine: *const smartretry_engine,
    queue: *const c_char,
) -> smartretry_status {
    guard(|| {
        // SAFETY: forwarded contract.
        let (e, queue) = unsafe { engine_queue(engine, queue) }?;
        Ok(e.engine.rollback_rollout(queue)?)
    })
}

/// Set `queue`'s promotion and rollback bounds from a JSON object: `min_episodes` (>= 2, default
/// 30), `z` (default 1.64), `rollback_regression` (default 0.1), `auto_promote` (default false),
/// `canary_weight` (default 0.2), `canary_max_episodes` (default 500), `full_holdout` (default
/// 0.02: the share of a full rollout's episodes kept on the live tiers). Missing fields take their defaults; an unknown field or a bound
/// that cannot work is SMARTRETRY_INVALID_CONFIG.
///
/// # Safety
/// `engine` must be NULL or an engine handle; strings NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn smartretry_engine_set_rollout_config(
    engine: *const smartretry_engine,
    queue: *const c_char,
    config_json: *const c_char,
) -> smartretry_status {
    guard(|| {
        // SAFETY: forwarded contract.
        let (e, queue) = unsafe { engine_queue(engine, queue) }?;
        // SAFETY: forwarded contract.
        let json = unsafe { str_arg(config_json, "config_json") }?;
        e.engine
            .set_rollout_config(queue, RolloutConfig::from_json(json)?)?;
        Ok(())
    })
}

/// `queue`'s rollout as JSON (caller frees): {"queue", "mode": {"mode": "canary", "weight":
/// 0.5}, "model_loaded", "evidence": {"live", "learned", "shadow_diff": {"n", "mean", ...},
/// "baseline"}, "verdict": "wait"|"promote"|"rollback", "last_change": "operator"|"automatic
/// rollback"|...}; the JSON `null` when the queue has no learned-tier state.
///
/// # Safety
/// `engine` must be NULL or an engine handle; `queue` NULL or NUL-terminated; `out` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_engine_rollout_status_json(
    engine: *const smartretry_engine,
    queue: *const c_char,
    out: *mut *mut c_char,
) -> smartretry_status {
    guard(|| {
        // SAFETY: forwarded contract.
        let (e, queue) = unsafe { engine_queue(engine, queue) }?;
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(out, "out") }?;
        *out = json_c_string(&e.engine.rollout_status(queue))?;
        Ok(())
    })
}

/// Every queue's rollout, as a JSON array of what smartretry_engine_rollout_status_json gives
/// (caller frees).
///
/// # Safety
/// `engine` must be NULL or an engine handle; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_engine_rollouts_json(
    engine: *const smartretry_engine,
    out: *mut *mut c_char,
) -> smartretry_status {
    // SAFETY: forwarded contract.
    guard(|| unsafe { write_engine_json(engine, out, |e| e.rollouts()) })
}

/// The learned tier's counters.
///
/// # Safety
/// `engine` must be NULL or an engine handle; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_engine_learned_stats(
    engine: *const smartretry_engine,
    out: *mut smartretry_learned_stats,
) -> smartretry_status {
    guard(|| {
        let e = get(engine)?;
        // SAFETY: forwarded contract.
        *unsafe { out_ptr(out, "out") }? = e.engine.learned_stats().into();
        Ok(())
    })
}
