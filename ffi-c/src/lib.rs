//! C ABI of the smartretry engine: `libsmartretry.so` / `libsmartretry.a` and the generated header
//! `include/smartretry.h`. Translation only: every decision is the core's.
//!
//! Conventions: opaque handles with `_new`/`_free` pairs (generation-checked ids in a slot table,
//! so stale and double frees are always detected; see `handle`); every fallible call returns a
//! `smartretry_status` and writes
//! results through out-parameters; a thread-local last error (`smartretry_last_error`); strings
//! in are NUL-terminated UTF-8, strings out are owned by the caller and freed with
//! `smartretry_string_free`; no panic unwinds into C (every entry point runs inside `guard`).
//!
//! Safety contract of every `unsafe extern "C"` function: each pointer argument is NULL (reported
//! as SMARTRETRY_NULL_ARGUMENT where it is required) or valid for what its name says (a
//! NUL-terminated string, writable memory for an out parameter). Handle arguments are ids, never
//! dereferenced, so any value is safe: a bad one is SMARTRETRY_INVALID_HANDLE.
//!
//! The fuzz crate (`ffi-c/fuzz`, built with `--cfg fuzzing`) compiles this source without the
//! parts that talk to servers and files (the fleet on Redis, the admin endpoint, the durable
//! schedule): its call sequences have no server to reach, and leaving them out spares its
//! sanitised build Redis, SQLite, TLS and an HTTP server.

#![deny(unsafe_op_in_unsafe_fn)]
#![allow(non_camel_case_types, clippy::missing_safety_doc)]

mod admin;
#[cfg(not(fuzzing))]
mod admin_endpoint;
mod clock;
mod context;
mod detail;
mod engine;
mod failure;
#[cfg(test)]
mod fixtures_test;
#[cfg(not(fuzzing))]
mod fleet;
mod fork;
mod handle;
mod history;
mod learned;
#[cfg(test)]
mod learned_test;
mod names;
mod observer;
mod policy;
mod ratelimit;
mod readers;
mod recommendation;
#[cfg(not(fuzzing))]
mod schedule;
mod segments;
mod slots;
mod status;
mod text;

pub use admin::*;
#[cfg(not(fuzzing))]
pub use admin_endpoint::*;
pub use clock::*;
pub use context::*;
pub use detail::smartretry_recommendation_detail;
pub use engine::*;
pub use failure::*;
#[cfg(not(fuzzing))]
pub use fleet::*;
pub use fork::*;
pub use handle::smartretry_live_handles;
pub use history::*;
pub use learned::*;
pub use names::*;
pub use observer::*;
pub use policy::*;
pub use ratelimit::*;
pub use recommendation::*;
#[cfg(not(fuzzing))]
pub use schedule::*;
pub use status::{
    smartretry_last_error, smartretry_last_status, smartretry_status, smartretry_status_name,
};
pub use text::smartretry_string_free;

use std::ffi::c_char;

/// The library version ("0.1.0") as a static NUL-terminated string.
#[no_mangle]
pub extern "C" fn smartretry_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The library version as (MAJOR << 16) | (MINOR << 8) | PATCH; compare it with
/// SMARTRETRY_VERSION_NUMBER to detect a header/library mismatch.
#[no_mangle]
pub extern "C" fn smartretry_version_number() -> u32 {
    const fn parse(s: &str) -> u32 {
        let b = s.as_bytes();
        let mut i = 0;
        let mut v = 0;
        while i < b.len() {
            v = v * 10 + (b[i] - b'0') as u32;
            i += 1;
        }
        v
    }
    const N: u32 = (parse(env!("CARGO_PKG_VERSION_MAJOR")) << 16)
        | (parse(env!("CARGO_PKG_VERSION_MINOR")) << 8)
        | parse(env!("CARGO_PKG_VERSION_PATCH"));
    N
}

#[cfg(test)]
mod tests {
    /// The committed header must be exactly what cbindgen generates from these sources.
    #[test]
    fn committed_header_is_fresh() {
        let fresh = include_str!(concat!(env!("OUT_DIR"), "/smartretry.h"));
        let committed = include_str!("../../include/smartretry.h");
        assert!(
            fresh == committed,
            "include/smartretry.h is stale: run `SMARTRETRY_WRITE_HEADER=1 cargo build -p smartretry-ffi` and commit it"
        );
    }

    /// Every export runs inside `guard` (or `catch_unwind`), except those that cannot panic.
    #[test]
    fn every_export_has_a_panic_boundary() {
        const CANNOT_PANIC: &[&str] = &[
            "smartretry_version",
            "smartretry_version_number",
            "smartretry_last_error",
            "smartretry_last_status",
            "smartretry_status_name",
        ];
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let (mut exports, mut no_mangle) = (0, 0);
        for entry in std::fs::read_dir(dir).expect("src") {
            let path = entry.expect("entry").path();
            // Test modules define callbacks, not exports.
            if path.to_string_lossy().ends_with("_test.rs") {
                continue;
            }
            let text = std::fs::read_to_string(path).expect("read");
            no_mangle += text.matches("#[no_mangle]\n").count();
            for part in text.split("extern \"C\" fn ").skip(1) {
                let name = part.split('(').next().unwrap_or_default();
                let body = part.split("\n}\n").next().unwrap_or_default();
                exports += 1;
                // Helpers whose whole body is a `guard`.
                let guarded = [
                    "guard(",
                    "catch_unwind",
                    "set_string(",
                    "render(",
                    "with_path(",
                ];
                assert!(
                    guarded.iter().any(|g| body.contains(g)) || CANNOT_PANIC.contains(&name),
                    "{name} has no panic boundary"
                );
            }
        }
        assert_eq!(exports, no_mangle, "an export was not recognised");
    }

    #[test]
    fn version_number_matches_string() {
        let n = super::smartretry_version_number();
        let s = format!("{}.{}.{}", n >> 16, (n >> 8) & 0xff, n & 0xff);
        assert_eq!(s, env!("CARGO_PKG_VERSION"));
    }
}
