//! Forking a process whose engines have plan workers (gunicorn's preload, Celery's prefork pool,
//! `multiprocessing` with the fork start method).
//!
//! A child gets a copy of the parent's memory but none of its threads. Had a worker been inside
//! a rebuild at the moment of the fork, the child would inherit that model's lock held by a thread
//! that does not exist there, and its first decision on that key would wait forever. So around a
//! fork every worker is paused between two rebuilds: `before_fork` waits (briefly: one rebuild is
//! well under a millisecond) until none is inside one, `after_fork_in_parent` lets them go on,
//! and `after_fork_in_child` tells the child's engines that their worker is gone, so that they
//! rebuild inline from then on.
//!
//! The Python package registers these with `os.register_at_fork`, the C library with
//! `pthread_atfork`; a Rust program that forks calls them itself. A fork without them still
//! works unless it lands inside a rebuild.
//!
//! Any other background thread that holds locks or sockets the child will use (the fleet store's
//! sync thread) registers a `Gate` of its own and does each piece of work inside `Gate::enter`.

use parking_lot::{Condvar, Mutex};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// How long `before_fork` waits for a worker to finish the rebuild it is in. Past this the fork
/// goes ahead regardless (a worker stuck that long is waiting on a lock some caller holds, which
/// the child inherits either way).
pub const PAUSE_TIMEOUT: Duration = Duration::from_secs(1);

/// One background thread's side of the pause: whether it is inside a piece of work, whether it
/// may start one, and whether this process is a fork of the one it runs in.
pub struct Gate {
    state: Mutex<GateState>,
    changed: Condvar,
    forked: AtomicBool,
}

#[derive(Default)]
struct GateState {
    paused: bool,
    busy: bool,
}

/// Held by `before_fork` across the fork (let go by the parent's and the child's hook), and for
/// a moment by every change to the registries below. So no registry's lock can be held, at the
/// moment of a fork, by a thread the child will not have (an engine made on one thread while
/// another forks).
static REGISTRIES: AtomicBool = AtomicBool::new(false);

fn hold_registries() {
    while REGISTRIES
        .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        std::thread::yield_now();
    }
}

fn let_go_of_registries() {
    REGISTRIES.store(false, Ordering::Release);
}

thread_local! {
    /// How deep this thread is inside `before_fork` calls whose fork has not finished: the hooks
    /// may be registered twice (by the library, and by a program that followed older advice),
    /// and only the outermost call does the work.
    static FORK_DEPTH: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Enter a fork's hooks: whether this is the outermost `before_fork` of this thread.
fn enter_fork() -> bool {
    FORK_DEPTH.with(|d| {
        d.set(d.get() + 1);
        d.get() == 1
    })
}

/// Leave a fork's hooks: whether this was the outermost (then the real work is done).
fn leave_fork() -> bool {
    FORK_DEPTH.with(|d| {
        let depth = d.get().saturating_sub(1);
        d.set(depth);
        depth == 0
    })
}

fn with_registries<T>(f: impl FnOnce() -> T) -> T {
    hold_registries();
    let out = f();
    let_go_of_registries();
    out
}

/// Every live worker's gate in this process, and the ones paused for a fork in progress.
static GATES: Mutex<Vec<Weak<Gate>>> = Mutex::new(Vec::new());
static PAUSED: Mutex<Vec<Arc<Gate>>> = Mutex::new(Vec::new());
/// Forks seen by this process's hooks: a component compares the count it saw last (one atomic
/// load) before it pays for a process-id check (a system call, about 0.1-0.3 µs).
static GENERATION: AtomicU64 = AtomicU64::new(0);
/// What must happen in a child before anything else does (see `ForkChild`).
static CHILD_HOOKS: Mutex<Vec<Weak<dyn ForkChild>>> = Mutex::new(Vec::new());

/// A component that must act in a forked child before the child does anything else (the fleet
/// store: a child must tell what it inherited from what it learns itself). Called by
/// `after_fork_in_child`, with every gate still paused; it must not wait on anything a thread of
/// the parent might have held.
pub trait ForkChild: Send + Sync {
    /// Called once in the child, right after the fork.
    fn after_fork_in_child(&self);
}

/// Call `hook` in every forked child for as long as it lives.
pub fn on_fork_in_child(hook: Weak<dyn ForkChild>) {
    with_registries(|| {
        let mut hooks = CHILD_HOOKS.lock();
        hooks.retain(|h| h.strong_count() > 0);
        hooks.push(hook);
    });
}

impl Gate {
    fn unregistered() -> Gate {
        Gate {
            state: Mutex::new(GateState::default()),
            changed: Condvar::new(),
            forked: AtomicBool::new(false),
        }
    }

    /// A new gate, known to the fork hooks for as long as it lives.
    pub fn register() -> Arc<Gate> {
        let gate = Arc::new(Gate::unregistered());
        with_registries(|| {
            let mut gates = GATES.lock();
            gates.retain(|g| g.strong_count() > 0);
            gates.push(Arc::downgrade(&gate));
        });
        gate
    }

    /// Before a piece of work: wait while a fork is in progress, then hold the gate until the
    /// passage is dropped (a fork waits for that). Not reentrant: one passage per thread at a time.
    pub fn enter(&self) -> Passage<'_> {
        let mut s = self.state.lock();
        while s.paused {
            self.changed.wait(&mut s);
        }
        s.busy = true;
        Passage { gate: self }
    }

    /// Whether this process is a fork of the one the thread runs in (told by the child hook).
    #[inline]
    pub fn forked(&self) -> bool {
        self.forked.load(Ordering::Relaxed)
    }

    /// Known to be a forked child (found by a changed process id, a fork without the hooks).
    pub fn mark_forked(&self) {
        self.forked.store(true, Ordering::Relaxed);
    }

    /// Stop the worker at its next rebuild and wait until it is in none; whether it got there
    /// within `timeout`.
    fn pause(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut s = self.state.lock();
        s.paused = true;
        while s.busy {
            if self.changed.wait_until(&mut s, deadline).timed_out() {
                return !s.busy;
            }
        }
        true
    }

    fn resume(&self) {
        self.state.lock().paused = false;
        self.changed.notify_all();
    }
}

