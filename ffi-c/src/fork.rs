//! Fork hooks, shaped for `pthread_atfork(smartretry_fork_prepare, smartretry_fork_parent,
//! smartretry_fork_child)`: around a fork every engine's plan worker pauses between two rebuilds,
//! so that the child never inherits a model's lock held by a thread it does not have, and the
//! child's engines rebuild their plans inline from then on.

/// Before `fork()`: pause every engine's plan worker between two rebuilds (waits at most a
/// second for one inside a rebuild).
#[no_mangle]
pub extern "C" fn smartretry_fork_prepare() {
    let _ = std::panic::catch_unwind(smartretry::fork::before_fork);
}

/// In the parent after `fork()`: the plan workers go on.
#[no_mangle]
pub extern "C" fn smartretry_fork_parent() {
    let _ = std::panic::catch_unwind(smartretry::fork::after_fork_in_parent);
}

/// In the child after `fork()`: its engines have no plan worker and rebuild plans inline.
#[no_mangle]
pub extern "C" fn smartretry_fork_child() {
    let _ = std::panic::catch_unwind(smartretry::fork::after_fork_in_child);
}
