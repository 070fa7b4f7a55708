//! Status codes, the thread-local last error, and `guard`, which every entry point runs its body
//! in: it catches panics (none unwinds into C) and turns errors into a status plus a message.

use smartretry::Error;
use std::cell::RefCell;
use std::ffi::{c_char, CString};
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Result of every fallible call. Codes 1-99 are the engine's errors (in the order of
/// `smartretry::Error`), 100 and up the binding's own. Stable: never renumbered, only added to.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum smartretry_status {
    SMARTRETRY_OK = 0,
    /// A delay or duration that is NaN, infinite, negative or absurdly large.
    SMARTRETRY_INVALID_DURATION = 1,
    /// A policy value that is out of range or inconsistent.
    SMARTRETRY_INVALID_CONFIG = 2,
    /// An error-class name the taxonomy does not know.
    SMARTRETRY_UNKNOWN_CLASS = 3,
    /// A queue key or tenant that is empty, too long or has control characters.
    SMARTRETRY_INVALID_KEY = 4,
    /// A classification rule that cannot be compiled.
    SMARTRETRY_INVALID_RULE = 5,
    /// A Retry-After value that is neither delta-seconds nor an HTTP-date.
    SMARTRETRY_INVALID_RETRY_AFTER = 6,
    /// A snapshot file that is truncated or corrupt.
    SMARTRETRY_SNAPSHOT_CORRUPT = 7,
    /// A snapshot written by a newer format version.
    SMARTRETRY_SNAPSHOT_VERSION = 8,
    /// A file-system error while saving or loading.
    SMARTRETRY_IO = 9,
    /// JSON that does not parse into the expected structure.
    SMARTRETRY_INVALID_JSON = 10,
    /// A call not valid in the current state (e.g. success recorded on a finished episode).
    SMARTRETRY_INVALID_STATE = 11,
    /// A failure that cannot be true: an HTTP status outside 100-599, a gRPC code outside 0-16,
    /// a bad name, a cause chain too deep.
    SMARTRETRY_INVALID_FAILURE = 12,
    /// A policy field that cannot be read (unknown, wrong type, out of range); the message
    /// starts with its path, e.g. `classes.unavailable.strategy.factr`.
    SMARTRETRY_INVALID_POLICY = 13,
    /// A learned-tier model file that is truncated, corrupt, of another version, or whose
    /// features are not the ones this build computes.
    SMARTRETRY_INVALID_MODEL = 14,
    /// A required pointer argument was NULL.
    SMARTRETRY_NULL_ARGUMENT = 100,
    /// A string argument was not valid UTF-8.
    SMARTRETRY_INVALID_UTF8 = 101,
    /// An enum argument (class, scope, ...) had a value outside its range.
    SMARTRETRY_INVALID_ENUM = 102,
    /// A handle that is not a live handle of the expected type (freed twice, or a wrong pointer).
    SMARTRETRY_INVALID_HANDLE = 103,
    /// The library hit an internal bug; the call had no effect on the caller's memory.
    SMARTRETRY_PANIC = 104,
    /// Any other bad argument (an index out of range, an operation the handle does not support).
    SMARTRETRY_INVALID_ARGUMENT = 105,
    /// The fleet's Redis (or Valkey) could not be reached, timed out or refused a command; the
    /// engine goes on deciding alone.
    SMARTRETRY_FLEET_UNAVAILABLE = 106,
    /// The durable retry schedule's store failed: a SQLite file that cannot be opened or is not
    /// a database, a disk error, or a Redis that cannot be reached or refused a command.
    SMARTRETRY_SCHEDULE_STORAGE = 107,
}

use smartretry_status as S;

