//! `Engine`: the shareable retry engine. Decisions that may plan (recommend, preview; record on a
//! manual clock, whose plans are rebuilt inline) and snapshot I/O release the GIL; cheap
//! bookkeeping, and record on the system clock (plans rebuilt by the worker), keep it.

use crate::clock;
use crate::convert::{class, from_json, json_text, merged_json, opt_class, secs};
use crate::episode::PyEpisode;
use crate::errors::to_py;
use crate::extract::FailureArg;
use crate::failure::PyFailure;
use crate::observer::Observers;
use crate::recommendation::PyRecommendation;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use smartretry::{Engine, EpisodeLimits, Policy, PolicyPatch, Scope, Snapshot};
use std::path::PathBuf;

#[pyclass(module = "smartretry._native", name = "Engine", frozen)]
pub struct PyEngine {
    pub(crate) inner: Engine,
    clock: Py<PyAny>,
    manual: bool,
    /// Python observers, fed after each core call (see `observer.rs` for why not from inside).
    observers: Observers,
}

fn scope(queue: Option<String>, tenant: Option<String>) -> PyResult<Scope> {
    match (queue, tenant) {
        (Some(q), None) => Ok(Scope::Queue(q)),
        (None, Some(t)) => Ok(Scope::Tenant(t)),
        _ => Err(pyo3::exceptions::PyTypeError::new_err(
            "give exactly one of queue= or tenant=",
        )),
    }
}

/// A call's own caps (`attempts=`, `timeout=`) on its episode.
pub(crate) fn limit(
    ep: &mut smartretry::Episode,
    max_attempts: Option<u32>,
    deadline: Option<f64>,
) -> PyResult<()> {
    if max_attempts.is_some() || deadline.is_some() {
        let deadline = deadline.map(|d| secs("deadline", d)).transpose()?;
        ep.set_limits(EpisodeLimits {
            max_attempts,
            deadline,
        })
        .map_err(to_py)?;
    }
    Ok(())
}

impl PyEngine {
    /// Record a failed attempt (anything `failure_from` reads) and decide; observers fed.
    pub(crate) fn on_failure(
        &self,
        py: Python<'_>,
        ep: &mut smartretry::Episode,
        failure: &Bound<'_, PyAny>,
    ) -> PyResult<smartretry::Recommendation> {
        let failure = FailureArg::new(failure)?;
        let failure = failure.get().resolved(|| self.inner.now())?;
        let engine = &self.inner;
        // With the system clock plans are rebuilt on the engine's worker, so `on_failure` is
        // short and releasing the GIL would cost more than it frees; a manual clock rebuilds
        // inline (reproducible runs), which is worth letting other threads run.
        let result = if self.manual {
            py.detach(|| engine.on_failure(ep, &failure))
        } else {
            engine.on_failure(ep, &failure)
        };
        self.observers.deliver(py);
        result.map_err(to_py)
    }
}

#[pymethods]
impl PyEngine {
    /// An engine from a policy (a dict or JSON text, partial over the defaults) and/or keyword
    /// fields of the policy (`max_attempts=6`, `deadline=120`, `failure_cost=1`,
    /// `preset="request"`, `learning={...}`, `classes={...}`, `seed=7`, ...). Keywords merge
    /// deeply over the policy (dicts key by key, anything else replaces), as the core's
    /// `policy_layers` does for every language.
    #[new]
    #[pyo3(signature = (policy=None, *, clock=None, **kwargs))]
    fn new(
        py: Python<'_>,
        policy: Option<&Bound<'_, PyAny>>,
        clock: Option<&Bound<'_, PyAny>>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let mut layers = Vec::with_capacity(2);
        if let Some(p) = policy {
            layers.push(json_text(p)?);
        }
        if let Some(kw) = kwargs.filter(|k| !k.is_empty()) {
            layers.push(json_text(kw.as_any())?);
        }
        let layers: Vec<&str> = layers.iter().map(String::as_str).collect();
        let policy = Policy::from_layers(&layers).map_err(to_py)?;
        let (shared, clock, manual) = clock::from_py(py, clock)?;
        let inner = Engine::with_clock(policy, shared).map_err(to_py)?;
        let (observers, sink) = Observers::new();
        inner.add_observer(sink);
        Ok(PyEngine {
            inner,
            clock,
            manual,
            observers,
        })
    }

