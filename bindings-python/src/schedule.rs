//! `RetrySchedule`: the durable retry schedule (`smartretry-schedule`, on a SQLite file or
//! Redis) for Python workers; this file only translates arguments, results and errors.

use crate::convert::epoch;
use crate::errors::{InvalidConfigError, ScheduleStorageError};
use crate::recommendation::PyRecommendation;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use smartretry_schedule::{RetrySchedule, ScheduleError};
use std::time::Duration;

fn schedule_err(e: ScheduleError) -> PyErr {
    match e {
        ScheduleError::InvalidInput(_) => InvalidConfigError::new_err(e.to_string()),
        ScheduleError::Storage(_) => ScheduleStorageError::new_err(e.to_string()),
    }
}

fn lease(secs: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(secs)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| {
            InvalidConfigError::new_err(format!(
                "lease must be a finite number of seconds > 0, got {secs}"
            ))
        })
}

/// A due retry handed to a worker: ack it when done, nack it to run again later.
#[pyclass(module = "smartretry._native", name = "Claim", frozen, get_all)]
pub struct PyClaim {
    job_id: String,
    payload: Py<PyBytes>,
    /// Times handed out, this one included (above 1: redelivered after a lease ran out).
    deliveries: u32,
    /// The lease ends then (seconds since the epoch, the caller's clock).
    lease_until: f64,
}

#[pymethods]
impl PyClaim {
    fn __repr__(&self) -> String {
        format!(
            "Claim(job_id={:?}, deliveries={}, lease_until={})",
            self.job_id, self.deliveries, self.lease_until
        )
    }
}

#[pyclass(module = "smartretry._native", name = "RetrySchedule", frozen)]
pub struct PyRetrySchedule {
    inner: Box<dyn RetrySchedule>,
}

#[pymethods]
impl PyRetrySchedule {
    /// The schedule at `location`: a SQLite file path, or a `redis://` / `rediss://` URL (the
    /// schedule of `namespace`).
    #[new]
    #[pyo3(signature = (location, *, namespace="default"))]
    fn new(py: Python<'_>, location: &str, namespace: &str) -> PyResult<Self> {
        let inner = py
            .detach(|| smartretry_redis::open_schedule(location, namespace))
            .map_err(schedule_err)?;
        Ok(PyRetrySchedule { inner })
    }

    /// Store the retry of `job_id`, due at `due` (seconds since the epoch); replaces it if
    /// scheduled already.
    fn schedule(&self, py: Python<'_>, job_id: &str, payload: &[u8], due: f64) -> PyResult<()> {
        let due = epoch("due", due)?;
        py.detach(|| self.inner.schedule(job_id, payload, due))
            .map_err(schedule_err)
    }

    /// Store the retry the engine recommended at `now`: due after its delay. False (nothing
    /// stored) when the recommendation is to stop.
    fn schedule_recommended(
        &self,
        py: Python<'_>,
        job_id: &str,
        payload: &[u8],
        now: f64,
        recommendation: &PyRecommendation,
    ) -> PyResult<bool> {
        let now = epoch("now", now)?;
        let rec = recommendation.inner.clone();
        py.detach(|| self.inner.schedule_recommended(job_id, payload, now, &rec))
            .map_err(schedule_err)
    }

    /// Up to `limit` retries due at `now`, earliest first, each leased for `lease` seconds.
    fn claim_due(
        &self,
        py: Python<'_>,
        now: f64,
        limit: usize,
        lease_secs: f64,
    ) -> PyResult<Vec<PyClaim>> {
        let (now, lease) = (epoch("now", now)?, lease(lease_secs)?);
        let claims = py
            .detach(|| self.inner.claim_due(now, limit, lease))
            .map_err(schedule_err)?;
        Ok(claims
            .into_iter()
            .map(|c| PyClaim {
                payload: PyBytes::new(py, &c.payload).unbind(),
                job_id: c.job_id,
                deliveries: c.deliveries,
                lease_until: c.lease_until.as_secs_f64(),
            })
            .collect())
    }

    /// The retry is done: forget it (False if it was not there; acking twice is fine).
    fn ack(&self, py: Python<'_>, job_id: &str) -> PyResult<bool> {
        py.detach(|| self.inner.ack(job_id)).map_err(schedule_err)
    }

    /// Run the retry again at `due` (seconds since the epoch); False if it is unknown.
    fn nack(&self, py: Python<'_>, job_id: &str, due: f64) -> PyResult<bool> {
        let due = epoch("due", due)?;
        py.detach(|| self.inner.nack(job_id, due))
            .map_err(schedule_err)
    }

    /// Retries stored, due or not, claimed or not.
    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        py.detach(|| self.inner.len()).map_err(schedule_err)
    }
}