/// Stable machine-readable names, as `smartretry::Error::code()` gives them for engine errors.
const NAMES: &[(S, &std::ffi::CStr)] = &[
    (S::SMARTRETRY_OK, c"OK"),
    (S::SMARTRETRY_INVALID_DURATION, c"INVALID_DURATION"),
    (S::SMARTRETRY_INVALID_CONFIG, c"INVALID_CONFIG"),
    (S::SMARTRETRY_UNKNOWN_CLASS, c"UNKNOWN_CLASS"),
    (S::SMARTRETRY_INVALID_KEY, c"INVALID_KEY"),
    (S::SMARTRETRY_INVALID_RULE, c"INVALID_RULE"),
    (S::SMARTRETRY_INVALID_RETRY_AFTER, c"INVALID_RETRY_AFTER"),
    (S::SMARTRETRY_SNAPSHOT_CORRUPT, c"SNAPSHOT_CORRUPT"),
    (S::SMARTRETRY_SNAPSHOT_VERSION, c"SNAPSHOT_VERSION"),
    (S::SMARTRETRY_IO, c"IO"),
    (S::SMARTRETRY_INVALID_JSON, c"INVALID_JSON"),
    (S::SMARTRETRY_INVALID_STATE, c"INVALID_STATE"),
    (S::SMARTRETRY_INVALID_FAILURE, c"INVALID_FAILURE"),
    (S::SMARTRETRY_INVALID_POLICY, c"INVALID_POLICY"),
    (S::SMARTRETRY_INVALID_MODEL, c"INVALID_MODEL"),
    (S::SMARTRETRY_NULL_ARGUMENT, c"NULL_ARGUMENT"),
    (S::SMARTRETRY_INVALID_UTF8, c"INVALID_UTF8"),
    (S::SMARTRETRY_INVALID_ENUM, c"INVALID_ENUM"),
    (S::SMARTRETRY_INVALID_HANDLE, c"INVALID_HANDLE"),
    (S::SMARTRETRY_PANIC, c"PANIC"),
    (S::SMARTRETRY_INVALID_ARGUMENT, c"INVALID_ARGUMENT"),
    (S::SMARTRETRY_FLEET_UNAVAILABLE, c"FLEET_UNAVAILABLE"),
    (S::SMARTRETRY_SCHEDULE_STORAGE, c"SCHEDULE_STORAGE"),
];

/// Everything an entry point can fail with.
#[derive(Debug)]
pub(crate) enum FfiError {
    Core(Error),
    Null(&'static str),
    Utf8(&'static str),
    Enum {
        what: &'static str,
        value: u32,
    },
    Handle(&'static str),
    WrongHandle {
        expected: &'static str,
        got: &'static str,
    },
    Argument(String),
    /// Redis unreachable (the fleet store).
    FleetUnavailable(String),
    /// The retry schedule's store failed (the message is the store's).
    ScheduleStorage(String),
}

impl From<Error> for FfiError {
    fn from(e: Error) -> Self {
        FfiError::Core(e)
    }
}

impl FfiError {
    pub(crate) fn status(&self) -> S {
        match self {
            // Exhaustive on purpose: a new engine error must get its own code here.
            FfiError::Core(e) => match e {
                Error::InvalidDuration { .. } => S::SMARTRETRY_INVALID_DURATION,
                Error::InvalidConfig(_) => S::SMARTRETRY_INVALID_CONFIG,
                Error::UnknownClass(_) => S::SMARTRETRY_UNKNOWN_CLASS,
                Error::InvalidKey(_) => S::SMARTRETRY_INVALID_KEY,
                Error::InvalidRule { .. } => S::SMARTRETRY_INVALID_RULE,
                Error::InvalidRetryAfter(_) => S::SMARTRETRY_INVALID_RETRY_AFTER,
                Error::SnapshotCorrupt(_) => S::SMARTRETRY_SNAPSHOT_CORRUPT,
                Error::SnapshotVersion { .. } => S::SMARTRETRY_SNAPSHOT_VERSION,
                Error::Io { .. } => S::SMARTRETRY_IO,
                Error::InvalidJson(_) => S::SMARTRETRY_INVALID_JSON,
                Error::InvalidState(_) => S::SMARTRETRY_INVALID_STATE,
                Error::InvalidFailure(_) => S::SMARTRETRY_INVALID_FAILURE,
                Error::InvalidPolicy { .. } => S::SMARTRETRY_INVALID_POLICY,
                Error::InvalidModel(_) => S::SMARTRETRY_INVALID_MODEL,
            },
            FfiError::Null(_) => S::SMARTRETRY_NULL_ARGUMENT,
            FfiError::Utf8(_) => S::SMARTRETRY_INVALID_UTF8,
            FfiError::Enum { .. } => S::SMARTRETRY_INVALID_ENUM,
            FfiError::Handle(_) | FfiError::WrongHandle { .. } => S::SMARTRETRY_INVALID_HANDLE,
            FfiError::Argument(_) => S::SMARTRETRY_INVALID_ARGUMENT,
            FfiError::FleetUnavailable(_) => S::SMARTRETRY_FLEET_UNAVAILABLE,
            FfiError::ScheduleStorage(_) => S::SMARTRETRY_SCHEDULE_STORAGE,
        }
    }
}

impl fmt::Display for FfiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FfiError::Core(e) => write!(f, "{e}"),
            FfiError::Null(what) => write!(f, "{what} must not be NULL"),
            FfiError::Utf8(what) => write!(f, "{what} is not valid UTF-8"),
            FfiError::Enum { what, value } => write!(f, "{value} is not a valid {what}"),
            FfiError::Handle(what) => write!(
                f,
                "{what} is not a live handle (already freed, or not created by this library)"
            ),
            FfiError::WrongHandle { expected, got } => {
                write!(f, "expected a live {expected} handle, got a {got} handle")
            }
            FfiError::Argument(msg) => f.write_str(msg),
            FfiError::FleetUnavailable(msg) => write!(f, "fleet unavailable: redis: {msg}"),
            FfiError::ScheduleStorage(msg) => f.write_str(msg),
        }
    }
}

