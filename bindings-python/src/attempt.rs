//! The decorators' per-attempt calls: a failed attempt is one native call that records it and
//! answers the wait in seconds (or -1.0: stop), keeping the full recommendation on the episode
//! for the rare reader (an enabled log line, a give-up). No `Recommendation` object is built and
//! no getter is crossed on the common path. `Engine.record` stays the general call.

use crate::engine::{limit, PyEngine};
use crate::episode::PyEpisode;
use pyo3::prelude::*;
use smartretry::Recommendation;

/// What the hot path hands back for a decision: its wait, or -1.0 when the engine stops.
fn wait_or_stop(rec: &Recommendation) -> f64 {
    if rec.should_retry() {
        rec.delay.as_secs_f64()
    } else {
        -1.0
    }
}

#[pymethods]
impl PyEngine {
    /// Record a failed attempt (anything `failure_from` reads) and answer its wait in seconds,
    /// or -1.0 when the engine gives up or escalates; `episode.recommendation` has the decision.
    fn fail(
        &self,
        py: Python<'_>,
        mut episode: PyRefMut<'_, PyEpisode>,
        failure: &Bound<'_, PyAny>,
    ) -> PyResult<f64> {
        let ep = &mut *episode;
        let rec = self.on_failure(py, &mut ep.inner, failure)?;
        let wait = wait_or_stop(&rec);
        ep.last = Some(rec);
        Ok(wait)
    }

    /// `begin` and `fail` in one call, for a call whose first attempt failed: the episode (its
    /// caps `max_attempts` / `deadline` and its attempt `context` as for `begin`) and the wait,
    /// or -1.0 for stop.
    #[pyo3(signature = (key, failure, tenant=None, max_attempts=None, deadline=None, context=None))]
    #[allow(clippy::too_many_arguments)]
    fn begin_fail(
        &self,
        py: Python<'_>,
        key: &str,
        failure: &Bound<'_, PyAny>,
        tenant: Option<&str>,
        max_attempts: Option<u32>,
        deadline: Option<f64>,
        context: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<(PyEpisode, f64)> {
        let mut inner = crate::learned::begin(&self.inner, key, tenant, context)?;
        limit(&mut inner, max_attempts, deadline)?;
        let rec = self.on_failure(py, &mut inner, failure)?;
        let wait = wait_or_stop(&rec);
        let mut ep = PyEpisode::new(inner);
        ep.last = Some(rec);
        Ok((ep, wait))
    }
}
