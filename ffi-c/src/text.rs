//! Strings across the boundary: NUL-terminated UTF-8 in, caller-owned `char *` out (freed with
//! `smartretry_string_free`), and checked out-parameters.

use crate::status::{guard, smartretry_status, FfiError, FfiResult};
use std::ffi::{c_char, CStr, CString};

/// A required NUL-terminated UTF-8 string argument.
///
/// # Safety
/// `ptr` must be NULL or point to a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn str_arg<'a>(ptr: *const c_char, what: &'static str) -> FfiResult<&'a str> {
    if ptr.is_null() {
        return Err(FfiError::Null(what));
    }
    // SAFETY: non-NULL, and the caller guarantees NUL termination and lifetime.
    let c = unsafe { CStr::from_ptr(ptr) };
    c.to_str().map_err(|_| FfiError::Utf8(what))
}

/// An optional string argument: NULL means none.
///
/// # Safety
/// As for [`str_arg`].
pub(crate) unsafe fn opt_str_arg<'a>(
    ptr: *const c_char,
    what: &'static str,
) -> FfiResult<Option<&'a str>> {
    if ptr.is_null() {
        Ok(None)
    } else {
        // SAFETY: forwarded contract.
        unsafe { str_arg(ptr, what) }.map(Some)
    }
}

/// A required out-parameter.
///
/// # Safety
/// `ptr` must be NULL or valid for writing a `T` for `'a`.
pub(crate) unsafe fn out_ptr<'a, T>(ptr: *mut T, what: &'static str) -> FfiResult<&'a mut T> {
    // SAFETY: the caller guarantees a non-NULL `ptr` is writable; a `T` here is always a plain
    // C value (integer, double, bool, pointer or repr(C) struct), so any bit pattern the caller
    // left there may be overwritten without being dropped.
    unsafe { ptr.as_mut() }.ok_or(FfiError::Null(what))
}

/// An owned C string for the caller.
pub(crate) fn owned_c_string(s: String) -> FfiResult<*mut c_char> {
    CString::new(s)
        .map(CString::into_raw)
        .map_err(|_| FfiError::Argument("the result contains a NUL byte".into()))
}

/// A value as an owned JSON string for the caller (the `*_json` getters).
pub(crate) fn json_c_string<T: serde::Serialize + ?Sized>(value: &T) -> FfiResult<*mut c_char> {
    let json = serde_json::to_string(value).map_err(smartretry::Error::from)?;
    owned_c_string(json)
}

/// Free a string returned by this library. NULL is a no-op.
///
/// # Safety
/// `s` must be NULL or a string returned by this library and not yet freed.
#[no_mangle]
pub unsafe extern "C" fn smartretry_string_free(s: *mut c_char) -> smartretry_status {
    guard(|| {
        if !s.is_null() {
            // SAFETY: the caller guarantees `s` came from `CString::into_raw` in this library and
            // is freed once.
            drop(unsafe { CString::from_raw(s) });
        }
        Ok(())
    })
}
