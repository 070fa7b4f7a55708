//! `FleetStore`: an engine joining a fleet through Redis (the `smartretry-redis` crate); this
//! file only translates arguments, results and errors.

use crate::engine::PyEngine;
use crate::errors::{to_py, FleetUnavailableError, InvalidConfigError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use smartretry_redis::{FleetConfig, FleetError, FleetStore};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

fn fleet_err(e: FleetError) -> PyErr {
    match e {
        FleetError::InvalidConfig(_) => InvalidConfigError::new_err(e.to_string()),
        FleetError::Redis(_) => FleetUnavailableError::new_err(e.to_string()),
        FleetError::Core(core) => to_py(core),
    }
}

fn duration(what: &str, secs: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(secs).map_err(|_| {
        InvalidConfigError::new_err(format!(
            "{what} must be a finite number of seconds >= 0, got {secs}"
        ))
    })
}

#[pyclass(module = "smartretry._native", name = "FleetStore", frozen)]
pub struct PyFleetStore {
    /// None once closed.
    inner: Mutex<Option<FleetStore>>,
}

impl PyFleetStore {
    fn slot(&self) -> MutexGuard<'_, Option<FleetStore>> {
        // A panic while holding the lock cannot leave the store half-changed: take it as is.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn with<T>(&self, f: impl FnOnce(&FleetStore) -> T) -> PyResult<T> {
        match self.slot().as_ref() {
            Some(store) => Ok(f(store)),
            None => Err(crate::errors::InvalidStateError::new_err(
                "the fleet store is closed",
            )),
        }
    }
}

#[pymethods]
impl PyFleetStore {
    /// Join `engine` to the fleet at `url` (`redis://` or `rediss://`, with auth). With
    /// `background` (the default) a thread syncs every `sync_interval` seconds; otherwise call
    /// `sync_now()`. `share_budgets=n` shares the policy's retry budgets with a fleet of about
    /// `n` processes; `share_breakers=True` shares open circuit breakers.
    #[new]
    #[pyo3(signature = (engine, url, *, namespace="default", sync_interval=1.0, sync_after_episodes=256, io_timeout=0.25, engine_id=None, background=true, share_budgets=None, share_breakers=false))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        engine: &PyEngine,
        url: &str,
        namespace: &str,
        sync_interval: f64,
        sync_after_episodes: u64,
        io_timeout: f64,
        engine_id: Option<&str>,
        background: bool,
        share_budgets: Option<u32>,
        share_breakers: bool,
    ) -> PyResult<Self> {
        let mut config = FleetConfig::new(url).namespace(namespace);
        config.sync_interval = duration("sync_interval", sync_interval)?;
        config.sync_after_episodes = sync_after_episodes;
        config.io_timeout = duration("io_timeout", io_timeout)?;
        config.engine_id = engine_id.map(str::to_string);
        config.share_budgets = share_budgets;
        config.share_breakers = share_breakers;
        let store = if background {
            FleetStore::attach(&engine.inner, config)
        } else {
            FleetStore::attach_manual(&engine.inner, config)
        }
        .map_err(fleet_err)?;
        Ok(PyFleetStore {
            inner: Mutex::new(Some(store)),
        })
    }

    /// Push this engine's evidence and merge the fleet's, now (releases the GIL).
    fn sync_now(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| self.with(|s| s.sync_now()))?
            .map_err(fleet_err)
    }

    /// This engine's id in the fleet.
    #[getter]
    fn engine_id(&self) -> PyResult<String> {
        self.with(FleetStore::engine_id)
    }

    /// Syncs ok and failed, pushes, peers pooled, entries rejected, budget leasing rounds,
    /// breakers opened by the fleet, the last error.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.with(FleetStore::stats)?;
        let d = PyDict::new(py);
        d.set_item("syncs", s.syncs)?;
        d.set_item("failures", s.failures)?;
        d.set_item("pushes", s.pushes)?;
        d.set_item("peers", s.peers)?;
        d.set_item("rejected", s.rejected)?;
        d.set_item("budget_rounds", s.budget_rounds)?;
        d.set_item("breakers_opened", s.breakers_opened)?;
        d.set_item("last_error", s.last_error)?;
        Ok(d)
    }

    /// Stop syncing (the background thread is joined). Idempotent.
    fn close(&self, py: Python<'_>) {
        let store = self.slot().take();
        py.detach(|| drop(store));
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __exit__(
        &self,
        py: Python<'_>,
        _t: Option<&Bound<'_, PyAny>>,
        _v: Option<&Bound<'_, PyAny>>,
        _tb: Option<&Bound<'_, PyAny>>,
    ) {
        self.close(py);
    }
}
