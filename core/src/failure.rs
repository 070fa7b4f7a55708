//! A failed attempt as the caller sees it: whatever signals it has (HTTP status, gRPC code, errno
//! name, exception type, message, Retry-After, the errors that caused it), before
//! classification. Bounds live in `validate`, Retry-After parsing in `retry_after`.

mod retry_after;
mod validate;

pub use retry_after::{parse_retry_after, retry_after_secs, MAX_RETRY_AFTER};
pub use validate::{
    check_grpc_code, check_http_status, GRPC_CODE_RANGE, HTTP_STATUS_RANGE, MAX_CAUSES,
    MAX_CAUSE_DEPTH, MAX_MESSAGE_LEN,
};

use crate::class::ErrorClass;
use crate::error::Result;
use retry_after::serde_retry_after;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// What the caller knows about one failed attempt. Build it from any subset of signals.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
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
    /// How long the server asked us to wait (already parsed from Retry-After), in seconds in
    /// JSON; clamped to [`MAX_RETRY_AFTER`].
    #[serde(with = "serde_retry_after")]
    pub retry_after: Option<Duration>,
    /// A class the caller already knows; skips the rules.
    pub class: Option<ErrorClass>,
    /// The downstream dependency that failed (circuit breakers are per dependency; defaults to
    /// the episode's key).
    pub dependency: Option<String>,
    /// The errors that caused this one, outermost first: Node's `err.cause` (and each cause's
    /// cause), Python's `__cause__` or else `__context__`. Bindings may give them as a flat
    /// list (the usual case) or nested; the classifier reads the whole chain, so an errno in a
    /// cause beats a generic exception name on top (undici's `TypeError: fetch failed`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<Failure>,
}

impl Failure {
    /// A failure with this HTTP status (checked when recorded; `Failure::try_http` checks at once).
    pub fn http(status: u16) -> Failure {
        Failure {
            http_status: Some(status),
            ..Failure::default()
        }
    }

    /// A failure with this gRPC status code (checked when recorded; `Failure::try_grpc` checks at
    /// once).
    pub fn grpc(code: u32) -> Failure {
        Failure {
            grpc_code: Some(code),
            ..Failure::default()
        }
    }

    /// A failure with an HTTP status given as any integer: `Error::InvalidFailure` outside
    /// 100-599 (bindings pass the caller's raw number here; it is never wrapped to 16 bits).
    pub fn try_http(status: i64) -> Result<Failure> {
        Ok(Failure::http(check_http_status(status)?))
    }

    /// A failure with a gRPC status code given as any integer: `Error::InvalidFailure` outside
    /// 0-16.
    pub fn try_grpc(code: i64) -> Result<Failure> {
        Ok(Failure::grpc(check_grpc_code(code)?))
    }

    /// A failure with this errno / error-code name (e.g. "ECONNRESET").
    pub fn error_code(name: impl Into<String>) -> Failure {
        Failure {
            error_code: Some(name.into()),
            ..Failure::default()
        }
    }

    /// A failure raised as this exception type (e.g. "requests.exceptions.ReadTimeout").
    pub fn exception(type_name: impl Into<String>) -> Failure {
        Failure {
            exception: Some(type_name.into()),
            ..Failure::default()
        }
    }

    /// A failure known only by its message (matched by the message rules).
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

    /// The same failure with its message set.
    pub fn with_message(mut self, text: impl Into<String>) -> Failure {
        self.message = Some(text.into());
        self
    }

    /// The same failure with the server's Retry-After wait.
    pub fn with_retry_after(mut self, wait: Duration) -> Failure {
        self.retry_after = Some(wait);
        self
    }

    /// Parse a raw Retry-After header value (delta-seconds or HTTP-date) against `now` (time since
    /// the Unix epoch, from the engine's clock); see [`parse_retry_after`] for the bounds.
    pub fn with_retry_after_header(mut self, value: &str, now: Duration) -> Result<Failure> {
        self.retry_after = Some(parse_retry_after(value, now)?);
        Ok(self)
    }

