//! The admin endpoint from C: one call starts it on a live engine (loopback HTTP or a Unix
//! socket), freeing the handle stops it.

use crate::engine::smartretry_engine;
use crate::handle::{free_handle, get, impl_handle, put_handle};
use crate::status::{guard, smartretry_status};
use crate::text::{opt_str_arg, out_ptr, owned_c_string};
use ::smartretry_admin::{AdminConfig, AdminServer};
use std::ffi::c_char;

/// A running admin endpoint.
pub struct smartretry_admin {
    _private: [u8; 0],
}

impl_handle!(smartretry_admin, AdminServer, "admin endpoint");

/// Serve stats, models, recent decisions, overrides and Prometheus /metrics for `engine`.
/// `config_json` may be NULL (127.0.0.1, a free port, no writes) or an object such as
/// {"listen":"127.0.0.1:9464","token":"at-least-16-characters","recent":256}; "listen" may be
/// "unix:/path/to.sock". Only loopback addresses are accepted. Free the handle to stop.
///
/// # Safety
/// `engine` must be NULL or an engine handle; `config_json` NULL or NUL-terminated; `out` NULL
/// or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_admin_start(
    engine: *const smartretry_engine,
    config_json: *const c_char,
    out: *mut *mut smartretry_admin,
) -> smartretry_status {
    guard(|| {
        let e = get(engine)?;
        // SAFETY: forwarded contract.
        let json = unsafe { opt_str_arg(config_json, "config_json") }?;
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(out, "out") }?;
        let config = match json {
            Some(j) => AdminConfig::from_json(j)?,
            None => AdminConfig::default(),
        };
        let server = AdminServer::start(&e.engine, config)?;
        put_handle(out, server)
    })
}

/// A string computed from the endpoint, for the caller (free with smartretry_string_free).
///
/// # Safety
/// `admin` must be NULL or an admin handle; `out` NULL or writable.
unsafe fn render(
    admin: *const smartretry_admin,
    out: *mut *mut c_char,
    f: impl FnOnce(&AdminServer) -> String,
) -> smartretry_status {
    guard(|| {
        let a = get(admin)?;
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(out, "out") }?;
        *out = owned_c_string(f(&a))?;
        Ok(())
    })
}

/// The endpoint's address: "http://127.0.0.1:PORT" or "unix:/path" (free with
/// smartretry_string_free).
///
/// # Safety
/// `admin` must be NULL or an admin handle; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_admin_url(
    admin: *const smartretry_admin,
    out: *mut *mut c_char,
) -> smartretry_status {
    // SAFETY: forwarded contract.
    unsafe { render(admin, out, |a| a.url().to_string()) }
}

/// The metrics in the Prometheus text format, as /metrics serves them (free with
/// smartretry_string_free).
///
/// # Safety
/// `admin` must be NULL or an admin handle; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_admin_metrics(
    admin: *const smartretry_admin,
    out: *mut *mut c_char,
) -> smartretry_status {
    // SAFETY: forwarded contract.
    unsafe { render(admin, out, |a| a.monitor().prometheus()) }
}

/// Stop the endpoint and free its handle. NULL is a no-op; a second free returns
/// SMARTRETRY_INVALID_HANDLE.
///
/// # Safety
/// None: `admin` is a checked id (any value is safe).
#[no_mangle]
pub unsafe extern "C" fn smartretry_admin_free(admin: *mut smartretry_admin) -> smartretry_status {
    guard(|| free_handle(admin))
}
