//! `Episode`: one job's attempts, from the first to success or give-up. Owned by the caller.

use crate::convert::opt_secs;
use crate::recommendation::PyRecommendation;
use pyo3::prelude::*;
use smartretry::{Episode, Recommendation};

#[pyclass(module = "smartretry._native", name = "Episode")]
pub struct PyEpisode {
    pub inner: Episode,
    /// The decision of the latest `Engine.fail` / `begin_fail` (kept here so that the hot path
    /// returns a float and builds a `Recommendation` object only when one is read).
    pub last: Option<Recommendation>,
}

impl PyEpisode {
    pub fn new(inner: Episode) -> Self {
        PyEpisode { inner, last: None }
    }
}

#[pymethods]
impl PyEpisode {
    /// The decision of the latest `Engine.fail` / `Engine.begin_fail` on this episode (None
    /// before one; `Engine.record` returns its decision instead).
    #[getter]
    fn recommendation(&self) -> Option<PyRecommendation> {
        self.last
            .as_ref()
            .map(|r| PyRecommendation { inner: r.clone() })
    }
    #[getter]
    fn key(&self) -> &str {
        self.inner.key()
    }
    #[getter]
    fn tenant(&self) -> Option<&str> {
        self.inner.tenant()
    }
    /// Attempts made so far (failed ones, plus the successful one once recorded).
    #[getter]
    fn attempts(&self) -> u32 {
        self.inner.attempts()
    }
    #[getter]
    fn failures(&self) -> u32 {
        self.inner.failures()
    }
    /// The class of the first failure, if any.
    #[getter]
    fn error_class(&self) -> Option<&'static str> {
        self.inner.class().map(|c| c.as_str())
    }
    /// Engine-clock time (seconds since the epoch) of the first failure.
    #[getter]
    fn first_failure_at(&self) -> Option<f64> {
        opt_secs(self.inner.first_failure_at())
    }
    /// Whether the episode ended (success, give-up, escalation or abandon).
    #[getter]
    fn finished(&self) -> bool {
        self.inner.is_finished()
    }

    fn __repr__(&self) -> String {
        format!(
            "<Episode key={:?} tenant={:?} attempts={} finished={}>",
            self.inner.key(),
            self.inner.tenant(),
            self.inner.attempts(),
            self.inner.is_finished()
        )
    }
}
