//! `Recommendation`: the engine's answer, with attributes and `str()` giving the sentence.

use pyo3::prelude::*;
use pyo3::types::PyDict;
use smartretry::{Action, Recommendation};

#[pyclass(module = "smartretry._native", name = "Recommendation", frozen)]
pub struct PyRecommendation {
    pub inner: Recommendation,
}

#[pymethods]
impl PyRecommendation {
    /// "retry", "give_up" or "escalate".
    #[getter]
    fn action(&self) -> &'static str {
        self.inner.action.as_str()
    }
    /// Seconds to wait before the next attempt (0 unless retrying).
    #[getter]
    fn delay(&self) -> f64 {
        self.inner.delay.as_secs_f64()
    }
    #[getter]
    fn should_retry(&self) -> bool {
        self.inner.action == Action::Retry
    }
    #[getter]
    fn error_class(&self) -> &'static str {
        self.inner.class.as_str()
    }
    /// "heuristic", "bayesian", "operator" or "guardrail".
    #[getter]
    fn tier(&self) -> &'static str {
        self.inner.tier.as_str()
    }
    #[getter]
    fn success_probability(&self) -> Option<f64> {
        self.inner.success_probability
    }
    #[getter]
    fn confidence(&self) -> Option<f64> {
        self.inner.confidence
    }
    /// Why, in one sentence.
    #[getter]
    fn reason(&self) -> String {
        self.inner.reason.to_string()
    }
    /// Guardrails that changed the delay: dicts with guardrail, from, to (seconds).
    #[getter]
    fn clamps<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        self.inner
            .clamps
            .iter()
            .map(|c| {
                let d = PyDict::new(py);
                d.set_item("guardrail", c.guardrail.as_str())?;
                d.set_item("from", c.from.as_secs_f64())?;
                d.set_item("to", c.to.as_secs_f64())?;
                Ok(d)
            })
            .collect()
    }
    /// Other delays weighed: (delay seconds, success probability).
    #[getter]
    fn alternatives(&self) -> Vec<(f64, f64)> {
        self.inner
            .alternatives
            .iter()
            .map(|a| (a.delay.as_secs_f64(), a.success_probability))
            .collect()
    }
    /// Attempts made so far in the episode, including the one that just failed.
    #[getter]
    fn attempt(&self) -> u32 {
        self.inner.attempt
    }
    /// Seconds since the episode's first failure.
    #[getter]
    fn elapsed(&self) -> f64 {
        self.inner.elapsed.as_secs_f64()
    }

    fn to_json(&self) -> String {
        self.inner.to_json()
    }

    fn __str__(&self) -> String {
        self.inner.to_string()
    }

    fn __repr__(&self) -> String {
        format!(
            "<Recommendation {} delay={:.3}s class={} tier={}: {}>",
            self.inner.action.as_str(),
            self.inner.delay.as_secs_f64(),
            self.inner.class.as_str(),
            self.inner.tier.as_str(),
            self.inner.reason
        )
    }
}
