//! A failed attempt as JS describes it, translated into the engine's `Failure`. Translation
//! only: every bound (HTTP 100-599, gRPC 0-16, names, cause chains, Retry-After) is the core's
//! (`Failure::normalized`), so Node refuses exactly what Rust, C and Python refuse.

use crate::error::OrJs;
use napi_derive::napi;
use smartretry::{ErrorClass, Failure};
use std::time::Duration;

/// What the caller knows about a failed attempt; any subset of the signals.
#[napi(object)]
#[derive(Default, Clone)]
pub struct FailureInput {
    /// HTTP status code (100-599). A number, so that 2**32+503 or 503.9 reach the core's check
    /// instead of being wrapped or truncated by the conversion to an integer type.
    pub status: Option<f64>,
    /// gRPC status code (0-16).
    pub grpc: Option<f64>,
    /// errno or error-code name (ECONNRESET, ETIMEDOUT, ...).
    pub code: Option<String>,
    /// Exception or error type name (TypeError, TimeoutError, ...).
    pub exception: Option<String>,
    /// The error message.
    pub message: Option<String>,
    /// Seconds the server asked to wait (already parsed); clamped to one day.
    pub retry_after: Option<f64>,
    /// A raw Retry-After header value (delta-seconds or HTTP-date).
    pub retry_after_header: Option<String>,
    /// A class the caller already knows (skips the rules): "rate_limited", "timeout", ...
    pub class: Option<String>,
    /// The dependency that failed (circuit breakers are per dependency).
    pub dependency: Option<String>,
    /// The errors that caused this one, outermost first (`err.cause`, AggregateError's
    /// `errors`): the classifier reads the whole chain, so `TypeError: fetch failed` caused by
    /// ECONNREFUSED is a connection failure.
    pub causes: Option<Vec<FailureInput>>,
}

impl FailureInput {
    /// A failure of the common signals only, as the "plain" hot-path calls pass them.
    pub(crate) fn plain(
        status: Option<f64>,
        code: Option<String>,
        exception: Option<String>,
        message: Option<String>,
        dependency: Option<String>,
    ) -> FailureInput {
        FailureInput {
            status,
            code,
            exception,
            message,
            dependency,
            ..FailureInput::default()
        }
    }
}

pub(crate) fn parse_class(name: &str) -> napi::Result<ErrorClass> {
    name.parse::<ErrorClass>().or_js()
}

/// A JS number as the integer the core checks; a fraction or a non-finite number is an invalid
/// failure (the core's code), never truncated.
fn integer(what: &str, value: f64) -> napi::Result<i64> {
    if value.is_finite() && value.fract() == 0.0 && value.abs() < 9.0e15 {
        Ok(value as i64)
    } else {
        Err(crate::error::engine_error(
            smartretry::Error::InvalidFailure(format!("{what} {value} is not an integer")),
        ))
    }
}

/// Translate one level (and its causes), parsing a Retry-After header against `now`.
fn translate(input: FailureInput, now: &dyn Fn() -> Duration) -> napi::Result<Failure> {
    let mut failure = Failure {
        error_code: input.code,
        exception: input.exception,
        message: input.message,
        class: input.class.as_deref().map(parse_class).transpose()?,
        dependency: input.dependency,
        ..Failure::default()
    };
    if let Some(s) = input.status {
        failure.http_status = Failure::try_http(integer("HTTP status", s)?)
            .or_js()?
            .http_status;
    }
    if let Some(c) = input.grpc {
        failure.grpc_code = Failure::try_grpc(integer("gRPC code", c)?)
            .or_js()?
            .grpc_code;
    }
    if let Some(secs) = input.retry_after {
        failure = failure.with_retry_after_secs(secs).or_js()?;
    }
    if let Some(header) = input.retry_after_header {
        failure = failure.with_retry_after_header(&header, now()).or_js()?;
    }
    for cause in input.causes.into_iter().flatten() {
        failure.causes.push(translate(cause, now)?);
    }
    Ok(failure)
}

/// Translate and hand over what the core says a binding should: validated, messages trimmed,
/// Retry-After clamped (`Failure::normalized`).
/// `now` is read only for a Retry-After HTTP date (a clock read is a system call's worth of time
/// on some machines, and most failures carry no date).
pub(crate) fn to_failure(input: FailureInput, now: &dyn Fn() -> Duration) -> napi::Result<Failure> {
    translate(input, now)?.normalized().or_js()
}

/// The core's failure back as JS's object (for `failureFromJson`): the same fields, Retry-After
/// in seconds.
pub(crate) fn to_input(failure: &Failure) -> FailureInput {
    FailureInput {
        status: failure.http_status.map(f64::from),
        grpc: failure.grpc_code.map(f64::from),
        code: failure.error_code.clone(),
        exception: failure.exception.clone(),
        message: failure.message.clone(),
        retry_after: failure.retry_after.map(|d| d.as_secs_f64()),
        retry_after_header: None,
        class: failure.class.map(|c| c.as_str().to_string()),
        dependency: failure.dependency.clone(),
        causes: (!failure.causes.is_empty()).then(|| failure.causes.iter().map(to_input).collect()),
    }
}