pub(crate) type FfiResult<T = ()> = Result<T, FfiError>;

thread_local! {
    static LAST: RefCell<(S, CString)> = RefCell::new((S::SMARTRETRY_OK, CString::default()));
}

fn set_last(status: S, message: String) {
    let message = CString::new(message.replace('\0', "\u{FFFD}")).unwrap_or_default();
    let _ = LAST.try_with(|l| *l.borrow_mut() = (status, message));
}

/// Run an entry point's body: no panic crosses the boundary, every error becomes a status code
/// and this thread's last error.
pub(crate) fn guard(body: impl FnOnce() -> FfiResult) -> S {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => S::SMARTRETRY_OK,
        Ok(Err(e)) => {
            let status = e.status();
            set_last(status, e.to_string());
            status
        }
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            set_last(
                S::SMARTRETRY_PANIC,
                format!("internal error (please report): {what}"),
            );
            S::SMARTRETRY_PANIC
        }
    }
}

/// The message of the last failed call on this thread ("" if none). Never NULL. Valid until the
/// next failing call on the same thread; copy it to keep it. Successful calls leave it as it was.
#[no_mangle]
pub extern "C" fn smartretry_last_error() -> *const c_char {
    // `try_with`: no panic even while the thread's locals are being destroyed.
    LAST.try_with(|l| l.borrow().1.as_ptr())
        .unwrap_or(c"".as_ptr())
}

/// The status of the last failed call on this thread (SMARTRETRY_OK if none).
#[no_mangle]
pub extern "C" fn smartretry_last_status() -> smartretry_status {
    LAST.try_with(|l| l.borrow().0).unwrap_or(S::SMARTRETRY_OK)
}

/// The stable name of a status code ("INVALID_KEY", ...), or NULL for an unknown code. Static.
#[no_mangle]
pub extern "C" fn smartretry_status_name(status: u32) -> *const c_char {
    NAMES
        .iter()
        .find(|(s, _)| *s as u32 == status)
        .map_or(std::ptr::null(), |(_, n)| n.as_ptr())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_core_codes_and_panics_are_caught() {
        let e = FfiError::from(Error::InvalidKey("x".into()));
        let name = NAMES.iter().find(|(s, _)| *s == e.status()).map(|n| n.1);
        assert_eq!(name.and_then(|n| n.to_str().ok()), Some("INVALID_KEY"));
        let s = guard(|| panic!("boom"));
        assert_eq!(s, S::SMARTRETRY_PANIC);
        assert_eq!(smartretry_last_status(), S::SMARTRETRY_PANIC);
    }
}
