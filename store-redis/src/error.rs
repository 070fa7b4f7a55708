//! The fleet store's errors: a bad configuration, Redis unreachable or refusing, or a core
//! error (a snapshot the fleet holds that does not check out).

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq)]
pub enum FleetError {
    /// A URL, namespace, interval or bound out of range.
    #[error("invalid fleet configuration: {0}")]
    InvalidConfig(String),
    /// Redis (or Valkey) could not be reached, timed out, or refused a command.
    #[error("redis: {0}")]
    Redis(String),
    /// The engine refused what the fleet sent (out-of-range counts) or another core error.
    #[error(transparent)]
    Core(#[from] smartretry::Error),
}

impl From<redis::RedisError> for FleetError {
    fn from(e: redis::RedisError) -> Self {
        FleetError::Redis(e.to_string())
    }
}

pub type Result<T> = std::result::Result<T, FleetError>;
