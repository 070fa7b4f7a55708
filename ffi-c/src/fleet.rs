//! The fleet store (`smartretry-redis`): attach an engine to a fleet of engines that pool what
//! they learn (and optionally share retry budgets and open breakers) through Redis or Valkey.
//! Translation only; options are the JSON object `FleetConfig::from_json` reads.

use crate::engine::smartretry_engine;
use crate::handle::{free_handle, get, impl_handle, lock, put_handle};
use crate::status::{guard, smartretry_status, FfiError};
use crate::text::{opt_str_arg, out_ptr, str_arg};
use smartretry_redis::{FleetConfig, FleetError, FleetStore};
use std::ffi::c_char;
use std::sync::Mutex;

/// An engine's membership in a fleet. Freeing it stops its background sync (and gives the
/// engine back budgets of its own if they were shared).
pub struct smartretry_fleet {
    _private: [u8; 0],
}

/// The value behind a `smartretry_fleet` (locked: the store's thread handle is not `Sync`).
pub(crate) struct FleetHandle {
    store: Mutex<FleetStore>,
}
impl_handle!(smartretry_fleet, FleetHandle, "fleet");

/// What a fleet store has done so far.
#[repr(C)]
pub struct smartretry_fleet_counters {
    /// Syncs that reached Redis and finished.
    pub syncs: u64,
    /// Syncs that failed (Redis unreachable, timed out, refused).
    pub failures: u64,
    /// Pushes of this engine's evidence the server accepted.
    pub pushes: u64,
    /// Other engines whose evidence is pooled.
    pub peers: u64,
    /// Fleet entries skipped because they did not decode.
    pub rejected: u64,
    /// Leasing rounds of shared budgets answered.
    pub budget_rounds: u64,
    /// Breakers opened here because another engine opened them.
    pub breakers_opened: u64,
}

impl From<FleetError> for FfiError {
    fn from(e: FleetError) -> Self {
        match e {
            FleetError::InvalidConfig(m) => FfiError::Core(smartretry::Error::InvalidConfig(m)),
            FleetError::Redis(m) => FfiError::FleetUnavailable(m),
            FleetError::Core(e) => FfiError::Core(e),
        }
    }
}

/// Attach `engine` to the fleet at `url` (`redis://[user:password@]host:port[/db]` or
/// `rediss://`). `options_json` may be NULL or a JSON object with any of `namespace`,
/// `sync_interval` (seconds), `sync_after_episodes`, `io_timeout` (seconds), `engine_id`,
/// `share_budgets` (fleet size: share the policy's budgets), `share_breakers` (bool),
/// `background` (bool, default true: sync on a thread; false: call smartretry_fleet_sync_now).
/// Fails only on a bad configuration (SMARTRETRY_INVALID_CONFIG): an unreachable Redis is
/// retried, the engine deciding alone meanwhile.
///
/// # Safety
/// `engine` NULL or an engine handle; `url` and `options_json` NULL or NUL-terminated; `out`
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_fleet_attach(
    engine: *const smartretry_engine,
    url: *const c_char,
    options_json: *const c_char,
    out: *mut *mut smartretry_fleet,
) -> smartretry_status {
    guard(|| {
        let e = get(engine)?;
        // SAFETY: forwarded contract.
        let url = unsafe { str_arg(url, "url") }?;
        // SAFETY: forwarded contract.
        let options = unsafe { opt_str_arg(options_json, "options_json") }?;
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(out, "out") }?;
        let (config, background) = FleetConfig::from_json(url, options)?;
        let store = if background {
            FleetStore::attach(&e.engine, config)
        } else {
            FleetStore::attach_manual(&e.engine, config)
        }?;
        put_handle(
            out,
            FleetHandle {
                store: Mutex::new(store),
            },
        )
    })
}

/// Sync once, now, on the calling thread: SMARTRETRY_FLEET_UNAVAILABLE if Redis cannot be
/// reached (the message says why).
///
/// # Safety
/// `fleet` NULL or a fleet handle.
#[no_mangle]
pub unsafe extern "C" fn smartretry_fleet_sync_now(
    fleet: *const smartretry_fleet,
) -> smartretry_status {
    guard(|| {
        let f = get(fleet)?;
        let store = lock(&f.store);
        store.sync_now()?;
        Ok(())
    })
}

/// What the store has done so far.
///
/// # Safety
/// `fleet` NULL or a fleet handle; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_fleet_stats(
    fleet: *const smartretry_fleet,
    out: *mut smartretry_fleet_counters,
) -> smartretry_status {
    guard(|| {
        let f = get(fleet)?;
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(out, "out") }?;
        let s = lock(&f.store).stats();
        *out = smartretry_fleet_counters {
            syncs: s.syncs,
            failures: s.failures,
            pushes: s.pushes,
            peers: s.peers as u64,
            rejected: s.rejected,
            budget_rounds: s.budget_rounds,
            breakers_opened: s.breakers_opened,
        };
        Ok(())
    })
}

/// Stop syncing and free the store (the background thread is joined within a bounded wait).
/// NULL is a no-op.
///
/// # Safety
/// `fleet` NULL or a fleet handle.
#[no_mangle]
pub unsafe extern "C" fn smartretry_fleet_free(fleet: *mut smartretry_fleet) -> smartretry_status {
    guard(|| free_handle(fleet))
}
