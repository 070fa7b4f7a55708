//! Fork hooks: around a fork every engine's plan worker (and fleet sync thread) pauses between
//! two pieces of work, so that the child never inherits a lock held by a thread it does not
//! have, and the child's engines rebuild their plans inline from then on. The library registers
//! them with `pthread_atfork` itself when the first engine is made; they are exported too, for a
//! program that forks by other means.

use std::ffi::c_int;
use std::sync::Once;

extern "C" {
    fn pthread_atfork(
        prepare: Option<extern "C" fn()>,
        parent: Option<extern "C" fn()>,
        child: Option<extern "C" fn()>,
    ) -> c_int;
}

/// Register the hooks with `pthread_atfork`, once per process (a forked child keeps them).
pub(crate) fn register_once() {
    static REGISTERED: Once = Once::new();
    REGISTERED.call_once(|| {
        // SAFETY: pthread_atfork only records three function pointers, each a plain `extern "C"
        // fn()` that never unwinds (every one runs inside catch_unwind).
        unsafe {
            pthread_atfork(
                Some(smartretry_fork_prepare),
                Some(smartretry_fork_parent),
                Some(smartretry_fork_child),
            );
        }
    });
}

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

/// In the child after `fork()`: its engines have no plan worker and rebuild plans inline, and
/// the parent's other threads no longer count as inside a call (a free waits for none of them).
#[no_mangle]
pub extern "C" fn smartretry_fork_child() {
    let _ = std::panic::catch_unwind(crate::readers::after_fork_in_child);
    let _ = std::panic::catch_unwind(smartretry::fork::after_fork_in_child);
}
