//! Failures as handles: build one from whatever signals the caller has, then pass it to the
//! engine (it is only read there, so one failure may be reused for many calls and threads).
//!
//! A setter never changes the value a call may be reading: it publishes a changed copy in its
//! place and retires the old one (`readers`), so a call reads the failure in place, with no lock
//! and no copy.

use crate::engine::smartretry_engine;
use crate::handle::{free_handle, get, impl_handle, lock, put_handle, Pinned};
use crate::names::{class_in, smartretry_class};
use crate::readers;
use crate::status::{guard, smartretry_status, FfiResult};
use crate::text::{out_ptr, str_arg};
use smartretry::Failure;
use std::ffi::c_char;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::Mutex;

/// What the caller knows about one failed attempt.
pub struct smartretry_failure {
    _private: [u8; 0],
}

/// The value behind a `smartretry_failure`.
pub(crate) struct FailureHandle {
    /// The current failure (from `Box::into_raw`), replaced whole by setters.
    current: AtomicPtr<Failure>,
    /// Serialises setters.
    setting: Mutex<()>,
}
impl_handle!(smartretry_failure, FailureHandle, "failure");

impl FailureHandle {
    fn new(failure: Failure) -> FailureHandle {
        FailureHandle {
            current: AtomicPtr::new(Box::into_raw(Box::new(failure))),
            setting: Mutex::new(()),
        }
    }

    /// The current failure, for as long as the call's pin lives.
    pub(crate) fn read<'p>(&'p self, _pinned: &'p Pinned) -> &'p Failure {
        // SAFETY: `current` always holds a live `Box::into_raw` pointer; one replaced by a
        // setter is retired (`readers::retire`) and so outlives every pin taken before the
        // replacement, this one included.
        unsafe { &*self.current.load(Ordering::SeqCst) }
    }
}

impl Drop for FailureHandle {
    fn drop(&mut self) {
        // SAFETY: the handle is being dropped (after its own retirement), so no call can read
        // `current` any more, and it came from `Box::into_raw`.
        drop(unsafe { Box::from_raw(*self.current.get_mut()) });
    }
}

/// Change the failure behind a handle.
fn with_failure(
    failure: *mut smartretry_failure,
    set: impl FnOnce(&mut Failure) -> FfiResult,
) -> FfiResult {
    let handle = get(failure)?;
    let setting = lock(&handle.setting);
    // SAFETY: only setters replace `current`, and this one holds `setting`: the pointer stays
    // live for this borrow.
    let current = unsafe { &*handle.current.load(Ordering::SeqCst) };
    // The core's rule decides at once (an HTTP status of 0, a dependency with control
    // characters): the value is refused here, and the failure keeps its previous value.
    let mut candidate = current.clone();
    set(&mut candidate)?;
    candidate.validate()?;
    let old = handle
        .current
        .swap(Box::into_raw(Box::new(candidate)), Ordering::SeqCst);
    drop(setting);
    // SAFETY: `old` came from `Box::into_raw` and the swap took it out for good.
    readers::retire(unsafe { Box::from_raw(old) });
    Ok(())
}

/// An empty failure (classified "unknown" until signals are set).
///
/// # Safety
/// `out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_failure_new(
    out: *mut *mut smartretry_failure,
) -> smartretry_status {
    guard(|| {
        let h = FailureHandle::new(Failure::default());
        // SAFETY: forwarded contract.
        put_handle(unsafe { out_ptr(out, "out") }?, h)
    })
}

/// A failure from the core's JSON form (`{"http_status": 503, "causes": [...]}`, the shape
/// `docs/naming.md` and `tests/fixtures` use), validated by the core: the one way to pass a
/// cause chain through the C ABI.
///
/// # Safety
/// `json` must be NULL or NUL-terminated; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_failure_new_from_json(
    json: *const c_char,
    out: *mut *mut smartretry_failure,
) -> smartretry_status {
    guard(|| {
        // SAFETY: forwarded contract.
        let json = unsafe { str_arg(json, "json") }?;
        let failure = Failure::from_json(json)?;
        let h = FailureHandle::new(failure);
        // SAFETY: forwarded contract.
        put_handle(unsafe { out_ptr(out, "out") }?, h)
    })
}

/// The HTTP status of the failed attempt (e.g. 503).
///
/// # Safety
/// `failure` must be NULL or a failure handle (a setter racing another call is serialised).
#[no_mangle]
pub unsafe extern "C" fn smartretry_failure_set_http_status(
    failure: *mut smartretry_failure,
    status: u16,
) -> smartretry_status {
    guard(|| {
        with_failure(failure, |f| {
            f.http_status = Some(status);
            Ok(())
        })
    })
}

/// The gRPC status code (0-16; e.g. 14 UNAVAILABLE).
///
/// # Safety
/// `failure` must be NULL or a failure handle (a setter racing another call is serialised).
#[no_mangle]
pub unsafe extern "C" fn smartretry_failure_set_grpc_code(
    failure: *mut smartretry_failure,
    code: u32,
) -> smartretry_status {
    guard(|| {
        with_failure(failure, |f| {
            f.grpc_code = Some(code);
            Ok(())
        })
    })
}