/// A piece of work in progress: a fork waits until it is dropped.
pub struct Passage<'a> {
    gate: &'a Gate,
}

impl Drop for Passage<'_> {
    fn drop(&mut self) {
        self.gate.state.lock().busy = false;
        self.gate.changed.notify_all();
    }
}

/// The process that a connection, a buffer or a thread belongs to. A forked child that finds it
/// is not the owner replaces what it inherited (under the lock that guards it), then takes over.
/// Reads the process id, a system call (0.1-0.3 µs): for paths where that is small, or that
/// `generation` has told a fork happened.
#[derive(Debug)]
pub struct ProcessOwner(std::sync::atomic::AtomicU32);

impl Default for ProcessOwner {
    fn default() -> Self {
        ProcessOwner(std::sync::atomic::AtomicU32::new(std::process::id()))
    }
}

impl ProcessOwner {
    /// Owned by the calling process.
    pub fn new() -> ProcessOwner {
        ProcessOwner::default()
    }

    /// Whether the calling process owns it.
    pub fn is_current(&self) -> bool {
        self.0.load(Ordering::Acquire) == std::process::id()
    }

    /// The calling process owns it from now on.
    pub fn take_over(&self) {
        self.0.store(std::process::id(), Ordering::Release);
    }
}

/// How many forks the hooks have seen in this process's line (a child counts its parent's).
#[inline]
pub fn generation() -> u64 {
    GENERATION.load(Ordering::Acquire)
}

/// Call just before `fork()`: pause every plan worker of this process between two rebuilds.
/// Returns how many workers did not get there within `PAUSE_TIMEOUT` (0 when the fork is safe).
/// Holds the registries until `after_fork_in_parent` or `after_fork_in_child`.
pub fn before_fork() -> usize {
    if !enter_fork() {
        return 0;
    }
    hold_registries();
    let live: Vec<Arc<Gate>> = {
        let mut gates = GATES.lock();
        gates.retain(|g| g.strong_count() > 0);
        gates.iter().filter_map(Weak::upgrade).collect()
    };
    let mut late = 0;
    let mut paused = Vec::with_capacity(live.len());
    for gate in live.into_iter().filter(|g| !g.forked()) {
        late += usize::from(!gate.pause(PAUSE_TIMEOUT));
        paused.push(gate);
    }
    PAUSED.lock().extend(paused);
    late
}

/// Call in the parent after `fork()`: the workers go on.
pub fn after_fork_in_parent() {
    if !leave_fork() {
        return;
    }
    let paused = std::mem::take(&mut *PAUSED.lock());
    let_go_of_registries();
    for gate in paused {
        gate.resume();
    }
}

