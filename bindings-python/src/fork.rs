//! The engine's fork hooks, registered with `os.register_at_fork` by the package: a forked child
//! (gunicorn's preload, Celery's prefork pool, `multiprocessing`'s fork) never inherits a model
//! lock held by the parent's plan worker, which is not in the child (see `smartretry::fork`).

use pyo3::prelude::*;

/// Pause every plan worker of this process between two rebuilds; how many did not pause in time.
#[pyfunction]
pub fn _before_fork() -> usize {
    smartretry::fork::before_fork()
}

/// Let the parent's plan workers go on.
#[pyfunction]
pub fn _after_fork_in_parent() {
    smartretry::fork::after_fork_in_parent()
}

/// Tell the child's engines that their plan worker is gone: they rebuild inline from now on.
#[pyfunction]
pub fn _after_fork_in_child() {
    smartretry::fork::after_fork_in_child()
}
