//! The engine's `Error` as a Python exception hierarchy rooted at `SmartRetryError`, each class
//! carrying the stable `code` of its variant.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyType;
use smartretry::Error;

create_exception!(
    _native,
    SmartRetryError,
    PyException,
    "Base class of every smartretry error; `code` is a stable machine-readable name."
);
create_exception!(
    _native,
    InvalidDurationError,
    SmartRetryError,
    "A delay or duration that is NaN, infinite, negative or absurdly large."
);
create_exception!(
    _native,
    PolicyError,
    SmartRetryError,
    "A policy that cannot be used (bad value, bad rule, bad JSON)."
);
create_exception!(
    _native,
    InvalidConfigError,
    PolicyError,
    "A policy or override value that is out of range or inconsistent."
);
create_exception!(
    _native,
    InvalidRuleError,
    PolicyError,
    "A classification rule that cannot be compiled."
);
create_exception!(
    _native,
    InvalidJsonError,
    PolicyError,
    "JSON that does not parse into the expected structure."
);
create_exception!(
    _native,
    InvalidPolicyError,
    PolicyError,
    "A policy field that cannot be read (unknown, wrong type, out of range); `path` names it, \
     e.g. `classes.unavailable.strategy.factr`."
);
create_exception!(
    _native,
    UnknownClassError,
    SmartRetryError,
    "An error-class name the taxonomy does not know."
);
create_exception!(
    _native,
    InvalidKeyError,
    SmartRetryError,
    "A queue key or tenant that is empty, too long or contains control characters."
);
create_exception!(
    _native,
    InvalidRetryAfterError,
    SmartRetryError,
    "A Retry-After value that is neither delta-seconds nor an HTTP-date."
);
create_exception!(
    _native,
    SnapshotError,
    SmartRetryError,
    "A snapshot that cannot be read or written."
);
create_exception!(
    _native,
    SnapshotCorruptError,
    SnapshotError,
    "A snapshot that is truncated, corrupt, or not a snapshot at all."
);
create_exception!(
    _native,
    SnapshotVersionError,
    SnapshotError,
    "A snapshot written by a newer (or unknown) format version."
);
create_exception!(
    _native,
    SnapshotIOError,
    SnapshotError,
    "A file-system error while saving or loading a snapshot."
);
create_exception!(
    _native,
    InvalidStateError,
    SmartRetryError,
    "A call that is not valid in the current state (e.g. recording on a finished episode)."
);

create_exception!(
    _native,
    InvalidFailureError,
    SmartRetryError,
    "A failure that cannot be true: HTTP status outside 100-599, gRPC code outside 0-16, a bad name."
);
create_exception!(
    _native,
    InvalidModelError,
    SmartRetryError,
    "A learned-tier model file that is truncated, corrupt, of another version, or foreign."
);
create_exception!(
    _native,
    FleetUnavailableError,
    SmartRetryError,
    "Redis (or Valkey) could not be reached, timed out, or refused a fleet command."
);

create_exception!(
    _native,
    ScheduleStorageError,
    SmartRetryError,
    "A retry schedule's store (SQLite file, Redis) failed or could not be reached."
);

/// Translate an engine error into its Python exception.
pub fn to_py(err: Error) -> PyErr {
    let msg = err.to_string();
    match err {
        Error::InvalidDuration { .. } => InvalidDurationError::new_err(msg),
        Error::InvalidConfig(_) => InvalidConfigError::new_err(msg),
        Error::UnknownClass(_) => UnknownClassError::new_err(msg),
        Error::InvalidKey(_) => InvalidKeyError::new_err(msg),
        Error::InvalidRule { .. } => InvalidRuleError::new_err(msg),
        Error::InvalidRetryAfter(_) => InvalidRetryAfterError::new_err(msg),
        Error::SnapshotCorrupt(_) => SnapshotCorruptError::new_err(msg),
        Error::SnapshotVersion { .. } => SnapshotVersionError::new_err(msg),
        Error::Io { .. } => SnapshotIOError::new_err(msg),
        Error::InvalidJson(_) => InvalidJsonError::new_err(msg),
        Error::InvalidState(_) => InvalidStateError::new_err(msg),
        Error::InvalidFailure(_) => InvalidFailureError::new_err(msg),
        Error::InvalidModel(_) => InvalidModelError::new_err(msg),
        Error::InvalidPolicy { path, .. } => Python::attach(|py| {
            let err = InvalidPolicyError::new_err(msg);
            // The path as an attribute too, for code that reacts to a field (best effort).
            let _ = err.value(py).setattr("path", path);
            err
        }),
    }
}

fn add<'py>(m: &Bound<'py, PyModule>, ty: Bound<'py, PyType>, code: &str) -> PyResult<()> {
    ty.setattr("code", code)?;
    let name = ty.name()?;
    m.add(name, ty)
}

/// Register every exception class on the module, with its `code`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    add(m, py.get_type::<SmartRetryError>(), "SMARTRETRY")?;
    add(m, py.get_type::<PolicyError>(), "POLICY")?;
    add(m, py.get_type::<SnapshotError>(), "SNAPSHOT")?;
    add(m, py.get_type::<InvalidDurationError>(), "INVALID_DURATION")?;
    add(m, py.get_type::<InvalidConfigError>(), "INVALID_CONFIG")?;
    add(m, py.get_type::<UnknownClassError>(), "UNKNOWN_CLASS")?;
    add(m, py.get_type::<InvalidKeyError>(), "INVALID_KEY")?;
    add(m, py.get_type::<InvalidRuleError>(), "INVALID_RULE")?;
    add(
        m,
        py.get_type::<InvalidRetryAfterError>(),
        "INVALID_RETRY_AFTER",
    )?;
    add(m, py.get_type::<SnapshotCorruptError>(), "SNAPSHOT_CORRUPT")?;
    add(m, py.get_type::<SnapshotVersionError>(), "SNAPSHOT_VERSION")?;
    add(m, py.get_type::<SnapshotIOError>(), "IO")?;
    add(m, py.get_type::<InvalidJsonError>(), "INVALID_JSON")?;
    add(m, py.get_type::<InvalidStateError>(), "INVALID_STATE")?;
    add(m, py.get_type::<InvalidFailureError>(), "INVALID_FAILURE")?;
    add(m, py.get_type::<InvalidModelError>(), "INVALID_MODEL")?;
    add(
        m,
        py.get_type::<FleetUnavailableError>(),
        "FLEET_UNAVAILABLE",
    )?;
    add(m, py.get_type::<ScheduleStorageError>(), "SCHEDULE_STORAGE")?;
    let policy_error = py.get_type::<InvalidPolicyError>();
    policy_error.setattr("path", "")?; // each instance sets its own
    add(m, policy_error, "INVALID_POLICY")?;
    Ok(())
}
