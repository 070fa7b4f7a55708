//! A `Failure` from what Python code has: an exception (and its cause chain), an HTTP response
//! (`requests`, `httpx`, `urllib3`), a status code, an errno name, a message. Read natively so
//! that a failed attempt costs the decorator one native call (`Engine.record(episode, exc)`).

use crate::errors::to_py;
use crate::failure::PyFailure;
use pyo3::exceptions::{
    PyAttributeError, PyBaseException, PyOSError, PyOverflowError, PyTypeError,
};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyInt, PyString, PyTuple, PyType};
use smartretry::{check_grpc_code, check_http_status, parse_retry_after, Clock, Failure};

/// Most causes read from `__cause__` / `__context__` (the core's bound: it reads no more).
const MAX_CAUSES: usize = 16;

/// `errno.errorcode`, looked up once.
static ERRORCODE: PyOnceLock<Py<PyDict>> = PyOnceLock::new();
/// `module.QualName` per exception type (just `QualName` for builtins), computed once per type.
static TYPE_NAMES: PyOnceLock<Py<PyDict>> = PyOnceLock::new();
/// The builtin `getattr`: with a default it looks an attribute up without raising (and so
/// without building an `AttributeError`, which costs more than the rest of the read).
static GETATTR: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// `obj.name`, or `None` when it is missing or `None` (the same to every reader here).
fn attr<'py>(
    obj: &Bound<'py, PyAny>,
    name: &Bound<'py, PyString>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let py = obj.py();
    let getattr = GETATTR.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
        Ok(py.import("builtins")?.getattr("getattr")?.unbind())
    })?;
    let value = getattr.bind(py).call1((obj, name, py.None()))?;
    Ok(if value.is_none() { None } else { Some(value) })
}

/// `exc.name` for an attribute every exception has (`__cause__`, `__context__`,
/// `__suppress_context__`): looked up directly, which costs no call of `getattr` (an odd class
/// that deletes one reads as `None`, as through `attr`).
fn dunder<'py>(
    exc: &Bound<'py, PyAny>,
    name: &Bound<'py, PyString>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    match exc.getattr(name) {
        Ok(v) if v.is_none() => Ok(None),
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_instance_of::<PyAttributeError>(exc.py()) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The `Failure` a value stands for: a Failure (as is), an exception, an HTTP response, an HTTP
/// status (int), an errno / error-code name ("ECONNRESET") or a message (str).
pub fn failure_of(obj: &Bound<'_, PyAny>) -> PyResult<PyFailure> {
    if let Ok(f) = obj.cast::<PyFailure>() {
        return Ok(f.get().clone());
    }
    let py = obj.py();
    if obj.is_instance_of::<PyBaseException>() {
        return exception(obj);
    }
    if obj.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err("cannot make a Failure from a bool"));
    }
    if obj.is_instance_of::<PyInt>() {
        return PyFailure::new(Some(obj), None, None, None, None, None, None, None, None);
    }
    if let Ok(s) = obj.cast::<PyString>() {
        let name_like = s.call_method0(intern!(py, "isupper"))?.is_truthy()?
            && s.call_method1(intern!(py, "replace"), ("_", ""))?
                .call_method0(intern!(py, "isalnum"))?
                .is_truthy()?;
        let text: String = s.extract()?;
        let f = if name_like {
            Failure::error_code(text)
        } else {
            Failure::message(text)
        };
        return PyFailure::checked(f, None);
    }
    response(obj)
}

/// A failure argument of an engine call: a `Failure` borrowed as given, or one read from what
/// the caller had (an exception, a response...).
pub enum FailureArg<'a, 'py> {
    Given(&'a Bound<'py, PyFailure>),
    Read(PyFailure),
}

impl<'a, 'py> FailureArg<'a, 'py> {
    pub fn new(obj: &'a Bound<'py, PyAny>) -> PyResult<Self> {
        match obj.cast::<PyFailure>() {
            Ok(f) => Ok(FailureArg::Given(f)),
            Err(_) => failure_of(obj).map(FailureArg::Read),
        }
    }

    pub fn get(&self) -> &PyFailure {
        match self {
            FailureArg::Given(f) => f.get(),
            FailureArg::Read(f) => f,
        }
    }
}