    /// Retry-After in seconds from a caller: NaN, infinite or negative is
    /// `Error::InvalidDuration`; above [`MAX_RETRY_AFTER`] it is clamped.
    pub fn with_retry_after_secs(mut self, secs: f64) -> Result<Failure> {
        self.retry_after = Some(retry_after_secs(secs)?);
        Ok(self)
    }

    /// The same failure, attributed to `dependency` (keys its circuit breaker and rate limiter).
    pub fn on_dependency(mut self, dependency: impl Into<String>) -> Failure {
        self.dependency = Some(dependency.into());
        self
    }

    /// Add the next cause in the chain (call it outermost first).
    pub fn with_cause(mut self, cause: Failure) -> Failure {
        self.causes.push(cause);
        self
    }

    /// This failure, then its causes depth first, outermost first; at most
    /// [`MAX_CAUSE_DEPTH`] levels and [`MAX_CAUSES`] causes, whatever the chain holds.
    pub fn chain(&self) -> Chain<'_> {
        Chain {
            first: Some(self),
            stack: Vec::new(),
            seen: 0,
        }
    }
}

/// Iterator over a failure and its causes; see [`Failure::chain`].
#[derive(Debug)]
pub struct Chain<'a> {
    first: Option<&'a Failure>,
    /// Causes still to visit, with their depth, in reverse order.
    stack: Vec<(&'a Failure, usize)>,
    seen: usize,
}

impl<'a> Chain<'a> {
    fn push_causes(&mut self, f: &'a Failure, depth: usize) {
        if depth < MAX_CAUSE_DEPTH {
            self.stack
                .extend(f.causes.iter().rev().map(|c| (c, depth + 1)));
        }
    }
}

impl<'a> Iterator for Chain<'a> {
    type Item = &'a Failure;

