//! The error-class taxonomy and what each class means for retrying.

use crate::error::Error;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What kind of failure happened. Classification maps raw signals (HTTP status, gRPC code, errno
/// names, exception types, messages) onto one of these.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(transform = with_name_enum))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum ErrorClass {
    /// The operation took too long (HTTP 408/504, gRPC DEADLINE_EXCEEDED, socket timeouts).
    /// Retried.
    Timeout = 0,
    /// The connection failed or was reset (refused, reset, DNS). Retried.
    Connection = 1,
    /// The server throttled the caller (HTTP 429, gRPC RESOURCE_EXHAUSTED). Retried with a long
    /// backoff.
    RateLimited = 2,
    /// The dependency is down or overloaded (HTTP 502/503, gRPC UNAVAILABLE). Retried.
    Unavailable = 3,
    /// The server failed internally (other HTTP 5xx, gRPC INTERNAL). Retried.
    ServerError = 4,
    /// The request was wrong in a way not covered below (other HTTP 4xx). Not retried.
    ClientError = 5,
    /// Not authenticated or not allowed (HTTP 401/403). Not retried.
    Auth = 6,
    /// The target does not exist (HTTP 404/410). Not retried.
    NotFound = 7,
    /// The input was rejected (HTTP 400/422, gRPC INVALID_ARGUMENT). Not retried.
    Validation = 8,
    /// A concurrent change collided (HTTP 409, gRPC ABORTED). Retried: a later attempt usually
    /// passes.
    Conflict = 9,
    /// Only a person can unblock the work (captcha, consent, manual review). Escalated.
    NeedsHuman = 10,
    /// The caller cancelled the operation (HTTP 499, gRPC CANCELLED). Not retried.
    Cancelled = 11,
    /// No rule matched (or gRPC UNKNOWN). Retried, with fewer attempts by default.
    Unknown = 12,
}

impl ErrorClass {
    /// Every class, in code order.
    pub const ALL: [ErrorClass; 13] = [
        ErrorClass::Timeout,
        ErrorClass::Connection,
        ErrorClass::RateLimited,
        ErrorClass::Unavailable,
        ErrorClass::ServerError,
        ErrorClass::ClientError,
        ErrorClass::Auth,
        ErrorClass::NotFound,
        ErrorClass::Validation,
        ErrorClass::Conflict,
        ErrorClass::NeedsHuman,
        ErrorClass::Cancelled,
        ErrorClass::Unknown,
    ];

    /// The snake_case name used in policy files, JSON and every binding.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Timeout => "timeout",
            ErrorClass::Connection => "connection",
            ErrorClass::RateLimited => "rate_limited",
            ErrorClass::Unavailable => "unavailable",
            ErrorClass::ServerError => "server_error",
            ErrorClass::ClientError => "client_error",
            ErrorClass::Auth => "auth",
            ErrorClass::NotFound => "not_found",
            ErrorClass::Validation => "validation",
            ErrorClass::Conflict => "conflict",
            ErrorClass::NeedsHuman => "needs_human",
            ErrorClass::Cancelled => "cancelled",
            ErrorClass::Unknown => "unknown",
        }
    }

    /// The class with the given numeric code (as used at the C boundary).
    pub fn from_code(code: u32) -> Option<ErrorClass> {
        ErrorClass::ALL.get(code as usize).copied()
    }

    /// What the per-class defaults do with this class: retry it, stop, or hand it to a person.
    pub fn default_disposition(self) -> Disposition {
        match self {
            ErrorClass::ClientError
            | ErrorClass::Auth
            | ErrorClass::NotFound
            | ErrorClass::Validation
            | ErrorClass::Cancelled => Disposition::GiveUp,
            ErrorClass::NeedsHuman => Disposition::Escalate,
            _ => Disposition::Retry,
        }
    }

    /// True where retrying can help by default. Permanent classes win over transient ones when
    /// several classification rules match.
    pub fn is_retryable(self) -> bool {
        self.default_disposition() == Disposition::Retry
    }
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ErrorClass {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let norm = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        ErrorClass::ALL
            .into_iter()
            .find(|c| c.as_str() == norm)
            .or(match norm.as_str() {
                "rate_limit" | "throttled" | "429" => Some(ErrorClass::RateLimited),
                "5xx" => Some(ErrorClass::ServerError),
                "permanent" => Some(ErrorClass::ClientError),
                _ => None,
            })
            .ok_or_else(|| Error::UnknownClass(s.to_string()))
    }
}

/// Documented variants make the class's JSON Schema a `oneOf` of described names; a plain `enum`
/// of the names beside it keeps a map keyed by class (the policy's `classes`) listing its keys
/// instead of accepting any string.
#[cfg(feature = "schema")]
fn with_name_enum(schema: &mut schemars::Schema) {
    let names: Vec<&str> = ErrorClass::ALL.iter().map(|c| c.as_str()).collect();
    schema.insert("type".into(), "string".into());
    schema.insert("enum".into(), names.into());
}

/// What to do with a class of failure.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// Retry, bounded by the guardrails.
    Retry,
    /// Stop at once: retrying cannot help.
    GiveUp,
    /// Stop and hand the work to a person (captcha, consent, manual review).
    Escalate,
}

impl Disposition {
    /// The snake_case name used in policy files, JSON and every binding.
    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::Retry => "retry",
            Disposition::GiveUp => "give_up",
            Disposition::Escalate => "escalate",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for c in ErrorClass::ALL {
            assert_eq!(c.as_str().parse::<ErrorClass>().unwrap(), c);
            assert_eq!(ErrorClass::from_code(c as u32), Some(c));
        }
        assert_eq!(
            "Rate-Limited".parse::<ErrorClass>().unwrap(),
            ErrorClass::RateLimited
        );
        assert!(matches!(
            "bogus".parse::<ErrorClass>(),
            Err(Error::UnknownClass(_))
        ));
    }

    #[test]
    fn permanent_classes_are_not_retryable() {
        assert!(!ErrorClass::Validation.is_retryable());
        assert!(!ErrorClass::Auth.is_retryable());
        assert_eq!(
            ErrorClass::NeedsHuman.default_disposition(),
            Disposition::Escalate
        );
        assert!(ErrorClass::Unavailable.is_retryable());
    }
}
