//! Clocks: the system clock, and a manual clock that tests and simulations move by hand.

use crate::convert::{epoch, secs};
use pyo3::prelude::*;
use smartretry::{Clock, SharedClock};
use std::sync::Arc;
use std::time::Duration;

/// A clock that only moves when told to (or when a retry loop "sleeps" on it). Thread-safe.
#[pyclass(module = "smartretry._native", name = "ManualClock", frozen)]
pub struct PyManualClock {
    pub inner: Arc<smartretry::ManualClock>,
}

#[pymethods]
impl PyManualClock {
    #[new]
    #[pyo3(signature = (start = 1_700_000_000.0))]
    fn new(start: f64) -> PyResult<Self> {
        Ok(PyManualClock {
            inner: smartretry::ManualClock::shared(epoch("start", start)?),
        })
    }

    /// Seconds since the Unix epoch.
    fn now(&self) -> f64 {
        self.inner.now().as_secs_f64()
    }

    /// Move time forward by `seconds`.
    fn advance(&self, seconds: f64) -> PyResult<()> {
        self.inner.advance(secs("advance", seconds)?);
        Ok(())
    }

    /// Jump to `t` (seconds since the epoch) if later than now; returns the new reading.
    fn set(&self, t: f64) -> PyResult<f64> {
        Ok(self.inner.set(epoch("time", t)?).as_secs_f64())
    }

    /// "Sleep": advance the clock instead of blocking.
    fn sleep(&self, seconds: f64) -> PyResult<()> {
        self.advance(seconds)
    }

    fn __repr__(&self) -> String {
        format!("ManualClock({:.3})", self.inner.now().as_secs_f64())
    }
}

/// Wall-clock time, made monotonic.
#[pyclass(module = "smartretry._native", name = "SystemClock", frozen)]
pub struct PySystemClock {
    pub inner: Arc<smartretry::SystemClock>,
}

#[pymethods]
impl PySystemClock {
    #[new]
    fn new() -> Self {
        PySystemClock {
            inner: Arc::new(smartretry::SystemClock::new()),
        }
    }

    /// Seconds since the Unix epoch.
    fn now(&self) -> f64 {
        self.inner.now().as_secs_f64()
    }

    /// Block for `seconds` (the GIL is released meanwhile).
    fn sleep(&self, py: Python<'_>, seconds: f64) -> PyResult<()> {
        let d = secs("sleep", seconds)?;
        if d > Duration::ZERO {
            let clock = self.inner.clone();
            py.detach(move || clock.sleep(d));
        }
        Ok(())
    }

    fn __repr__(&self) -> String {
        "SystemClock()".to_owned()
    }
}

/// The engine's clock from a Python argument: a ManualClock, a SystemClock, or None (system).
pub fn from_py(
    py: Python<'_>,
    obj: Option<&Bound<'_, PyAny>>,
) -> PyResult<(SharedClock, Py<PyAny>, bool)> {
    match obj {
        None => {
            let c = Bound::new(py, PySystemClock::new())?;
            let shared: SharedClock = c.get().inner.clone();
            Ok((shared, c.into_any().unbind(), false))
        }
        Some(o) => {
            if let Ok(m) = o.cast::<PyManualClock>() {
                let shared: SharedClock = m.get().inner.clone();
                Ok((shared, o.clone().unbind(), true))
            } else if let Ok(s) = o.cast::<PySystemClock>() {
                let shared: SharedClock = s.get().inner.clone();
                Ok((shared, o.clone().unbind(), false))
            } else {
                Err(pyo3::exceptions::PyTypeError::new_err(
                    "clock must be a smartretry.ManualClock or smartretry.SystemClock",
                ))
            }
        }
    }
}
