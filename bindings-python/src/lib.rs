//! Python binding of the smartretry engine (`smartretry._native`): translation of types only, no
//! engine logic. The Pythonic layer (decorators, adapters) lives in `python/smartretry/`.

mod attempt;
mod clock;
mod convert;
mod engine;
mod episode;
mod errors;
mod extract;
mod failure;
mod fleet;
mod fork;
mod learned;
mod observer;
mod ops;
mod recommendation;
mod schedule;

use pyo3::prelude::*;

/// The engine version this binding was built with.
pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

#[pymodule]
#[pyo3(name = "_native")]
fn native_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", version())?;
    m.add(
        "ERROR_CLASSES",
        smartretry::ErrorClass::ALL
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>(),
    )?;
    m.add_class::<engine::PyEngine>()?;
    m.add_class::<episode::PyEpisode>()?;
    m.add_class::<failure::PyFailure>()?;
    m.add_class::<recommendation::PyRecommendation>()?;
    m.add_class::<clock::PyManualClock>()?;
    m.add_class::<clock::PySystemClock>()?;
    m.add_class::<ops::PyAdmin>()?;
    m.add_class::<fleet::PyFleetStore>()?;
    m.add_class::<schedule::PyRetrySchedule>()?;
    m.add_class::<schedule::PyClaim>()?;
    m.add_function(wrap_pyfunction!(failure::py_parse_retry_after, m)?)?;
    m.add_function(wrap_pyfunction!(failure::check_key, m)?)?;
    m.add_function(wrap_pyfunction!(extract::failure_from, m)?)?;
    m.add_function(wrap_pyfunction!(extract::from_exception, m)?)?;
    m.add_function(wrap_pyfunction!(extract::from_response, m)?)?;
    m.add_function(wrap_pyfunction!(fork::_before_fork, m)?)?;
    m.add_function(wrap_pyfunction!(fork::_after_fork_in_parent, m)?)?;
    m.add_function(wrap_pyfunction!(fork::_after_fork_in_child, m)?)?;
    errors::register(m)?;
    Ok(())
}
