//! A failed attempt as the caller sees it: whatever signals it has (HTTP status, gRPC code, errno
//! name, exception type, message, Retry-After), before classification.

use crate::class::ErrorClass;
use crate::error::{Error, Result};
use crate::time::serde_opt_secs;
use serde::{Deserialize, Serialize};
use std::time::{Duration, UNIX_EPOCH};

/// What the caller knows about one failed attempt. Build it from any subset of signals.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Failure {
    /// HTTP status code (e.g. 503).
    pub http_status: Option<u16>,
    /// gRPC status code (0-16; e.g. 14 UNAVAILABLE).
    pub grpc_code: Option<u32>,
    /// An errno or error-code name (ECONNRESET, ETIMEDOUT, EAI_AGAIN, ...).
    pub error_code: Option<String>,
    /// An exception or error type name (TimeoutError, requests.exceptions.ConnectionError, ...).
    pub exception: Option<String>,
    /// The error message.
    pub message: Option<String>,
    /// How long the server asked us to wait (already parsed from Retry-After).
    #[serde(with = "serde_opt_secs")]
    pub retry_after: Option<Duration>,
    /// A class the caller already knows; skips the rules.
    pub class: Option<ErrorClass>,
    /// The downstream dependency that failed (circuit breakers are per dependency; defaults to
    /// the episode's key).
    pub dependency: Option<String>,
}

impl Failure {
    pub fn http(status: u16) -> Failure {
        Failure {
            http_status: Some(status),
            ..Failure::default()
        }
    }

    pub fn grpc(code: u32) -> Failure {
        Failure {
            grpc_code: Some(code),
            ..Failure::default()
        }
    }

    pub fn error_code(name: impl Into<String>) -> Failure {
        Failure {
            error_code: Some(name.into()),
            ..Failure::default()
        }
    }

    pub fn exception(type_name: impl Into<String>) -> Failure {
        Failure {
            exception: Some(type_name.into()),
            ..Failure::default()
        }
    }

    pub fn message(text: impl Into<String>) -> Failure {
        Failure {
            message: Some(text.into()),
            ..Failure::default()
        }
    }

    /// A failure whose class the caller already decided.
    pub fn class(class: ErrorClass) -> Failure {
        Failure {
            class: Some(class),
            ..Failure::default()
        }
    }

    pub fn with_message(mut self, text: impl Into<String>) -> Failure {
        self.message = Some(text.into());
        self
    }

    pub fn with_retry_after(mut self, wait: Duration) -> Failure {
        self.retry_after = Some(wait);
        self
    }

    /// Parse a raw Retry-After header value (delta-seconds or HTTP-date) against `now` (time since
    /// the Unix epoch, from the engine's clock).
    pub fn with_retry_after_header(mut self, value: &str, now: Duration) -> Result<Failure> {
        self.retry_after = Some(parse_retry_after(value, now)?);
        Ok(self)
    }

    pub fn on_dependency(mut self, dependency: impl Into<String>) -> Failure {
        self.dependency = Some(dependency.into());
        self
    }
}

/// Parse an HTTP Retry-After value: delta-seconds ("120", leniently "1.5") or an HTTP-date
/// ("Wed, 21 Oct 2015 07:28:00 GMT"), relative to `now`. A date in the past means "now".
pub fn parse_retry_after(value: &str, now: Duration) -> Result<Duration> {
    let v = value.trim();
    if v.is_empty() {
        return Err(Error::InvalidRetryAfter(value.to_string()));
    }
    if v.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let secs: f64 = v
            .parse()
            .map_err(|_| Error::InvalidRetryAfter(value.to_string()))?;
        return crate::time::secs("Retry-After", secs)
            .map_err(|_| Error::InvalidRetryAfter(value.to_string()));
    }
    let at =
        httpdate::parse_http_date(v).map_err(|_| Error::InvalidRetryAfter(value.to_string()))?;
    let at = at
        .duration_since(UNIX_EPOCH)
        .map_err(|_| Error::InvalidRetryAfter(value.to_string()))?;
    Ok(at.saturating_sub(now))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_delta_and_date() {
        let now = Duration::from_secs(1_445_412_480); // Wed, 21 Oct 2015 07:28:00 GMT
        assert_eq!(
            parse_retry_after("120", now).unwrap(),
            Duration::from_secs(120)
        );
        assert_eq!(
            parse_retry_after(" 1.5 ", now).unwrap(),
            Duration::from_millis(1500)
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:29:00 GMT", now).unwrap(),
            Duration::from_secs(60)
        );
        // a date in the past: retry now
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now).unwrap(),
            Duration::ZERO
        );
        for bad in ["", "soon", "-5", "1e400", "Wed, 99 Foo 2015"] {
            assert!(
                matches!(
                    parse_retry_after(bad, now),
                    Err(Error::InvalidRetryAfter(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn builders_compose() {
        let f = Failure::http(429)
            .with_retry_after(Duration::from_secs(3))
            .on_dependency("payments");
        assert_eq!(f.http_status, Some(429));
        assert_eq!(f.dependency.as_deref(), Some("payments"));
        let json = serde_json::to_string(&f).unwrap();
        assert_eq!(serde_json::from_str::<Failure>(&json).unwrap(), f);
    }
}