/// A `Failure` from a Failure, an exception, an HTTP response, an HTTP status (int), or an
/// errno / error-code name ("ECONNRESET") or message (str).
#[pyfunction]
pub fn failure_from<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyFailure>> {
    if let Ok(f) = obj.cast::<PyFailure>() {
        return Ok(f.clone());
    }
    Bound::new(obj.py(), failure_of(obj)?)
}

/// A failure from an exception and its cause chain (`__cause__` / `__context__`), so the core's
/// classifier sees the most specific signal anywhere in it: a `requests` `ConnectionError`
/// wrapping urllib3's wrapping `ConnectionRefusedError` is `connection` by its errno even though
/// the outer type name is generic.
#[pyfunction]
pub fn from_exception(exc: &Bound<'_, PyAny>) -> PyResult<PyFailure> {
    exception(exc)
}

/// A failure from an HTTP response: its status (checked by the core: 100-599) and its
/// Retry-After header (ignored when it is neither delta-seconds nor an HTTP-date).
#[pyfunction]
pub fn from_response(response: &Bound<'_, PyAny>) -> PyResult<PyFailure> {
    self::response(response)
}

fn response(obj: &Bound<'_, PyAny>) -> PyResult<PyFailure> {
    let Some((status, retry_after)) = status_and_retry_after(obj)? else {
        return Err(PyTypeError::new_err(format!(
            "not an HTTP response (no integer status): {}",
            obj.repr()?
        )));
    };
    let f = Failure::http(check_http_status(status).map_err(to_py)?);
    match retry_after {
        Some(h) if valid_retry_after(&h) => PyFailure::checked(f, Some(h)),
        Some(h) => {
            debug(obj.py(), format!("ignoring invalid Retry-After {h:?}"));
            PyFailure::checked(f, None)
        }
        None => PyFailure::checked(f, None),
    }
}

fn exception(exc: &Bound<'_, PyAny>) -> PyResult<PyFailure> {
    let mut causes = Vec::new();
    for c in chain(exc)? {
        causes.push(single(&c, Vec::new())?.inner);
    }
    single(exc, causes)
}

/// The exceptions behind `exc`, outermost first: `__cause__`, else `__context__` unless
/// suppressed (`raise ... from None`); cycles and overly long chains are cut.
fn chain<'py>(exc: &Bound<'py, PyAny>) -> PyResult<Vec<Bound<'py, PyAny>>> {
    let py = exc.py();
    let mut out: Vec<Bound<'py, PyAny>> = Vec::new();
    let mut cur = exc.clone();
    while out.len() < MAX_CAUSES {
        let mut next = dunder(&cur, intern!(py, "__cause__"))?;
        if next.is_none() {
            let suppressed = match dunder(&cur, intern!(py, "__suppress_context__"))? {
                Some(s) => s.is_truthy()?,
                None => false,
            };
            next = if suppressed {
                None
            } else {
                dunder(&cur, intern!(py, "__context__"))?
            };
        }
        let Some(n) = next.filter(|n| !n.is_none()) else {
            break;
        };
        if n.is(exc) || out.iter().any(|o| o.is(&n)) {
            break;
        }
        out.push(n.clone());
        cur = n;
    }
    Ok(out)
}

/// One exception's own signals, read without raising: what it has that the core refuses.
#[derive(Default)]
struct Signals {
    http_status: Option<i64>,
    grpc_code: Option<i64>,
    error_code: Option<String>,
    exception: Option<String>,
    message: Option<String>,
    retry_after: Option<String>,
}

