//! The adaptive client rate limiter (policy JSON `rate_limit`): take a token before every
//! attempt, first ones included, and wait what it says. Waits are seconds, as every delay of
//! this ABI. The core never sleeps: the caller does.

use crate::engine::{smartretry_engine, EngineHandle};
use crate::handle::get;
use crate::status::{guard, smartretry_status, FfiResult};
use crate::text::{opt_str_arg, out_ptr, str_arg};
use std::ffi::c_char;
use std::sync::Arc;
use std::time::Duration;

/// The engine, key and dependency every acquire call names.
///
/// # Safety
/// As the callers': `key` and `dependency` NULL or NUL-terminated.
unsafe fn target<'a>(
    engine: *const smartretry_engine,
    key: *const c_char,
    dependency: *const c_char,
) -> FfiResult<(Arc<EngineHandle>, &'a str, Option<&'a str>)> {
    let e = get(engine)?;
    // SAFETY: forwarded contract.
    let key = unsafe { str_arg(key, "key") }?;
    // SAFETY: forwarded contract.
    let dependency = unsafe { opt_str_arg(dependency, "dependency") }?;
    Ok((e, key, dependency))
}

/// Take a token for a call on `key` (to `dependency`, which may be NULL) and write how long to
/// wait before making it into `out_wait_seconds`: 0 while the key has not been throttled or the
/// policy has no `rate_limit`. The token is the caller's: wait, then call once.
///
/// # Safety
/// `engine` must be NULL or an engine handle; `key` NULL or NUL-terminated; `dependency` NULL or
/// NUL-terminated; `out_wait_seconds` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_engine_acquire(
    engine: *const smartretry_engine,
    key: *const c_char,
    dependency: *const c_char,
    out_wait_seconds: *mut f64,
) -> smartretry_status {
    guard(|| {
        // SAFETY: forwarded contract.
        let (e, key, dependency) = unsafe { target(engine, key, dependency) }?;
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(out_wait_seconds, "out_wait_seconds") }?;
        *out = e.engine.acquire_for(key, dependency)?.as_secs_f64();
        Ok(())
    })
}

/// `smartretry_engine_acquire` for a call that will not wait longer than `max_wait_seconds`
/// (what is left of its deadline). `*out_granted` false: the token is further away, none was
/// taken, and the call should be given up; true: wait `*out_wait_seconds`, then call.
///
/// # Safety
/// As `smartretry_engine_acquire`; `out_granted` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_engine_acquire_within(
    engine: *const smartretry_engine,
    key: *const c_char,
    dependency: *const c_char,
    max_wait_seconds: f64,
    out_granted: *mut bool,
    out_wait_seconds: *mut f64,
) -> smartretry_status {
    guard(|| {
        // SAFETY: forwarded contract.
        let (e, key, dependency) = unsafe { target(engine, key, dependency) }?;
        // SAFETY: forwarded contract.
        let granted = unsafe { out_ptr(out_granted, "out_granted") }?;
        // SAFETY: forwarded contract.
        let wait = unsafe { out_ptr(out_wait_seconds, "out_wait_seconds") }?;
        let max_wait = smartretry::time::secs("max_wait_seconds", max_wait_seconds)?;
        let taken = e.engine.acquire_within(key, dependency, max_wait)?;
        *granted = taken.is_some();
        *wait = taken.unwrap_or(Duration::ZERO).as_secs_f64();
        Ok(())
    })
}
