//! The bounds on a failure's signals, checked in the core so every binding rejects (or trims)
//! the same inputs the same way.

use super::{retry_after::MAX_RETRY_AFTER, Failure};
use crate::error::{Error, Result};
use crate::names::{name_problem, truncate_to};

/// Valid HTTP status codes (RFC 9110 defines 1xx-5xx; 0 or 65535 are a caller's bug).
pub const HTTP_STATUS_RANGE: std::ops::RangeInclusive<i64> = 100..=599;
/// Valid gRPC status codes (OK = 0 to UNAUTHENTICATED = 16).
pub const GRPC_CODE_RANGE: std::ops::RangeInclusive<i64> = 0..=16;
/// Longest message kept, in bytes: longer messages are truncated (on a character boundary),
/// not rejected, since a long stack trace is not the caller's mistake.
pub const MAX_MESSAGE_LEN: usize = 4096;
/// Deepest nesting of `causes` accepted (a cause of a cause of ... ).
pub const MAX_CAUSE_DEPTH: usize = 8;
/// Most failures accepted in one chain, the outermost one excluded.
pub const MAX_CAUSES: usize = 16;

/// An HTTP status given as any integer: 100..=599, or `Error::InvalidFailure` (no wrapping, so
/// 2^32+503 is not 503).
pub fn check_http_status(status: i64) -> Result<u16> {
    if HTTP_STATUS_RANGE.contains(&status) {
        u16::try_from(status).map_err(|_| invalid_http(status))
    } else {
        Err(invalid_http(status))
    }
}

fn invalid_http(status: i64) -> Error {
    Error::InvalidFailure(format!("HTTP status {status} is outside 100-599"))
}

/// A gRPC status code given as any integer: 0..=16, or `Error::InvalidFailure`.
pub fn check_grpc_code(code: i64) -> Result<u32> {
    if GRPC_CODE_RANGE.contains(&code) {
        u32::try_from(code).map_err(|_| invalid_grpc(code))
    } else {
        Err(invalid_grpc(code))
    }
}

fn invalid_grpc(code: i64) -> Error {
    Error::InvalidFailure(format!("gRPC code {code} is outside 0-16"))
}

/// Inlined: most failures leave these fields empty, and the check is then one comparison.
#[inline]
fn check_field(what: &str, value: &Option<String>) -> Result<()> {
    match value.as_deref().and_then(name_problem) {
        Some(problem) => Err(invalid_field(what, problem)),
        None => Ok(()),
    }
}

#[cold]
fn invalid_field(what: &str, problem: String) -> Error {
    Error::InvalidFailure(format!("{what} {problem}"))
}

impl Failure {
    /// Check every signal, in this failure and its causes: HTTP status 100-599, gRPC code 0-16,
    /// `error_code`, `exception` and `dependency` non-empty, at most 512 bytes and free of
    /// control characters, at most [`MAX_CAUSE_DEPTH`] levels and [`MAX_CAUSES`] causes.
    /// Over-long messages and Retry-After values are not errors: [`Failure::normalized`] trims
    /// them. Errors are `Error::InvalidFailure`.
    pub fn validate(&self) -> Result<()> {
        let mut count = 0;
        self.validate_at(0, &mut count)
    }

    fn validate_at(&self, depth: usize, count: &mut usize) -> Result<()> {
        if let Some(s) = self.http_status {
            check_http_status(i64::from(s))?;
        }
        if let Some(c) = self.grpc_code {
            check_grpc_code(i64::from(c))?;
        }
        check_field("error_code", &self.error_code)?;
        check_field("exception", &self.exception)?;
        check_field("dependency", &self.dependency)?;
        if !self.causes.is_empty() && depth >= MAX_CAUSE_DEPTH {
            return Err(Error::InvalidFailure(format!(
                "cause chain deeper than {MAX_CAUSE_DEPTH}"
            )));
        }
        for cause in &self.causes {
            *count += 1;
            if *count > MAX_CAUSES {
                return Err(Error::InvalidFailure(format!(
                    "more than {MAX_CAUSES} causes"
                )));
            }
            cause.validate_at(depth + 1, count)?;
        }
        Ok(())
    }

    /// This failure, validated, with messages cut to [`MAX_MESSAGE_LEN`] bytes and Retry-After
    /// clamped to [`MAX_RETRY_AFTER`], in every cause too. What bindings should hand the engine.
    pub fn normalized(mut self) -> Result<Failure> {
        self.validate()?;
        self.trim();
        Ok(self)
    }

    fn trim(&mut self) {
        if let Some(m) = &mut self.message {
            truncate_to(m, MAX_MESSAGE_LEN);
        }
        if let Some(wait) = &mut self.retry_after {
            *wait = (*wait).min(MAX_RETRY_AFTER);
        }
        for cause in &mut self.causes {
            cause.trim();
        }
    }

    /// Parse a failure from its JSON form and normalize it: `Error::InvalidJson` when it does
    /// not fit the structure, `Error::InvalidFailure` / `Error::InvalidDuration` when a value is
    /// out of range, `Error::UnknownClass` for an unknown `class` name.
    pub fn from_json(json: &str) -> Result<Failure> {
        let mut value: serde_json::Value = serde_json::from_str(json)?;
        canonical_classes(&mut value, 0)?;
        let failure: Failure = serde_json::from_value(value)?;
        failure.normalized()
    }
}

/// Replace each `class` name (in the chain too) by its canonical form, so aliases such as
/// "rate-limit" are accepted and an unknown name is `Error::UnknownClass`, not a JSON error.
/// Only objects are failures (serde would also read a struct from an array).
fn canonical_classes(value: &mut serde_json::Value, depth: usize) -> Result<()> {
    if !value.is_object() {
        return Err(Error::InvalidJson("a failure must be a JSON object".into()));
    }
    if depth > MAX_CAUSE_DEPTH {
        return Ok(()); // validation reports the depth
    }
    if let Some(class) = value.get_mut("class") {
        if let Some(name) = class.as_str() {
            let parsed: crate::class::ErrorClass = name.parse()?;
            *class = serde_json::Value::from(parsed.as_str());
        }
    }
    if let Some(causes) = value.get_mut("causes").and_then(|c| c.as_array_mut()) {
        for cause in causes {
            canonical_classes(cause, depth + 1)?;
        }
    }
    Ok(())
}
