//! Operator surfaces: the attempt history (with rotation), the facts logged per episode, and
//! the admin endpoint (`Engine.serve_admin`). Translation only: the writer, the monitor and
//! the server are the core's and `smartretry-admin`'s.

use crate::convert::{from_json, secs};
use crate::engine::PyEngine;
use crate::episode::PyEpisode;
use crate::errors::to_py;
use pyo3::prelude::*;
use smartretry::history::HistoryOptions;
use smartretry::{EpisodeMeta, JsonlHistory};
use smartretry_admin::{AdminConfig, AdminServer};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

#[pymethods]
impl PyEngine {
    /// Log every attempt to a JSON Lines file (appended), rotated at `max_bytes` keeping
    /// `max_files` older files; `worker_version` is written on records that carry none.
    #[pyo3(signature = (path, *, max_bytes=None, max_files=3, worker_version=None))]
    fn write_history(
        &self,
        path: PathBuf,
        max_bytes: Option<u64>,
        max_files: u32,
        worker_version: Option<String>,
    ) -> PyResult<()> {
        let options = HistoryOptions {
            max_bytes,
            max_files,
            worker_version,
        };
        let sink = JsonlHistory::open(&path, options).map_err(to_py)?;
        self.inner.set_history(Some(Arc::new(sink)));
        Ok(())
    }

    /// Write out buffered history records.
    fn flush_history(&self) -> PyResult<()> {
        self.inner.flush_history().map_err(to_py)
    }

    /// Stop logging attempts (the file is flushed and closed).
    fn stop_history(&self) -> PyResult<()> {
        self.inner.flush_history().map_err(to_py)?;
        self.inner.set_history(None);
        Ok(())
    }

    /// Serve stats, models, recent decisions, overrides and Prometheus `/metrics` on a loopback
    /// address (default `127.0.0.1:0`, a free port) or `listen="unix:/path"`. Writes
    /// (overrides) need `token`; without one they are refused.
    #[pyo3(signature = (*, listen=None, token=None, recent=256))]
    fn serve_admin(
        &self,
        listen: Option<String>,
        token: Option<String>,
        recent: usize,
    ) -> PyResult<PyAdmin> {
        let config = AdminConfig {
            listen: listen.unwrap_or_else(|| AdminConfig::default().listen),
            token,
            recent,
        };
        let server = AdminServer::start(&self.inner, config).map_err(to_py)?;
        Ok(PyAdmin {
            server: Mutex::new(Some(server)),
        })
    }
}

#[pymethods]
impl PyEpisode {
    /// Facts logged with each later attempt of this episode (None: unknown). Replaces earlier
    /// facts; call again before reporting an attempt to log its `downstream_latency` (seconds).
    #[pyo3(signature = (*, job_type=None, payload_size=None, worker_version=None, downstream_latency=None))]
    fn set_meta(
        &mut self,
        job_type: Option<String>,
        payload_size: Option<u64>,
        worker_version: Option<String>,
        downstream_latency: Option<f64>,
    ) -> PyResult<()> {
        for (what, v) in [("job_type", &job_type), ("worker_version", &worker_version)] {
            if let Some(v) = v {
                smartretry::names::check_name(what, v).map_err(to_py)?;
            }
        }
        let downstream_latency = downstream_latency
            .map(|s| secs("downstream_latency", s))
            .transpose()?;
        self.inner.set_meta(EpisodeMeta {
            job_type,
            payload_size,
            worker_version,
            downstream_latency,
        });
        Ok(())
    }
}

/// A running admin endpoint; `stop()` (or leaving a `with` block) stops it.
#[pyclass(module = "smartretry._native", name = "Admin", frozen)]
pub struct PyAdmin {
    server: Mutex<Option<AdminServer>>,
}

impl PyAdmin {
    fn with<T>(&self, f: impl FnOnce(&AdminServer) -> T) -> PyResult<T> {
        let guard = self.server.lock().unwrap_or_else(|p| p.into_inner());
        match guard.as_ref() {
            Some(s) => Ok(f(s)),
            None => Err(crate::errors::InvalidStateError::new_err(
                "the admin endpoint was stopped",
            )),
        }
    }
}

#[pymethods]
impl PyAdmin {
    /// `http://127.0.0.1:PORT`, or `unix:/path`.
    #[getter]
    fn url(&self) -> PyResult<String> {
        self.with(|s| s.url().to_string())
    }

    /// The metrics in the Prometheus text format (what `/metrics` serves).
    fn metrics(&self) -> PyResult<String> {
        self.with(|s| s.monitor().prometheus())
    }

    /// The same figures as a dict, for `prometheus_client` collectors and dashboards.
    fn metrics_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let text = self.with(|s| s.monitor().metrics_json().to_string())?;
        from_json(py, &text)
    }

    /// The last decisions, newest first, as dicts.
    #[pyo3(signature = (limit=50))]
    fn recent<'py>(&self, py: Python<'py>, limit: usize) -> PyResult<Bound<'py, PyAny>> {
        let text = self.with(|s| {
            serde_json::to_string(&s.monitor().recent(limit)).unwrap_or_else(|_| "[]".into())
        })?;
        from_json(py, &text)
    }

    /// Stop serving (idempotent).
    fn stop(&self, py: Python<'_>) {
        let server = self.server.lock().unwrap_or_else(|p| p.into_inner()).take();
        py.detach(move || drop(server));
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __exit__(
        &self,
        py: Python<'_>,
        _exc_type: &Bound<'_, PyAny>,
        _exc: &Bound<'_, PyAny>,
        _tb: &Bound<'_, PyAny>,
    ) -> bool {
        self.stop(py);
        false
    }
}
