//! The learned tier from Python: the attempt context (a dict in the core's JSON form, read by
//! `AttemptContext::from_json`), model files, and per-queue rollout control. Translation only:
//! validation, parsing and the rollout's rules are the core's.

use crate::convert::{from_json, json_text};
use crate::engine::PyEngine;
use crate::episode::PyEpisode;
use crate::errors::to_py;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyMapping, PyString};
use serde_json::{Map, Number, Value};
use smartretry::learned::RolloutStatus;
use smartretry::{AttemptContext, Error, RolloutConfig, RolloutMode};
use std::path::PathBuf;

fn bad(msg: String) -> PyErr {
    to_py(Error::InvalidConfig(format!("attempt context: {msg}")))
}

/// One context value as JSON. A non-finite number has no JSON form: for the latency it is the
/// core's `InvalidDuration` (as a negative one is), anything else names the field.
fn value(key: &str, v: &Bound<'_, PyAny>) -> PyResult<Value> {
    if v.is_none() {
        return Ok(Value::Null);
    }
    if v.is_instance_of::<PyBool>() {
        return Ok(Value::Bool(v.extract()?));
    }
    if v.is_instance_of::<PyInt>() {
        if let Ok(i) = v.extract::<i64>() {
            return Ok(Value::from(i));
        }
        if let Ok(u) = v.extract::<u64>() {
            return Ok(Value::from(u));
        }
        return Err(bad(format!("{key} is out of range")));
    }
    if v.is_instance_of::<PyFloat>() {
        let f: f64 = v.extract()?;
        return match Number::from_f64(f) {
            Some(n) => Ok(Value::Number(n)),
            None if key == "downstream_latency" => smartretry::time::secs("downstream_latency", f)
                .map_err(to_py)
                .and(Err(bad(format!("{key} is {f}")))),
            None => Err(bad(format!("{key} must be a finite number, got {f}"))),
        };
    }
    if let Ok(s) = v.cast::<PyString>() {
        return Ok(Value::String(s.extract()?));
    }
    Err(bad(format!(
        "{key} must be a number or a string, not {}",
        v.get_type().name()?
    )))
}

/// A context argument: a mapping with the JSON form's keys (`queue_depth`, `downstream_latency`
/// in seconds, ...). Unknown keys, impossible values: the core's typed errors.
pub fn context_of(obj: &Bound<'_, PyAny>) -> PyResult<AttemptContext> {
    let Ok(mapping) = obj.cast::<PyMapping>() else {
        return Err(bad(format!(
            "must be a dict, not {}",
            obj.get_type().name()?
        )));
    };
    let mut map = Map::new();
    for item in mapping.items()?.iter() {
        let (k, v): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract()?;
        let Ok(k) = k.extract::<String>() else {
            return Err(bad("keys must be strings".into()));
        };
        let v = value(&k, &v)?;
        map.insert(k, v);
    }
    let text = serde_json::to_string(&Value::Object(map)).map_err(|e| bad(e.to_string()))?;
    AttemptContext::from_json(&text).map_err(to_py)
}

/// An episode, with the attempt context when one is given (None: none).
pub fn begin(
    engine: &smartretry::Engine,
    key: &str,
    tenant: Option<&str>,
    context: Option<&Bound<'_, PyAny>>,
) -> PyResult<smartretry::Episode> {
    match context.filter(|c| !c.is_none()) {
        Some(c) => engine.begin_with_context(key, tenant, context_of(c)?),
        None => engine.begin(key, tenant),
    }
    .map_err(to_py)
}

/// A rollout status as a dict, its mode in the form `set_rollout` reads (`"canary:0.2"`).
fn status<'py>(py: Python<'py>, s: &RolloutStatus) -> PyResult<Bound<'py, PyAny>> {
    let mut v = serde_json::to_value(s).unwrap_or(Value::Null);
    if let Some(obj) = v.as_object_mut() {
        obj.insert("mode".into(), Value::String(s.mode.name()));
    }
    crate::convert::json_to_py(py, &v)
}

