//! `Failure`: what the caller knows about a failed attempt.

use crate::convert::{opt_class, opt_secs};
use crate::errors::{to_py, InvalidRetryAfterError};
use pyo3::exceptions::{PyOverflowError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyString};
use smartretry::{check_grpc_code, check_http_status, parse_retry_after, Failure};
use std::borrow::Cow;
use std::time::Duration;

/// A failed attempt, from any subset of signals. A Retry-After given as a header string (an
/// HTTP-date or delta-seconds) is resolved against the engine's clock when the engine uses it.
#[pyclass(module = "smartretry._native", name = "Failure", frozen)]
#[derive(Clone)]
pub struct PyFailure {
    pub inner: Failure,
    pub retry_after_header: Option<String>,
}

impl PyFailure {
    /// The failure with any Retry-After header resolved at `now` (read only then: most failures
    /// carry no header, and a clock read costs a little on every call).
    pub fn resolved(&self, now: impl FnOnce() -> Duration) -> PyResult<Cow<'_, Failure>> {
        match &self.retry_after_header {
            None => Ok(Cow::Borrowed(&self.inner)),
            Some(h) => {
                let f = self
                    .inner
                    .clone()
                    .with_retry_after_header(h, now())
                    .map_err(to_py)?;
                Ok(Cow::Owned(f))
            }
        }
    }
}

/// An integer argument, unwrapped and unclamped, for the core's checked constructors: a `bool`
/// or a non-integer (503.9, "503") is a `TypeError`; an int beyond `i64` saturates, so the core
/// still sees it as out of range (2**70 is never 0, 2**32+503 is never 503).
fn int_arg(what: &str, obj: &Bound<'_, PyAny>) -> PyResult<i64> {
    let type_error = || -> PyResult<i64> {
        Err(PyTypeError::new_err(format!(
            "{what} must be an int, not {}",
            obj.get_type().name()?
        )))
    };
    if obj.is_instance_of::<PyBool>() || obj.is_instance_of::<PyFloat>() {
        return type_error();
    }
    match obj.extract::<i64>() {
        Ok(v) => Ok(v),
        Err(e) if e.is_instance_of::<PyOverflowError>(obj.py()) => {
            Ok(if obj.gt(0)? { i64::MAX } else { i64::MIN })
        }
        Err(_) => type_error(),
    }
}

fn http_status(obj: &Bound<'_, PyAny>) -> PyResult<u16> {
    check_http_status(int_arg("http_status", obj)?).map_err(to_py)
}

fn grpc_code(obj: &Bound<'_, PyAny>) -> PyResult<u32> {
    check_grpc_code(int_arg("grpc_code", obj)?).map_err(to_py)
}

/// `f` with a Retry-After: seconds (a number: NaN or negative is refused, over a day clamped by
/// the core) or a header value (a str: syntax-checked now, resolved against the engine's clock
/// when used). A `bool` is a `TypeError`, not one second.
fn with_retry_after(f: Failure, ra: &Bound<'_, PyAny>) -> PyResult<(Failure, Option<String>)> {
    if let Ok(s) = ra.cast::<PyString>() {
        let s: String = s.extract()?;
        let now = smartretry::SystemClock::new();
        parse_retry_after(&s, smartretry::Clock::now(&now)).map_err(to_py)?;
        let f = Failure {
            retry_after: None,
            ..f
        };
        Ok((f, Some(s)))
    } else if ra.is_instance_of::<PyBool>() {
        Err(PyTypeError::new_err(
            "retry_after must be a number or a str, not bool",
        ))
    } else if ra.is_instance_of::<PyFloat>() || ra.is_instance_of::<PyInt>() {
        let secs: f64 = ra.extract()?;
        Ok((f.with_retry_after_secs(secs).map_err(to_py)?, None))
    } else {
        Err(InvalidRetryAfterError::new_err(
            "retry_after must be seconds (a number) or a Retry-After header value (a str)",
        ))
    }
}

