//! Observer callbacks: engine events delivered to a Python callable as dicts.

use crate::recommendation::PyRecommendation;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use smartretry::{Event, Observer};

/// Calls a Python callable with each event (taking the GIL; errors go to `sys.unraisablehook`).
pub struct PyObserver {
    pub callback: Py<PyAny>,
}

fn event_dict<'py>(py: Python<'py>, event: &Event<'_>) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let rec = |r: &smartretry::Recommendation| PyRecommendation { inner: r.clone() };
    match *event {
        Event::Attempt {
            key,
            tenant,
            class,
            attempt,
            elapsed,
        } => {
            d.set_item("kind", "attempt")?;
            d.set_item("key", key)?;
            d.set_item("tenant", tenant)?;
            d.set_item("error_class", class.as_str())?;
            d.set_item("attempt", attempt)?;
            d.set_item("elapsed", elapsed.as_secs_f64())?;
        }
        Event::Decision {
            key,
            tenant,
            recommendation,
        } => {
            d.set_item("kind", "decision")?;
            d.set_item("key", key)?;
            d.set_item("tenant", tenant)?;
            d.set_item("recommendation", rec(recommendation))?;
        }
        Event::Success {
            key,
            tenant,
            attempts,
            elapsed,
        } => {
            d.set_item("kind", "success")?;
            d.set_item("key", key)?;
            d.set_item("tenant", tenant)?;
            d.set_item("attempts", attempts)?;
            d.set_item("elapsed", elapsed.as_secs_f64())?;
        }
        Event::Exhausted {
            key,
            tenant,
            recommendation,
        } => {
            d.set_item("kind", "exhausted")?;
            d.set_item("key", key)?;
            d.set_item("tenant", tenant)?;
            d.set_item("recommendation", rec(recommendation))?;
        }
        Event::Breaker {
            dependency,
            from,
            to,
        } => {
            d.set_item("kind", "breaker")?;
            d.set_item("dependency", dependency)?;
            d.set_item("from", from.as_str())?;
            d.set_item("to", to.as_str())?;
        }
        Event::Clamp { key, clamp } => {
            d.set_item("kind", "clamp")?;
            d.set_item("key", key)?;
            d.set_item("guardrail", clamp.guardrail.as_str())?;
            d.set_item("from", clamp.from.as_secs_f64())?;
            d.set_item("to", clamp.to.as_secs_f64())?;
        }
    }
    Ok(d)
}

impl Observer for PyObserver {
    fn on_event(&self, event: &Event<'_>) {
        Python::attach(|py| {
            let result = event_dict(py, event).and_then(|d| self.callback.call1(py, (d,)));
            if let Err(e) = result {
                e.write_unraisable(py, Some(self.callback.bind(py)));
            }
        });
    }
}
