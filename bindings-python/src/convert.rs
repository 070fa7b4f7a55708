//! Small conversions shared by the classes: seconds, error classes, JSON through Python's `json`.

use crate::errors::{to_py, InvalidJsonError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use smartretry::ErrorClass;
use std::time::Duration;

/// Seconds from Python to a `Duration`, validated by the engine's rules.
pub fn secs(what: &'static str, value: f64) -> PyResult<Duration> {
    smartretry::time::secs(what, value).map_err(to_py)
}

pub fn class(name: &str) -> PyResult<ErrorClass> {
    name.parse::<ErrorClass>().map_err(to_py)
}

pub fn opt_class(name: Option<&str>) -> PyResult<Option<ErrorClass>> {
    name.map(class).transpose()
}

/// A policy-like argument (a JSON string, or a dict / list serialisable by `json`) as JSON text.
pub fn json_text(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(s) = obj.cast::<PyString>() {
        return s.extract::<String>();
    }
    if !obj.is_instance_of::<PyDict>() && obj.cast::<pyo3::types::PyMapping>().is_err() {
        return Err(InvalidJsonError::new_err(format!(
            "a policy must be a dict or JSON text, not {}",
            obj.get_type().name()?
        )));
    }
    let json = obj.py().import("json")?;
    json.call_method1("dumps", (obj,))
        .map_err(|e| InvalidJsonError::new_err(format!("invalid JSON: {e}")))?
        .extract()
}

/// JSON text (produced by the engine) as Python objects.
pub fn from_json<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    py.import("json")?.call_method1("loads", (text,))
}

/// A policy argument merged with keyword overrides, as JSON text.
pub fn merged_json(
    py: Python<'_>,
    base: Option<&Bound<'_, PyAny>>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<String> {
    let extra = kwargs.filter(|k| !k.is_empty());
    match (base, extra) {
        (None, None) => Ok("{}".to_owned()),
        (Some(b), None) => json_text(b),
        (base, Some(kw)) => {
            let merged = PyDict::new(py);
            if let Some(b) = base {
                let text = json_text(b)?;
                let parsed = from_json(py, &text)
                    .map_err(|e| InvalidJsonError::new_err(format!("invalid JSON: {e}")))?;
                let parsed = parsed
                    .cast_into::<PyDict>()
                    .map_err(|_| InvalidJsonError::new_err("a policy must be a JSON object"))?;
                merged.update(parsed.as_mapping())?;
            }
            merged.update(kw.as_mapping())?;
            json_text(merged.as_any())
        }
    }
}

pub fn opt_secs(d: Option<Duration>) -> Option<f64> {
    d.map(|d| d.as_secs_f64())
}

/// Largest accepted clock reading (seconds since the epoch): year 5138.
const MAX_EPOCH: f64 = 1e11;

/// A point in time (seconds since the Unix epoch) from Python.
pub fn epoch(what: &'static str, value: f64) -> PyResult<Duration> {
    if value.is_finite() && (0.0..=MAX_EPOCH).contains(&value) {
        Ok(Duration::from_secs_f64(value))
    } else {
        Err(to_py(smartretry::Error::InvalidDuration {
            what,
            value,
            max: MAX_EPOCH,
        }))
    }
}

/// A JSON value produced by the core as Python objects (dict, list, str, int, float, bool, None),
/// built directly: events are converted on every delivery, so no round trip through text.
pub fn json_to_py<'py>(py: Python<'py>, value: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
    use pyo3::types::PyList;
    use serde_json::Value;
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => pyo3::types::PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.into_pyobject(py)?.into_any(),
            (None, Some(u)) => u.into_pyobject(py)?.into_any(),
            _ => n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any(),
        },
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(json_to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let d = PyDict::new(py);
            for (k, v) in map {
                d.set_item(k, json_to_py(py, v)?)?;
            }
            d.into_any()
        }
    })
}