impl PyFailure {
    /// A failure checked and trimmed by the core (`Failure::normalized`): every constructor ends
    /// here, so a bad name or chain is refused when the failure is made, not when it is recorded.
    pub(crate) fn checked(inner: Failure, retry_after_header: Option<String>) -> PyResult<Self> {
        Ok(PyFailure {
            inner: inner.normalized().map_err(to_py)?,
            retry_after_header,
        })
    }
}

#[pymethods]
impl PyFailure {
    /// Every signal is checked by the core: HTTP status 100-599 and gRPC code 0-16 as given
    /// (never wrapped; `bool` and floats are refused), names non-empty, at most 512 bytes and
    /// free of control characters, `causes` (outermost first) at most 16.
    #[new]
    #[pyo3(signature = (*, http_status=None, grpc_code=None, error_code=None, exception=None, message=None, retry_after=None, error_class=None, dependency=None, causes=None))]
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        http_status: Option<&Bound<'_, PyAny>>,
        grpc_code: Option<&Bound<'_, PyAny>>,
        error_code: Option<String>,
        exception: Option<String>,
        message: Option<String>,
        retry_after: Option<&Bound<'_, PyAny>>,
        error_class: Option<&str>,
        dependency: Option<String>,
        causes: Option<Vec<PyRef<'_, PyFailure>>>,
    ) -> PyResult<Self> {
        let mut f = Failure {
            http_status: http_status.map(self::http_status).transpose()?,
            grpc_code: grpc_code.map(self::grpc_code).transpose()?,
            error_code,
            exception,
            message,
            retry_after: None,
            class: opt_class(error_class)?,
            dependency,
            causes: causes
                .unwrap_or_default()
                .iter()
                .map(|c| c.inner.clone())
                .collect(),
        };
        let mut header = None;
        if let Some(ra) = retry_after {
            (f, header) = with_retry_after(f, ra)?;
        }
        Self::checked(f, header)
    }

    /// A failure from the core's JSON form (`{"http_status": 503, "causes": [...]}`), parsed,
    /// checked and normalized by the core, as the shared fixtures are.
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Self> {
        Ok(PyFailure {
            inner: Failure::from_json(text).map_err(to_py)?,
            retry_after_header: None,
        })
    }

    /// A copy with this Retry-After (seconds, or a header value resolved when used).
    fn with_retry_after(&self, retry_after: &Bound<'_, PyAny>) -> PyResult<Self> {
        let (f, header) = with_retry_after(self.inner.clone(), retry_after)?;
        Self::checked(f, header)
    }

    /// The failure in the core's JSON form.
    fn to_json(&self) -> String {
        serde_json::to_string(&self.inner).unwrap_or_default()
    }

    /// A failure with an HTTP status (and optionally the Retry-After header or seconds).
    #[staticmethod]
    #[pyo3(signature = (status, retry_after=None))]
    fn http(status: &Bound<'_, PyAny>, retry_after: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        Self::new(
            Some(status),
            None,
            None,
            None,
            None,
            retry_after,
            None,
            None,
            None,
        )
    }

    #[staticmethod]
    fn grpc(code: &Bound<'_, PyAny>) -> PyResult<Self> {
        Self::checked(Failure::grpc(self::grpc_code(code)?), None)
    }

    /// A failure named by an errno / error-code name (ECONNRESET, ETIMEDOUT, ...).
    #[staticmethod]
    fn code(name: String) -> PyResult<Self> {
        Self::checked(Failure::error_code(name), None)
    }

    /// A failure named by an exception type (its qualified name).
    #[staticmethod]
    #[pyo3(signature = (type_name, message=None, error_code=None))]
    fn exception_type(
        type_name: String,
        message: Option<String>,
        error_code: Option<String>,
    ) -> PyResult<Self> {
        let mut f = Failure::exception(type_name);
        f.message = message;
        f.error_code = error_code;
        Self::checked(f, None)
    }

    #[staticmethod]
    #[pyo3(name = "message_text")]
    fn from_message(text: String) -> PyResult<Self> {
        Self::checked(Failure::message(text), None)
    }

    /// A failure whose class the caller already knows.
    #[staticmethod]
    fn of_class(error_class: &str) -> PyResult<Self> {
        Ok(PyFailure {
            inner: Failure {
                class: opt_class(Some(error_class))?,
                ..Failure::default()
            },
            retry_after_header: None,
        })
    }

    /// The failures that caused this one, outermost first.
    #[getter]
    fn causes(&self) -> Vec<PyFailure> {
        self.inner
            .causes
            .iter()
            .map(|c| PyFailure {
                inner: c.clone(),
                retry_after_header: None,
            })
            .collect()
    }

    #[getter]
    fn http_status(&self) -> Option<u16> {
        self.inner.http_status
    }
    #[getter]
    fn grpc_code(&self) -> Option<u32> {
        self.inner.grpc_code
    }
    #[getter]
    fn error_code(&self) -> Option<&str> {
        self.inner.error_code.as_deref()
    }
    #[getter]
    fn exception(&self) -> Option<&str> {
        self.inner.exception.as_deref()
    }
    #[getter]
    fn message(&self) -> Option<&str> {
        self.inner.message.as_deref()
    }
    /// Retry-After in seconds when given as a number (a header string is resolved later).
    #[getter]
    fn retry_after(&self) -> Option<f64> {
        opt_secs(self.inner.retry_after)
    }
    #[getter]
    fn retry_after_header(&self) -> Option<&str> {
        self.retry_after_header.as_deref()
    }
    #[getter]
    fn error_class(&self) -> Option<&'static str> {
        self.inner.class.map(|c| c.as_str())
    }
    #[getter]
    fn dependency(&self) -> Option<&str> {
        self.inner.dependency.as_deref()
    }

    /// A copy against a named dependency (circuit breakers are per dependency).
    fn on_dependency(&self, dependency: String) -> PyResult<Self> {
        Self::checked(
            self.inner.clone().on_dependency(dependency),
            self.retry_after_header.clone(),
        )
    }

    fn __repr__(&self) -> String {
        let mut parts = Vec::new();
        let f = &self.inner;
        if let Some(s) = f.http_status {
            parts.push(format!("http_status={s}"));
        }
        if let Some(c) = f.grpc_code {
            parts.push(format!("grpc_code={c}"));
        }
        if let Some(c) = &f.error_code {
            parts.push(format!("error_code={c:?}"));
        }
        if let Some(e) = &f.exception {
            parts.push(format!("exception={e:?}"));
        }
        if let Some(m) = &f.message {
            parts.push(format!("message={m:?}"));
        }
        if let Some(r) = f.retry_after {
            parts.push(format!("retry_after={}", r.as_secs_f64()));
        }
        if let Some(h) = &self.retry_after_header {
            parts.push(format!("retry_after={h:?}"));
        }
        if let Some(c) = f.class {
            parts.push(format!("error_class={:?}", c.as_str()));
        }
        if let Some(d) = &f.dependency {
            parts.push(format!("dependency={d:?}"));
        }
        if !f.causes.is_empty() {
            parts.push(format!("causes={}", f.causes.len()));
        }
        format!("Failure({})", parts.join(", "))
    }
}

/// Parse a Retry-After header value (delta-seconds or HTTP-date) into seconds, relative to `now`
/// (seconds since the epoch; default: the system clock).
#[pyfunction]
#[pyo3(name = "parse_retry_after", signature = (value, now=None))]
pub fn py_parse_retry_after(value: &str, now: Option<f64>) -> PyResult<f64> {
    let now = match now {
        Some(n) => crate::convert::epoch("now", n)?,
        None => smartretry::Clock::now(&smartretry::SystemClock::new()),
    };
    parse_retry_after(value, now)
        .map(|d| d.as_secs_f64())
        .map_err(to_py)
}

/// Check a queue key (and tenant) by the core's rules, before any work is done: the decorator
/// and `attempts()` call it when they are set up, so a bad key never surfaces only after the
/// function body has run.
#[pyfunction]
#[pyo3(signature = (key, tenant=None))]
pub fn check_key(key: &str, tenant: Option<&str>) -> PyResult<()> {
    smartretry::names::check_name("key", key).map_err(to_py)?;
    if let Some(t) = tenant {
        smartretry::names::check_name("tenant", t).map_err(to_py)?;
    }
    Ok(())
}