    /// The clock object the engine reads (ManualClock or SystemClock).
    #[getter]
    fn clock(&self, py: Python<'_>) -> Py<PyAny> {
        self.clock.clone_ref(py)
    }

    /// True when the engine runs on a ManualClock (waiting advances it instead of sleeping).
    #[getter]
    fn manual_clock(&self) -> bool {
        self.manual
    }

    /// Engine-clock time, seconds since the epoch.
    fn now(&self) -> f64 {
        self.inner.now().as_secs_f64()
    }

    /// Start a job's episode at its first attempt. `max_attempts` and `deadline` (seconds from
    /// the first failure) replace the policy's for this episode only (a call's `attempts=` and
    /// `timeout=`). `context` is the attempt's context for the learned tier and the attempt
    /// history (a dict: `queue_depth`, `downstream_latency`, ...; see `learned.rs`).
    #[pyo3(signature = (key, tenant=None, *, max_attempts=None, deadline=None, context=None))]
    fn begin(
        &self,
        key: &str,
        tenant: Option<&str>,
        max_attempts: Option<u32>,
        deadline: Option<f64>,
        context: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyEpisode> {
        let mut inner = crate::learned::begin(&self.inner, key, tenant, context)?;
        limit(&mut inner, max_attempts, deadline)?;
        Ok(PyEpisode::new(inner))
    }

    /// An attempt failed: record it and recommend what to do next. `failure` is a Failure or
    /// anything `failure_from` reads (an exception, a response, a status, a name): the
    /// decorator hands the exception itself, so a failed attempt is one native call.
    fn record(
        &self,
        py: Python<'_>,
        mut episode: PyRefMut<'_, PyEpisode>,
        failure: &Bound<'_, PyAny>,
    ) -> PyResult<PyRecommendation> {
        let inner = self.on_failure(py, &mut episode.inner, failure)?;
        Ok(PyRecommendation { inner })
    }

    /// An attempt succeeded: finishes the episode (optionally naming the dependency).
    #[pyo3(signature = (episode, dependency=None))]
    fn record_success(
        &self,
        py: Python<'_>,
        mut episode: PyRefMut<'_, PyEpisode>,
        dependency: Option<&str>,
    ) -> PyResult<()> {
        let result = self.inner.on_success_from(&mut episode.inner, dependency);
        self.observers.deliver(py);
        result.map_err(to_py)
    }

    /// A job whose first attempt succeeded: `begin` and `record_success` in one call.
    #[pyo3(signature = (key, tenant=None))]
    fn record_first_success(
        &self,
        py: Python<'_>,
        key: &str,
        tenant: Option<&str>,
    ) -> PyResult<()> {
        let result = self.inner.record_first_success(key, tenant);
        self.observers.deliver(py);
        result.map_err(to_py)
    }

    /// Whether the policy in force has adaptive rate limiting (`rate_limit`): while it has
    /// not, `acquire` answers 0.0 and changes nothing, so the decorators skip that call.
    #[getter]
    fn rate_limit_on(&self) -> bool {
        self.inner.rate_limit_on()
    }

    /// The adaptive rate limiter's token for a call on `key` (policy `rate_limit`): seconds to
    /// wait before making it, 0.0 until the key has been throttled. Call it before every
    /// attempt, first ones included; the token is taken either way.
    #[pyo3(signature = (key, dependency=None))]
    fn acquire(&self, key: &str, dependency: Option<&str>) -> PyResult<f64> {
        let wait = self.inner.acquire_for(key, dependency).map_err(to_py)?;
        Ok(wait.as_secs_f64())
    }

    /// `acquire` for a call that will not wait longer than `max_wait` seconds: None, taking no
    /// token, when the token is further away (give the call up instead of sending it).
    #[pyo3(signature = (key, max_wait, dependency=None))]
    fn acquire_within(
        &self,
        key: &str,
        max_wait: f64,
        dependency: Option<&str>,
    ) -> PyResult<Option<f64>> {
        let max_wait = smartretry::time::secs("max_wait", max_wait).map_err(to_py)?;
        let taken = self
            .inner
            .acquire_within(key, dependency, max_wait)
            .map_err(to_py)?;
        Ok(taken.map(|d| d.as_secs_f64()))
    }

    /// The caller stopped the episode itself (cancelled, shut down).
    fn abandon(&self, py: Python<'_>, mut episode: PyRefMut<'_, PyEpisode>) {
        self.inner.abandon(&mut episode.inner);
        self.observers.deliver(py);
    }

    /// What the engine would recommend if this failure happened now; records nothing.
    fn recommend(
        &self,
        py: Python<'_>,
        episode: PyRef<'_, PyEpisode>,
        failure: &Bound<'_, PyAny>,
    ) -> PyResult<PyRecommendation> {
        let failure = FailureArg::new(failure)?;
        let failure = failure.get().resolved(|| self.inner.now())?;
        let ep = &episode.inner;
        let engine = &self.inner;
        let inner = py
            .detach(|| engine.recommend(ep, &failure))
            .map_err(to_py)?;
        Ok(PyRecommendation { inner })
    }

    /// The whole schedule a failure would get if every attempt failed; executes nothing.
    #[pyo3(signature = (key, failure, tenant=None, steps=10))]
    fn preview(
        &self,
        py: Python<'_>,
        key: &str,
        failure: &PyFailure,
        tenant: Option<&str>,
        steps: usize,
    ) -> PyResult<Vec<PyRecommendation>> {
        let failure = failure.resolved(|| self.inner.now())?;
        let engine = &self.inner;
        let recs = py
            .detach(|| engine.preview(key, tenant, &failure, steps))
            .map_err(to_py)?;
        Ok(recs
            .into_iter()
            .map(|inner| PyRecommendation { inner })
            .collect())
    }

    /// What the policy does with this failure's class: "retry", "give_up" or "escalate". The
    /// decorator's `on=smartretry.TRANSIENT` asks this, so that what is worth retrying is the
    /// engine's rule, not a list of exception types kept in Python.
    fn disposition(&self, failure: &Bound<'_, PyAny>) -> PyResult<&'static str> {
        let failure = FailureArg::new(failure)?;
        let failure = failure.get().resolved(|| self.inner.now())?;
        let class = self.inner.classify(&failure).class;
        Ok(self.inner.policy().class(class).disposition.as_str())
    }

    /// (error class, deciding rule name) for a failure.
    fn classify(&self, failure: &Bound<'_, PyAny>) -> PyResult<(&'static str, String)> {
        let failure = FailureArg::new(failure)?;
        let failure = failure.get().resolved(|| self.inner.now())?;
        let c = self.inner.classify(&failure);
        Ok((c.class.as_str(), c.rule))
    }

    /// Override part of the policy for a queue or a tenant (one class, or all), at run time.
    /// `patch` fields: disposition, max_attempts, strategy, first_retry_immediate, min_delay,
    /// max_delay, honor_retry_after, learn, fixed_delay.
    #[pyo3(signature = (*, queue=None, tenant=None, error_class=None, **patch))]
    fn set_override(
        &self,
        py: Python<'_>,
        queue: Option<String>,
        tenant: Option<String>,
        error_class: Option<&str>,
        patch: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        let scope = scope(queue, tenant)?;
        let class = opt_class(error_class)?;
        let text = merged_json(py, None, patch)?;
        let patch = PolicyPatch::from_json(&text).map_err(to_py)?;
        self.inner.set_override(scope, class, patch).map_err(to_py)
    }

    /// Remove a queue's or tenant's override (for one class, or all of them).
    #[pyo3(signature = (*, queue=None, tenant=None, error_class=None))]
    fn clear_override(
        &self,
        queue: Option<String>,
        tenant: Option<String>,
        error_class: Option<&str>,
    ) -> PyResult<()> {
        let scope = scope(queue, tenant)?;
        self.inner.clear_override(&scope, opt_class(error_class)?);
        Ok(())
    }

    /// Every override in force, as dicts (scope, name, error_class, patch).
    fn overrides<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        self.inner
            .overrides()
            .into_iter()
            .map(|(scope, class, patch)| {
                let d = PyDict::new(py);
                let (kind, name) = match scope {
                    Scope::Queue(n) => ("queue", n),
                    Scope::Tenant(n) => ("tenant", n),
                };
                d.set_item("scope", kind)?;
                d.set_item("name", name)?;
                d.set_item("error_class", class.map(|c| c.as_str()))?;
                let text = serde_json::to_string(&patch).unwrap_or_default();
                d.set_item("patch", from_json(py, &text)?)?;
                Ok(d)
            })
            .collect()
    }

    /// The policy in force, as a dict.
    fn policy<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        from_json(py, &self.inner.policy().to_json())
    }

