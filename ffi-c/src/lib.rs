//! C ABI of the smartretry engine. Opaque handles with `_new`/`_free` pairs, status codes,
//! out-parameters, a thread-local last error, and no panic across the boundary.

/// The library version as a static NUL-terminated string.
#[no_mangle]
pub extern "C" fn smartretry_version() -> *const std::ffi::c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}