    fn next(&mut self) -> Option<&'a Failure> {
        if let Some(f) = self.first.take() {
            self.push_causes(f, 0);
            return Some(f);
        }
        if self.seen >= MAX_CAUSES {
            return None;
        }
        let (f, depth) = self.stack.pop()?;
        self.seen += 1;
        self.push_causes(f, depth);
        Some(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn builders_compose() {
        let f = Failure::http(429)
            .with_retry_after(Duration::from_secs(3))
            .on_dependency("payments")
            .with_cause(Failure::error_code("ECONNRESET"));
        assert_eq!(f.http_status, Some(429));
        assert_eq!(f.dependency.as_deref(), Some("payments"));
        let json = serde_json::to_string(&f).unwrap();
        assert_eq!(serde_json::from_str::<Failure>(&json).unwrap(), f);
        assert_eq!(Failure::from_json(&json).unwrap(), f);
        // no causes: the key is left out, and old JSON without it still loads
        let plain = serde_json::to_string(&Failure::http(503)).unwrap();
        assert!(!plain.contains("causes"), "{plain}");
    }

    /// Regression (issue 10): HTTP status 0, 65535 and 2^32+503 (which wrapped to 503), gRPC 99.
    #[test]
    fn status_and_code_ranges() {
        assert_eq!(Failure::try_http(503).unwrap(), Failure::http(503));
        assert!(Failure::try_http(100).is_ok() && Failure::try_http(599).is_ok());
        for bad in [
            0,
            99,
            600,
            999,
            65535,
            -503,
            (1 << 32) + 503,
            i64::MIN,
            i64::MAX,
        ] {
            let err = Failure::try_http(bad).unwrap_err();
            assert_eq!(err.code(), "INVALID_FAILURE", "{bad}");
        }
        assert_eq!(
            Failure::http(0).validate().unwrap_err().code(),
            "INVALID_FAILURE"
        );
        assert_eq!(
            Failure::http(65535).validate().unwrap_err().code(),
            "INVALID_FAILURE"
        );
        assert!(Failure::try_grpc(0).is_ok() && Failure::try_grpc(16).is_ok());
        for bad in [-1, 17, 99, 1 << 40] {
            assert_eq!(
                Failure::try_grpc(bad).unwrap_err().code(),
                "INVALID_FAILURE"
            );
        }
        assert!(Failure::grpc(99).validate().is_err());
    }

    /// Regression (issue 10): dependency names empty, with control characters, or 1 MB.
    #[test]
    fn names_are_checked() {
        for bad in ["", "a\u{0}b", "line\nbreak"] {
            for f in [
                Failure::error_code(bad),
                Failure::exception(bad),
                Failure::http(503).on_dependency(bad),
            ] {
                assert_eq!(f.validate().unwrap_err().code(), "INVALID_FAILURE", "{f:?}");
            }
        }
        let huge = "d".repeat(1 << 20);
        let err = Failure::http(503)
            .on_dependency(huge)
            .validate()
            .unwrap_err();
        assert!(matches!(err, Error::InvalidFailure(_)));
        assert!(err.to_string().len() < 200);
        // messages may be long and multi-line: they are cut, not rejected
        let long = format!("first line\n{}", "é".repeat(5000));
        let f = Failure::message(long).normalized().unwrap();
        let kept = f.message.unwrap();
        assert!(kept.len() <= MAX_MESSAGE_LEN && kept.starts_with("first line\n"));
    }

    #[test]
    fn bad_causes_are_found_and_chains_are_bounded() {
        let f = Failure::exception("TypeError").with_cause(Failure::http(0));
        assert_eq!(f.validate().unwrap_err().code(), "INVALID_FAILURE");
        let mut deep = Failure::error_code("ECONNRESET");
        for _ in 0..MAX_CAUSE_DEPTH {
            deep = Failure::exception("Wrapper").with_cause(deep);
        }
        assert!(deep.validate().is_ok());
        assert_eq!(deep.chain().count(), MAX_CAUSE_DEPTH + 1);
        let deeper = Failure::exception("Wrapper").with_cause(deep);
        assert!(deeper.validate().is_err());
        assert_eq!(deeper.chain().count(), MAX_CAUSE_DEPTH + 1);
        let mut wide = Failure::exception("AggregateError");
        for _ in 0..=MAX_CAUSES {
            wide = wide.with_cause(Failure::error_code("ECONNRESET"));
        }
        assert!(wide.validate().is_err());
        assert_eq!(wide.chain().count(), MAX_CAUSES + 1);
    }

    #[test]
    fn chain_order_is_outermost_first() {
        let f = Failure::exception("A")
            .with_cause(Failure::exception("B").with_cause(Failure::exception("C")))
            .with_cause(Failure::exception("D"));
        let names: Vec<_> = f.chain().filter_map(|f| f.exception.as_deref()).collect();
        assert_eq!(names, ["A", "B", "C", "D"]);
    }

    #[test]
    fn json_input_is_typed() {
        let code = |j: &str| Failure::from_json(j).unwrap_err().code();
        assert_eq!(code(r#"{"http_status": 0}"#), "INVALID_FAILURE");
        assert_eq!(code(r#"{"http_status": 70000}"#), "INVALID_JSON");
        assert_eq!(code(r#"{"http_status": 503.9}"#), "INVALID_JSON");
        assert_eq!(code(r#"{"http_status": true}"#), "INVALID_JSON");
        assert_eq!(code(r#"{"grpc_code": 99}"#), "INVALID_FAILURE");
        assert_eq!(code(r#"{"retry_after": -1}"#), "INVALID_JSON");
        assert_eq!(code(r#"{"class": "bogus"}"#), "UNKNOWN_CLASS");
        assert_eq!(code(r#"{"causes": [{"class": "bogus"}]}"#), "UNKNOWN_CLASS");
        assert_eq!(
            code(r#"{"causes": [{"http_status": 1}]}"#),
            "INVALID_FAILURE"
        );
        assert_eq!(code("[1, 2]"), "INVALID_JSON");
        let f = Failure::from_json(r#"{"class": "Rate-Limited", "retry_after": 1e12}"#).unwrap();
        assert_eq!(f.class, Some(ErrorClass::RateLimited));
        assert_eq!(f.retry_after, Some(MAX_RETRY_AFTER));
    }
}