    /// Replace the whole policy (validated first; on error nothing changes).
    fn set_policy(&self, policy: &Bound<'_, PyAny>) -> PyResult<()> {
        let p = Policy::from_json(&json_text(policy)?).map_err(to_py)?;
        self.inner.set_policy(p).map_err(to_py)
    }

    /// Counters for dashboards, as a dict.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let text = serde_json::to_string(&self.inner.stats()).unwrap_or_default();
        from_json(py, &text)
    }

    fn reset_stats(&self) {
        self.inner.reset_stats()
    }

    /// The learned P(recovered by t) as (seconds, probability) points, or None.
    #[pyo3(signature = (key, error_class, tenant=None))]
    fn recovery_curve(
        &self,
        py: Python<'_>,
        key: &str,
        error_class: &str,
        tenant: Option<&str>,
    ) -> PyResult<Option<Vec<(f64, f64)>>> {
        let c = class(error_class)?;
        let engine = &self.inner;
        let curve = py.detach(|| engine.recovery_curve(key, tenant, c));
        Ok(curve.map(|v| v.into_iter().map(|(t, p)| (t.as_secs_f64(), p)).collect()))
    }

    /// Call `callback(event: dict)` for every engine event, in the core's event schema
    /// (`type`, `key`, `tenant`, `class`, ...), on the calling thread once the engine call that
    /// emitted it has finished. A callback may add or clear observers; its errors go to
    /// `sys.unraisablehook`.
    fn add_observer(&self, callback: &Bound<'_, PyAny>) -> PyResult<()> {
        if !callback.is_callable() {
            return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                "an observer must be callable, not {}",
                callback.get_type().name()?
            )));
        }
        self.observers.add(callback.clone().unbind());
        Ok(())
    }

    /// Remove every observer (takes effect for the next delivery).
    fn clear_observers(&self) {
        self.observers.clear()
    }

    /// Events dropped because a delivery queue was full (expected 0).
    #[getter]
    fn dropped_events(&self) -> u64 {
        self.observers.dropped()
    }

    /// Write what the engine learned to `path`, atomically.
    fn save_snapshot(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let engine = &self.inner;
        py.detach(|| engine.save_snapshot(&path)).map_err(to_py)
    }

    /// Replace every model with the file's (a failed load changes nothing).
    fn load_snapshot(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let engine = &self.inner;
        py.detach(|| engine.load_snapshot(&path)).map_err(to_py)
    }

    /// Add the file's counts to the models (processes pool what they learned).
    fn merge_snapshot(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let engine = &self.inner;
        py.detach(|| engine.merge_snapshot(&path)).map_err(to_py)
    }

    /// The snapshot file's bytes, without touching the disk.
    fn snapshot_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        let engine = &self.inner;
        let bytes = py.detach(|| engine.snapshot().encode());
        PyBytes::new(py, &bytes)
    }

    /// Load (or with merge=True, merge) snapshot bytes from `snapshot_bytes`.
    #[pyo3(signature = (data, merge=false))]
    fn load_snapshot_bytes(&self, py: Python<'_>, data: &[u8], merge: bool) -> PyResult<()> {
        let engine = &self.inner;
        py.detach(|| {
            let snap = Snapshot::decode(data)?;
            if merge {
                engine.try_merge(&snap)
            } else {
                engine.try_restore(&snap)
            }
        })
        .map_err(to_py)
    }

    fn __repr__(&self) -> String {
        format!(
            "<Engine models={} clock={}>",
            self.inner.stats().models,
            if self.manual { "manual" } else { "system" }
        )
    }
}