#[pymethods]
impl PyEngine {
    /// Load a learned-tier model file (`.srm`) for `queue`; returns its description (feature
    /// count and names, training info, metrics). A file that cannot be read is `SnapshotIOError`,
    /// a damaged or foreign one `InvalidModelError`; either way the queue's model is unchanged.
    /// The queue's rollout mode is unchanged (a new queue starts `"off"`).
    fn load_model<'py>(
        &self,
        py: Python<'py>,
        queue: &str,
        path: PathBuf,
    ) -> PyResult<Bound<'py, PyAny>> {
        let engine = &self.inner;
        let file = py
            .detach(|| engine.load_learned_model(queue, &path))
            .map_err(to_py)?;
        crate::convert::json_to_py(py, &file.describe())
    }

    /// Remove `queue`'s model: decisions its mode gives the learned tier fall back (Bayesian,
    /// heuristic, static), counted in `learned_stats()["fallbacks"]`.
    fn unload_model(&self, queue: &str) {
        self.inner.unload_learned_model(queue)
    }

    /// Set `queue`'s rollout: `"off"`, `"shadow"`, `"canary:0.2"` (`"canary"`: 10%) or `"full"`.
    /// Any mode but `"off"` needs a model loaded (`InvalidStateError`).
    fn set_rollout(&self, queue: &str, mode: &str) -> PyResult<()> {
        let mode = RolloutMode::parse(mode).map_err(to_py)?;
        self.inner.set_rollout(queue, mode).map_err(to_py)
    }

    /// Step `queue` up one mode (shadow → canary → full) if the evidence supports it; returns
    /// the new mode. Without the evidence: `InvalidStateError` saying what it shows.
    fn promote_rollout(&self, queue: &str) -> PyResult<String> {
        let mode = self.inner.promote_rollout(queue).map_err(to_py)?;
        Ok(mode.name())
    }

    /// Roll `queue` back to `"off"` at once (the manual rollback).
    fn rollback_rollout(&self, queue: &str) -> PyResult<()> {
        self.inner.rollback_rollout(queue).map_err(to_py)
    }

    /// Set `queue`'s promotion and rollback bounds, from a dict and/or keywords
    /// (`min_episodes`, `z`, `rollback_regression`, `auto_promote`, `canary_weight`,
    /// `canary_max_episodes`, `full_holdout`); missing
    /// ones take their defaults, unknown ones are refused.
    #[pyo3(signature = (queue, config=None, **kwargs))]
    fn set_rollout_config(
        &self,
        py: Python<'_>,
        queue: &str,
        config: Option<&Bound<'_, PyAny>>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        let text = match (config, kwargs.filter(|k| !k.is_empty())) {
            (Some(c), None) => json_text(c)?,
            (base, kw) => crate::convert::merged_json(py, base, kw)?,
        };
        let config = RolloutConfig::from_json(&text).map_err(to_py)?;
        self.inner.set_rollout_config(queue, config).map_err(to_py)
    }

    /// `queue`'s rollout as a dict (`queue`, `mode`, `model_loaded`, `evidence`, `verdict`,
    /// `last_change`), or None if the queue has no learned-tier state.
    fn rollout_status<'py>(
        &self,
        py: Python<'py>,
        queue: &str,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.inner
            .rollout_status(queue)
            .map(|s| status(py, &s))
            .transpose()
    }

    /// Every queue's rollout status, by queue name.
    fn rollouts<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        self.inner
            .rollouts()
            .iter()
            .map(|s| status(py, s))
            .collect()
    }

    /// The learned tier's counters: decisions, shadow_episodes, fallbacks, rollbacks,
    /// promotions.
    fn learned_stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let text = serde_json::to_string(&self.inner.learned_stats()).unwrap_or_default();
        from_json(py, &text)
    }
}

#[pymethods]
impl PyEpisode {
    /// Replace the attempt context (e.g. the latest queue depth before the next attempt), in
    /// the form `Engine.begin(context=...)` takes.
    fn set_context(&mut self, context: &Bound<'_, PyAny>) -> PyResult<()> {
        let ctx = context_of(context)?;
        self.inner.set_context(ctx).map_err(to_py)
    }

    /// The attempt context in force, as a dict (None when none was given).
    #[getter]
    fn context<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.inner
            .context()
            .map(|c| from_json(py, &c.to_json()))
            .transpose()
    }
}