/// One exception's own signals (no chain): type name, message, errno / code name, gRPC code,
/// and (`requests.HTTPError` / `httpx.HTTPStatusError`) the response's status and Retry-After.
/// A signal the core refuses (an odd `code` attribute, a status outside 100-599) is dropped
/// rather than replacing the caller's exception with ours.
fn single(exc: &Bound<'_, PyAny>, causes: Vec<Failure>) -> PyResult<PyFailure> {
    let py = exc.py();
    let mut s = Signals {
        exception: Some(type_name(&exc.get_type())?),
        message: exc
            .str()
            .ok()
            .and_then(|m| m.to_cow().ok().map(|c| c.into_owned())),
        ..Signals::default()
    };
    s.message = s.message.filter(|m| !m.is_empty());
    if let Some(resp) = attr(exc, intern!(py, "response"))? {
        if !resp.is_none() {
            if let Some((status, ra)) = status_and_retry_after(&resp)? {
                s.http_status = Some(status);
                s.retry_after = ra;
            }
        }
    }
    s.error_code = error_code(exc)?;
    s.grpc_code = grpc_code(exc);
    let statuses = (
        s.http_status.map(check_http_status).transpose(),
        s.grpc_code.map(check_grpc_code).transpose(),
    );
    if let (Ok(http_status), Ok(grpc_code)) = statuses {
        if s.retry_after.as_deref().is_none_or(valid_retry_after) {
            let all = Failure {
                http_status,
                grpc_code,
                error_code: s.error_code.clone(),
                exception: s.exception.clone(),
                message: s.message.clone(),
                causes: causes.clone(),
                ..Failure::default()
            };
            if let Ok(inner) = all.normalized() {
                return Ok(PyFailure {
                    inner,
                    retry_after_header: s.retry_after,
                });
            }
        }
    }
    kept_signals(exc, s, causes)
}

/// The slow path of an odd exception: keep only the signals the core accepts one by one.
fn kept_signals(exc: &Bound<'_, PyAny>, s: Signals, causes: Vec<Failure>) -> PyResult<PyFailure> {
    let py = exc.py();
    let drop = |field: &str, value: &dyn std::fmt::Debug| {
        let shown = exc.repr().map(|r| r.to_string()).unwrap_or_default();
        debug(py, format!("ignoring {field}={value:?} of {shown}"));
    };
    let accepted = |f: Failure| f.normalized().is_ok();
    let mut f = Failure::default();
    match s.http_status.map(|v| (v, check_http_status(v))) {
        Some((_, Ok(v))) => f.http_status = Some(v),
        Some((v, Err(_))) => drop("http_status", &v),
        None => {}
    }
    match s.grpc_code.map(|v| (v, check_grpc_code(v))) {
        Some((_, Ok(v))) => f.grpc_code = Some(v),
        Some((v, Err(_))) => drop("grpc_code", &v),
        None => {}
    }
    if let Some(v) = s.error_code {
        if accepted(Failure::error_code(v.clone())) {
            f.error_code = Some(v);
        } else {
            drop("error_code", &v);
        }
    }
    if let Some(v) = s.exception {
        if accepted(Failure::exception(v.clone())) {
            f.exception = Some(v);
        } else {
            drop("exception", &v);
        }
    }
    if let Some(v) = s.message.clone() {
        if accepted(Failure::message(v.clone())) {
            f.message = Some(v);
        } else {
            drop("message", &v);
        }
    }
    let header = match s.retry_after {
        Some(v) if valid_retry_after(&v) => Some(v),
        Some(v) => {
            drop("retry_after", &v);
            None
        }
        None => None,
    };
    let with_causes = Failure {
        causes,
        ..f.clone()
    };
    if let Ok(inner) = with_causes.normalized() {
        return Ok(PyFailure {
            inner,
            retry_after_header: header,
        });
    }
    match f.normalized() {
        Ok(inner) => Ok(PyFailure {
            inner,
            retry_after_header: header,
        }),
        Err(_) => PyFailure::checked(Failure::message(s.message.unwrap_or_default()), None),
    }
}

/// `(status, Retry-After)` of an HTTP response: `status_code` or `status` (an int, not a bool;
/// saturated beyond `i64` so the core still refuses it), and its Retry-After header, stripped
/// (an odd headers object has none). `None` when there is no integer status.
fn status_and_retry_after(resp: &Bound<'_, PyAny>) -> PyResult<Option<(i64, Option<String>)>> {
    let py = resp.py();
    let mut status = attr(resp, intern!(py, "status_code"))?;
    if status.as_ref().is_none_or(|s| s.is_none()) {
        status = attr(resp, intern!(py, "status"))?;
    }
    let Some(status) =
        status.filter(|s| s.is_instance_of::<PyInt>() && !s.is_instance_of::<PyBool>())
    else {
        return Ok(None);
    };
    let status = match status.extract::<i64>() {
        Ok(v) => v,
        Err(e) if e.is_instance_of::<PyOverflowError>(py) => {
            if status.gt(0)? {
                i64::MAX
            } else {
                i64::MIN
            }
        }
        Err(e) => return Err(e),
    };
    let mut retry_after = None;
    if let Some(headers) = attr(resp, intern!(py, "headers"))? {
        if !headers.is_none() {
            // An odd headers object (no `get`, or one that raises): no Retry-After.
            if let Ok(v) = headers.call_method1(intern!(py, "get"), (intern!(py, "Retry-After"),)) {
                if let Ok(v) = v.cast::<PyString>() {
                    let v = v.to_cow()?;
                    let v = v.trim();
                    if !v.is_empty() {
                        retry_after = Some(v.to_owned());
                    }
                }
            }
        }
    }
    Ok(Some((status, retry_after)))
}

