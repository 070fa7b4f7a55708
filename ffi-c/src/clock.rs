//! Clocks: the system clock, or a manual clock that moves only when told to (tests, simulations).

use crate::handle::{free_handle, get, impl_handle, put_handle};
use crate::status::{guard, smartretry_status, FfiError, FfiResult};
use crate::text::out_ptr;
use smartretry::{ManualClock, SharedClock, SystemClock};
use std::sync::Arc;
use std::time::Duration;

/// A clock an engine reads time from. Free it with smartretry_clock_free (engines keep their own
/// reference, so it may be freed before them).
pub struct smartretry_clock {
    _private: [u8; 0],
}

/// The value behind a `smartretry_clock`.
pub(crate) struct ClockHandle {
    pub(crate) shared: SharedClock,
    manual: Option<Arc<ManualClock>>,
}
impl_handle!(smartretry_clock, ClockHandle, "clock");

/// A point in time or an advance (seconds, finite and non-negative) as a Duration.
fn duration_arg(what: &str, value: f64) -> FfiResult<Duration> {
    Duration::try_from_secs_f64(value).map_err(|_| {
        FfiError::Argument(format!(
            "{what} must be a finite, non-negative number of seconds, not {value}"
        ))
    })
}

impl ClockHandle {
    fn manual(&self) -> FfiResult<&ManualClock> {
        self.manual.as_deref().ok_or_else(|| {
            FfiError::Argument("this is the system clock; only a manual clock can be moved".into())
        })
    }
}

/// A manual clock reading `start_unix_seconds` (seconds since the Unix epoch).
///
/// # Safety
/// `out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_clock_new_manual(
    start_unix_seconds: f64,
    out: *mut *mut smartretry_clock,
) -> smartretry_status {
    guard(|| {
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(out, "out") }?;
        let clock = ManualClock::shared(duration_arg("start", start_unix_seconds)?);
        put_handle(
            out,
            ClockHandle {
                shared: clock.clone(),
                manual: Some(clock),
            },
        )?;
        Ok(())
    })
}

/// The system clock (wall-clock time made monotonic).
///
/// # Safety
/// `out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_clock_new_system(
    out: *mut *mut smartretry_clock,
) -> smartretry_status {
    guard(|| {
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(out, "out") }?;
        put_handle(
            out,
            ClockHandle {
                shared: SystemClock::shared(),
                manual: None,
            },
        )?;
        Ok(())
    })
}

/// Move a manual clock forward by `by_seconds`.
///
/// # Safety
/// `clock` must be NULL or a clock handle.
#[no_mangle]
pub unsafe extern "C" fn smartretry_clock_advance(
    clock: *const smartretry_clock,
    by_seconds: f64,
) -> smartretry_status {
    guard(|| {
        let clock = get(clock)?;
        clock
            .manual()?
            .advance(duration_arg("advance", by_seconds)?);
        Ok(())
    })
}

/// Jump a manual clock to `unix_seconds` if that is later (time never goes backwards).
///
/// # Safety
/// `clock` must be NULL or a clock handle.
#[no_mangle]
pub unsafe extern "C" fn smartretry_clock_set(
    clock: *const smartretry_clock,
    unix_seconds: f64,
) -> smartretry_status {
    guard(|| {
        let clock = get(clock)?;
        clock.manual()?.set(duration_arg("time", unix_seconds)?);
        Ok(())
    })
}

/// The clock's reading, in seconds since the Unix epoch.
///
/// # Safety
/// `clock` must be NULL or a clock handle; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_clock_now(
    clock: *const smartretry_clock,
    out: *mut f64,
) -> smartretry_status {
    guard(|| {
        let clock = get(clock)?;
        // SAFETY: forwarded contract.
        *unsafe { out_ptr(out, "out") }? = clock.shared.now().as_secs_f64();
        Ok(())
    })
}

/// Free a clock. NULL is a no-op; a second free returns SMARTRETRY_INVALID_HANDLE.
///
/// # Safety
/// None: `clock` is a checked id (any value is safe), and other threads may still be using it.
#[no_mangle]
pub unsafe extern "C" fn smartretry_clock_free(clock: *mut smartretry_clock) -> smartretry_status {
    guard(|| free_handle(clock))
}
