//! The attempt context from C: what the caller knows about an attempt that the engine cannot see
//! (queue depth, downstream latency, payload size, worker version, ...), read by the learned tier
//! and recorded in the attempt history. It crosses as the core's JSON form
//! (`AttemptContext::from_json`: latency in seconds, unknown fields refused), so that C and Go
//! parse and validate it exactly as the core does.

use crate::engine::{smartretry_engine, smartretry_episode};
use crate::handle::get;
use crate::status::{guard, smartretry_status, FfiResult};
use crate::text::{opt_str_arg, out_ptr, owned_c_string};
use smartretry::AttemptContext;
use std::ffi::c_char;

/// An optional context argument: NULL is none, otherwise the core's JSON form.
///
/// # Safety
/// `json` must be NULL or NUL-terminated.
unsafe fn context_arg(json: *const c_char) -> FfiResult<Option<AttemptContext>> {
    // SAFETY: forwarded contract.
    let text = unsafe { opt_str_arg(json, "context_json") }?;
    Ok(text.map(AttemptContext::from_json).transpose()?)
}

/// smartretry_engine_begin with the attempt's context for the learned tier and the history.
/// `context_json` is NULL (no context, as smartretry_engine_begin) or a JSON object with any of
/// `hour_of_day` (UTC, 0 to < 24; default: the engine clock), `day_of_week` (0 = Monday),
/// `payload_size` (bytes), `queue_depth`, `downstream_latency` (seconds), `worker_version`,
/// `tenant`. An unknown field or a value that cannot be true is refused
/// (SMARTRETRY_INVALID_CONFIG; a negative or over-a-day latency SMARTRETRY_INVALID_DURATION) and
/// no episode is begun.
///
/// # Safety
/// `engine` must be NULL or an engine handle; strings NULL or NUL-terminated; `out` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_engine_begin_with_context(
    engine: *const smartretry_engine,
    key: *const c_char,
    tenant: *const c_char,
    context_json: *const c_char,
    out: *mut *mut smartretry_episode,
) -> smartretry_status {
    guard(|| {
        // SAFETY: forwarded contract.
        let context = unsafe { context_arg(context_json) }?;
        // SAFETY: forwarded contract.
        unsafe { crate::engine::begin_episode(engine, key, tenant, context, out) }
    })
}

/// Replace the episode's context before its next attempt (e.g. the latest queue depth); the
/// JSON form as for smartretry_engine_begin_with_context. NULL clears it. A bad context is
/// refused and the episode keeps the context it had.
///
/// # Safety
/// `episode` must be NULL or an episode handle; `context_json` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn smartretry_episode_set_context(
    episode: *const smartretry_episode,
    context_json: *const c_char,
) -> smartretry_status {
    guard(|| {
        let ep = get(episode)?;
        // SAFETY: forwarded contract.
        let context = unsafe { context_arg(context_json) }?;
        ep.lock().set_context(context.unwrap_or_default())?;
        Ok(())
    })
}

/// The episode's context in its JSON form, every field present (null: not given; caller frees
/// with smartretry_string_free).
///
/// # Safety
/// `episode` must be NULL or an episode handle; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_episode_context_json(
    episode: *const smartretry_episode,
    out: *mut *mut c_char,
) -> smartretry_status {
    guard(|| {
        let ep = get(episode)?;
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(out, "out") }?;
        let json = ep.lock().context().cloned().unwrap_or_default().to_json();
        *out = owned_c_string(json)?;
        Ok(())
    })
}