/// Set a string field from a NUL-terminated UTF-8 argument.
///
/// # Safety
/// `failure` must be NULL or a failure handle (a setter racing another call is serialised); `value` NULL or
/// NUL-terminated.
unsafe fn set_string(
    failure: *mut smartretry_failure,
    value: *const c_char,
    set: fn(&mut Failure, String),
) -> smartretry_status {
    guard(|| {
        // SAFETY: forwarded contract.
        let value = unsafe { str_arg(value, "value") }?;
        with_failure(failure, |f| {
            set(f, value.to_string());
            Ok(())
        })
    })
}

/// An errno or error-code name (ECONNRESET, ETIMEDOUT, ...), NUL-terminated UTF-8.
///
/// # Safety
/// `failure` must be NULL or a failure handle (a setter racing another call is serialised); `value` NULL or
/// NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn smartretry_failure_set_error_code(
    failure: *mut smartretry_failure,
    value: *const c_char,
) -> smartretry_status {
    // SAFETY: forwarded contract.
    unsafe { set_string(failure, value, |f, v| f.error_code = Some(v)) }
}

/// An exception or error type name (TimeoutError, ...), NUL-terminated UTF-8.
///
/// # Safety
/// As for smartretry_failure_set_error_code.
#[no_mangle]
pub unsafe extern "C" fn smartretry_failure_set_exception(
    failure: *mut smartretry_failure,
    value: *const c_char,
) -> smartretry_status {
    // SAFETY: forwarded contract.
    unsafe { set_string(failure, value, |f, v| f.exception = Some(v)) }
}

/// The error message, NUL-terminated UTF-8.
///
/// # Safety
/// As for smartretry_failure_set_error_code.
#[no_mangle]
pub unsafe extern "C" fn smartretry_failure_set_message(
    failure: *mut smartretry_failure,
    value: *const c_char,
) -> smartretry_status {
    // SAFETY: forwarded contract.
    unsafe { set_string(failure, value, |f, v| f.message = Some(v)) }
}

/// The downstream dependency that failed (circuit breakers are per dependency; default: the
/// episode's key), NUL-terminated UTF-8.
///
/// # Safety
/// As for smartretry_failure_set_error_code.
#[no_mangle]
pub unsafe extern "C" fn smartretry_failure_set_dependency(
    failure: *mut smartretry_failure,
    value: *const c_char,
) -> smartretry_status {
    // SAFETY: forwarded contract.
    unsafe { set_string(failure, value, |f, v| f.dependency = Some(v)) }
}

/// How long the server asked to wait, in seconds (already parsed).
///
/// # Safety
/// `failure` must be NULL or a failure handle (a setter racing another call is serialised).
#[no_mangle]
pub unsafe extern "C" fn smartretry_failure_set_retry_after(
    failure: *mut smartretry_failure,
    seconds: f64,
) -> smartretry_status {
    guard(|| {
        let after = smartretry::time::secs("Retry-After", seconds)?;
        with_failure(failure, |f| {
            f.retry_after = Some(after);
            Ok(())
        })
    })
}

/// A raw Retry-After header value (delta-seconds or HTTP-date), read against the engine's clock.
///
/// # Safety
/// `failure` must be NULL or a failure handle (a setter racing another call is serialised); `engine` NULL or an
/// engine handle; `value` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn smartretry_failure_set_retry_after_header(
    failure: *mut smartretry_failure,
    engine: *const smartretry_engine,
    value: *const c_char,
) -> smartretry_status {
    guard(|| {
        let engine = get(engine)?;
        // SAFETY: forwarded contract.
        let value = unsafe { str_arg(value, "value") }?;
        let after = smartretry::parse_retry_after(value, engine.engine.now())?;
        with_failure(failure, |f| {
            f.retry_after = Some(after);
            Ok(())
        })
    })
}

/// A class the caller already knows (skips the classification rules).
///
/// # Safety
/// `failure` must be NULL or a failure handle (a setter racing another call is serialised).
#[no_mangle]
pub unsafe extern "C" fn smartretry_failure_set_class(
    failure: *mut smartretry_failure,
    class: smartretry_class,
) -> smartretry_status {
    guard(|| {
        let class = class_in(class)?;
        with_failure(failure, |f| {
            f.class = Some(class);
            Ok(())
        })
    })
}

/// Free a failure. NULL is a no-op; a second free returns SMARTRETRY_INVALID_HANDLE.
///
/// # Safety
/// None: `failure` is a checked id (any value is safe), and other threads may still be using it.
#[no_mangle]
pub unsafe extern "C" fn smartretry_failure_free(
    failure: *mut smartretry_failure,
) -> smartretry_status {
    guard(|| free_handle(failure))
}
