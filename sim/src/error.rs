//! The simulator's error type: everything that comes from input (scenario files, histories,
//! CSV rows, command-line values) is reported as a typed error, never a panic.

use thiserror::Error;

/// What can go wrong while loading inputs or writing reports.
#[derive(Debug, Error)]
pub enum SimError {
    /// A scenario file that does not parse or whose parameters are out of range.
    #[error("scenario {name}: {reason}")]
    Scenario { name: String, reason: String },
    /// A scenario name or number that no embedded file matches.
    #[error("unknown scenario {0:?} (try a number 1-11, a name such as payment-outage, or all)")]
    UnknownScenario(String),
    /// A row of the incident CSV that cannot be read.
    #[error("incident data line {line}: {reason}")]
    Incident { line: usize, reason: String },
    /// A line of an attempt history that cannot be read.
    #[error("history line {line}: {reason}")]
    History { line: usize, reason: String },
    /// A file-system error, with the path.
    #[error("I/O error on {path}: {message}")]
    Io { path: String, message: String },
    /// An error from the engine (invalid policy, key, ...).
    #[error("engine: {0}")]
    Engine(#[from] smartretry::Error),
    /// A plot that could not be drawn.
    #[error("plot {path}: {message}")]
    Plot { path: String, message: String },
    /// A value given on the command line or in a call that is out of range.
    #[error("invalid argument: {0}")]
    Invalid(String),
}

impl SimError {
    pub(crate) fn io(path: &std::path::Path, err: std::io::Error) -> SimError {
        SimError::Io {
            path: path.display().to_string(),
            message: err.to_string(),
        }
    }
}

/// Result with the simulator's error.
pub type Result<T, E = SimError> = std::result::Result<T, E>;
