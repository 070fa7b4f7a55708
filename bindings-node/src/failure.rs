//! A failed attempt as JS describes it, translated into the engine's `Failure`.

use crate::error::{invalid_argument, seconds, OrJs};
use napi_derive::napi;
use smartretry::{ErrorClass, Failure};
use std::time::Duration;

/// What the caller knows about a failed attempt; any subset of the signals.
#[napi(object)]
#[derive(Default)]
pub struct FailureInput {
    /// HTTP status code (e.g. 503).
    pub status: Option<u32>,
    /// gRPC status code (0-16).
    pub grpc: Option<u32>,
    /// errno or error-code name (ECONNRESET, ETIMEDOUT, ...).
    pub code: Option<String>,
    /// Exception or error type name (TypeError, TimeoutError, ...).
    pub exception: Option<String>,
    /// The error message.
    pub message: Option<String>,
    /// Seconds the server asked to wait (already parsed).
    pub retry_after: Option<f64>,
    /// A raw Retry-After header value (delta-seconds or HTTP-date).
    pub retry_after_header: Option<String>,
    /// A class the caller already knows (skips the rules): "rate_limited", "timeout", ...
    pub class: Option<String>,
    /// The dependency that failed (circuit breakers are per dependency).
    pub dependency: Option<String>,
}

pub(crate) fn parse_class(name: &str) -> napi::Result<ErrorClass> {
    name.parse::<ErrorClass>().or_js()
}

/// Translate, parsing a Retry-After header against `now` (engine clock).
pub(crate) fn to_failure(input: FailureInput, now: Duration) -> napi::Result<Failure> {
    let http_status = match input.status {
        Some(s) => Some(
            u16::try_from(s)
                .ok()
                .filter(|s| (100..=999).contains(s))
                .ok_or_else(|| invalid_argument(format!("HTTP status {s} is out of range")))?,
        ),
        None => None,
    };
    let mut failure = Failure {
        http_status,
        grpc_code: input.grpc,
        error_code: input.code,
        exception: input.exception,
        message: input.message,
        retry_after: None,
        class: input.class.as_deref().map(parse_class).transpose()?,
        dependency: input.dependency,
        causes: Vec::new(),
    };
    if let Some(secs) = input.retry_after {
        failure.retry_after = Some(seconds("retryAfter", secs)?);
    }
    if let Some(header) = input.retry_after_header {
        failure = failure.with_retry_after_header(&header, now).or_js()?;
    }
    Ok(failure)
}

/// An HTTP failure from a status and an optional Retry-After header (the fetch fast path). A
/// malformed header from a server is ignored rather than failing the caller's retry loop.
pub(crate) fn http_failure(
    status: u32,
    retry_after: Option<&str>,
    now: Duration,
) -> napi::Result<Failure> {
    let failure = to_failure(
        FailureInput {
            status: Some(status),
            ..FailureInput::default()
        },
        now,
    )?;
    Ok(match retry_after {
        Some(v) => failure
            .clone()
            .with_retry_after_header(v, now)
            .unwrap_or(failure),
        None => failure,
    })
}
