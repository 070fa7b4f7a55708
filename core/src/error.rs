//! The one error type of the engine. Every binding maps it: stable C result codes, Python
//! exception subclasses, JS errors with a `code`. Add variants at the end; never renumber.

use thiserror::Error;

/// Everything that can go wrong in the engine, each with a clear message.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum Error {
    /// A delay, duration or rate that is NaN, infinite, negative or absurdly large.
    #[error(
        "invalid {what}: {value} (must be a finite, non-negative number of seconds up to {max} s)"
    )]
    InvalidDuration {
        /// What was being set (e.g. "max_delay").
        what: &'static str,
        /// The value given, in seconds.
        value: f64,
        /// The largest value accepted, in seconds.
        max: f64,
    },
    /// A policy or configuration value that is out of range or inconsistent.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// An error-class name that the taxonomy does not know.
    #[error("unknown error class {0:?} (known: timeout, connection, rate_limited, unavailable, server_error, client_error, auth, not_found, validation, conflict, needs_human, cancelled, unknown)")]
    UnknownClass(String),
    /// A queue / job-type key or tenant that is empty or too long.
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// A classification rule that cannot be compiled (bad regex, empty range, ...).
    #[error("invalid classification rule {rule:?}: {reason}")]
    InvalidRule {
        /// The rule's name.
        rule: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A Retry-After header value that is neither delta-seconds nor an HTTP-date.
    #[error("invalid Retry-After value {0:?} (expected delta-seconds or an HTTP-date)")]
    InvalidRetryAfter(String),
    /// A snapshot file that is truncated, corrupt, or not a snapshot at all.
    #[error("corrupt snapshot: {0}")]
    SnapshotCorrupt(String),
    /// A snapshot written by a newer (or unknown) format version.
    #[error(
        "snapshot format version {found} is not supported (this build reads up to {supported})"
    )]
    SnapshotVersion {
        /// The version the snapshot declares.
        found: u32,
        /// The newest version this build reads.
        supported: u32,
    },
    /// A file-system error while saving or loading, with the path.
    #[error("I/O error on {path}: {message}")]
    Io {
        /// The file involved.
        path: String,
        /// The operating system's error.
        message: String,
    },
    /// JSON that does not parse into the expected structure.
    #[error("invalid JSON: {0}")]
    InvalidJson(String),
    /// A call that is not valid in the current state (e.g. recording on a finished episode).
    #[error("invalid state: {0}")]
    InvalidState(String),
    /// A failure whose signals are out of range: an HTTP status outside 100-599, a gRPC code
    /// outside 0-16, an empty or over-long name, a cause chain too deep.
    #[error("invalid failure: {0}")]
    InvalidFailure(String),
    /// A policy field that cannot be read: an unknown field, a value of the wrong type or out of
    /// range. `path` names it the way it is written (`classes.unavailable.strategy.factr`).
    #[error("{path}: {message}")]
    InvalidPolicy {
        /// The field, as written in the policy (`classes.unavailable.strategy.factr`).
        path: String,
        /// What is wrong with it.
        message: String,
    },
    /// A learned-tier model file that is truncated, corrupt, of an unknown version, or whose
    /// features are not the ones this build computes.
    #[error("invalid model: {0}")]
    InvalidModel(String),
}

impl Error {
    /// A stable, machine-readable code; bindings expose it (JS `err.code`, Python `.code`).
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidDuration { .. } => "INVALID_DURATION",
            Error::InvalidConfig(_) => "INVALID_CONFIG",
            Error::UnknownClass(_) => "UNKNOWN_CLASS",
            Error::InvalidKey(_) => "INVALID_KEY",
            Error::InvalidRule { .. } => "INVALID_RULE",
            Error::InvalidRetryAfter(_) => "INVALID_RETRY_AFTER",
            Error::SnapshotCorrupt(_) => "SNAPSHOT_CORRUPT",
            Error::SnapshotVersion { .. } => "SNAPSHOT_VERSION",
            Error::Io { .. } => "IO",
            Error::InvalidJson(_) => "INVALID_JSON",
            Error::InvalidState(_) => "INVALID_STATE",
            Error::InvalidFailure(_) => "INVALID_FAILURE",
            Error::InvalidPolicy { .. } => "INVALID_POLICY",
            Error::InvalidModel(_) => "INVALID_MODEL",
        }
    }

    pub(crate) fn io(path: &std::path::Path, err: std::io::Error) -> Error {
        Error::Io {
            path: path.display().to_string(),
            message: err.to_string(),
        }
    }
}

impl From<serde_json::Error> for Error {
    fn from(err: serde_json::Error) -> Self {
        Error::InvalidJson(err.to_string())
    }
}

/// Result with the engine's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