/// Whether a Retry-After header value is delta-seconds or an HTTP-date.
fn valid_retry_after(value: &str) -> bool {
    parse_retry_after(value, smartretry::SystemClock::new().now()).is_ok()
}

/// The errno name of an `OSError` with an int errno, else a str `code` attribute.
fn error_code(exc: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
    let py = exc.py();
    if exc.is_instance_of::<PyOSError>() {
        if let Some(errno) = attr(exc, intern!(py, "errno"))? {
            if errno.is_instance_of::<PyInt>() {
                let codes = ERRORCODE.get_or_try_init(py, || -> PyResult<Py<PyDict>> {
                    let d = py.import("errno")?.getattr("errorcode")?;
                    Ok(d.cast_into::<PyDict>()?.unbind())
                })?;
                return match codes.bind(py).get_item(errno)? {
                    Some(name) => Ok(name.extract().ok()),
                    None => Ok(None),
                };
            }
        }
    }
    match attr(exc, intern!(py, "code"))? {
        Some(code) => match code.cast::<PyString>() {
            Ok(s) => Ok(Some(s.to_cow()?.into_owned())),
            Err(_) => Ok(None),
        },
        None => Ok(None),
    }
}

/// The gRPC status code of a `grpc.RpcError` (`exc.code().value[0]`), from a type whose module
/// names grpc; any failure to read it means it is not one.
fn grpc_code(exc: &Bound<'_, PyAny>) -> Option<i64> {
    let py = exc.py();
    let module = exc.get_type().getattr(intern!(py, "__module__")).ok()?;
    if !module
        .cast::<PyString>()
        .ok()?
        .to_cow()
        .ok()?
        .contains("grpc")
    {
        return None;
    }
    let code_fn = attr(exc, intern!(py, "code")).ok()??;
    if !code_fn.is_callable() {
        return None;
    }
    let value = code_fn.call0().ok()?.getattr(intern!(py, "value")).ok()?;
    let first = value.cast::<PyTuple>().ok()?.get_item(0).ok()?;
    if !first.is_instance_of::<PyInt>() {
        return None;
    }
    first.extract().ok()
}

/// `module.QualName` of an exception type (just `QualName` for builtins), cached per type.
fn type_name(cls: &Bound<'_, PyType>) -> PyResult<String> {
    let py = cls.py();
    let cache = TYPE_NAMES
        .get_or_init(py, || PyDict::new(py).unbind())
        .bind(py);
    if let Some(name) = cache.get_item(cls)? {
        return name.extract();
    }
    let module = match cls.getattr_opt(intern!(py, "__module__"))? {
        Some(m) => m.str()?.to_string(),
        None => "builtins".to_owned(),
    };
    let qual = match cls.getattr_opt(intern!(py, "__qualname__"))? {
        Some(q) => q.str()?.to_string(),
        None => cls.name()?.to_string(),
    };
    let name = if module == "builtins" {
        qual
    } else {
        format!("{module}.{qual}")
    };
    cache.set_item(cls, &name)?;
    Ok(name)
}

/// A debug line on the `smartretry` logger (only on the slow paths of odd inputs).
fn debug(py: Python<'_>, message: String) {
    let logged = py
        .import("logging")
        .and_then(|l| l.call_method1("getLogger", ("smartretry",)))
        .and_then(|log| log.call_method1("debug", ("%s", message)));
    if let Err(e) = logged {
        e.write_unraisable(py, None);
    }
}