/// Call in the child after `fork()`: its engines have no worker; they rebuild inline from now on.
/// The gates are only marked forked: their state's lock may have been taken by their thread
/// (which is not in this process) just before the fork, so nothing here may wait on it. A
/// component that works on in the child (the fleet store) registers a new gate for that, from
/// its child hook, which runs once the registries are let go of.
pub fn after_fork_in_child() {
    if !leave_fork() {
        return;
    }
    GENERATION.fetch_add(1, Ordering::AcqRel);
    let hooks: Vec<_> = {
        for gate in std::mem::take(&mut *PAUSED.lock()) {
            gate.mark_forked();
        }
        let mut gates = GATES.lock();
        for gate in gates.iter().filter_map(Weak::upgrade) {
            gate.mark_forked();
        }
        gates.clear();
        CHILD_HOOKS
            .lock()
            .iter()
            .filter_map(Weak::upgrade)
            .collect()
    };
    let_go_of_registries();
    for hook in hooks {
        hook.after_fork_in_child();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn wait_for(cond: impl Fn() -> bool) {
        while !cond() {
            std::thread::yield_now();
        }
    }

    #[test]
    fn a_paused_gate_holds_its_worker_between_two_rebuilds() {
        // Not registered: the other tests' hooks must not resume it.
        let gate = Arc::new(Gate::unregistered());
        let inside = Arc::new(AtomicBool::new(false));
        let rebuilds = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let worker = std::thread::spawn({
            let (gate, inside, rebuilds, stop) =
                (gate.clone(), inside.clone(), rebuilds.clone(), stop.clone());
            move || {
                while !stop.load(Ordering::Acquire) {
                    let _passage = gate.enter();
                    inside.store(true, Ordering::SeqCst);
                    for _ in 0..1000 {
                        std::hint::spin_loop();
                    }
                    rebuilds.fetch_add(1, Ordering::SeqCst);
                    inside.store(false, Ordering::SeqCst);
                }
            }
        });
        wait_for(|| rebuilds.load(Ordering::SeqCst) >= 3);
        assert!(gate.pause(Duration::from_secs(30)));
        let seen = rebuilds.load(Ordering::SeqCst);
        for _ in 0..10_000 {
            assert!(!inside.load(Ordering::SeqCst), "a rebuild ran while paused");
            std::thread::yield_now();
        }
        assert_eq!(rebuilds.load(Ordering::SeqCst), seen);
        gate.resume();
        wait_for(|| rebuilds.load(Ordering::SeqCst) > seen);
        stop.store(true, Ordering::Release);
        worker.join().expect("worker");
    }

    #[test]
    fn hooks_registered_twice_do_the_work_once_and_let_go() {
        // The outer call holds the registries; the inner ones are no-ops and must not wait for
        // them (they would wait forever: run on a thread, so that a regression fails, not hangs).
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            before_fork();
            before_fork();
            after_fork_in_parent();
            let still_held = REGISTRIES.load(Ordering::Acquire);
            after_fork_in_parent();
            // Let go: a gate can be registered again.
            Gate::register();
            let _ = done.send(still_held);
        });
        let still_held = finished
            .recv_timeout(Duration::from_secs(60))
            .expect("nested fork hooks hung");
        assert!(still_held, "the inner call let go of what the outer holds");
    }

    #[test]
    fn an_engine_starts_its_plan_worker_without_taking_the_registries() {
        let engine =
            crate::Engine::with_clock(crate::Policy::default(), crate::SystemClock::shared())
                .unwrap();
        assert!(
            engine.inner.plan_gate.is_some(),
            "no gate for a running clock"
        );
        // As a fork in progress does: the registries are held while the first rebuild starts
        // the worker (under a model's lock, in the engine). It must not wait for them.
        hold_registries();
        let (done, finished) = std::sync::mpsc::channel();
        let e = engine.clone();
        std::thread::spawn(move || {
            let _ = done.send(e.plan_worker().is_some());
        });
        let started = finished.recv_timeout(Duration::from_secs(30));
        let_go_of_registries();
        assert_eq!(
            started,
            Ok(true),
            "starting the worker waited for the registries"
        );
    }

    #[test]
    fn a_gate_forgotten_by_its_worker_leaves_the_registry() {
        let gate = Gate::register();
        let weak = Arc::downgrade(&gate);
        drop(gate);
        assert!(weak.upgrade().is_none());
        Gate::register();
        assert!(GATES.lock().iter().all(|g| !g.ptr_eq(&weak)));
    }
}
