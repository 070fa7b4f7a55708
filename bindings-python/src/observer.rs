//! Observer callbacks: engine events delivered to Python callables as dicts in the core's one
//! event schema (`EventRecord::to_json_value`).
//!
//! Why a queue and not a Python call from inside the core: the core calls its observers while
//! holding its observer lock, and decisions run with the GIL released. Calling Python there means
//! waiting for the GIL while holding that lock, and `add_observer` holds the GIL while waiting for
//! the lock: a deadlock (issue 10). So the core only ever sees one Rust sink per engine, which
//! copies each event into a per-thread queue without touching Python; the binding method that
//! made the core call then delivers the queued events with the GIL held and no lock held, to a
//! snapshot of the Python observers. Observers may add or clear observers, or call the engine
//! again, from inside a callback.

use crate::convert::json_to_py;
use pyo3::prelude::*;
use smartretry::{Event, EventRecord, Observer};
use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Most events one thread queues between two deliveries (one core call emits a handful; the
/// bound only matters if a delivery is ever skipped). Beyond it events are counted and dropped.
const MAX_PENDING: usize = 1024;

thread_local! {
    /// Events of the core call in progress on this thread, tagged with the emitting engine.
    static PENDING: RefCell<Vec<(usize, EventRecord)>> = const { RefCell::new(Vec::new()) };
}

/// State shared by the Rust sink (inside the core) and the binding's engine.
struct Shared {
    /// Whether any Python observer is registered: without one, events are not even copied.
    active: AtomicBool,
    /// Events dropped because a thread's queue was full.
    dropped: AtomicU64,
}

/// The engine's only core observer: queues events for delivery, never calls Python.
struct Sink {
    shared: Arc<Shared>,
}

impl Sink {
    fn id(&self) -> usize {
        Arc::as_ptr(&self.shared) as usize
    }
}

impl Observer for Sink {
    fn on_event(&self, event: &Event<'_>) {
        if !self.shared.active.load(Ordering::Acquire) {
            return;
        }
        let id = self.id();
        PENDING.with(|q| {
            let mut q = q.borrow_mut();
            if q.len() < MAX_PENDING {
                q.push((id, event.to_record()));
            } else {
                self.shared.dropped.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
}

/// The Python observers of one engine.
pub struct Observers {
    shared: Arc<Shared>,
    /// Only locked for a push, a clear or a snapshot: never while calling Python.
    callbacks: Mutex<Vec<Py<PyAny>>>,
}

impl Observers {
    /// The observer list, and the sink to register once with the core engine.
    pub fn new() -> (Observers, Arc<dyn Observer>) {
        let shared = Arc::new(Shared {
            active: AtomicBool::new(false),
            dropped: AtomicU64::new(0),
        });
        let sink = Arc::new(Sink {
            shared: Arc::clone(&shared),
        });
        let obs = Observers {
            shared,
            callbacks: Mutex::new(Vec::new()),
        };
        (obs, sink)
    }

    fn id(&self) -> usize {
        Arc::as_ptr(&self.shared) as usize
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Py<PyAny>>> {
        // A poisoned list is still a valid list (pushes and clears cannot half-happen).
        self.callbacks.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn add(&self, callback: Py<PyAny>) {
        self.lock().push(callback);
        self.shared.active.store(true, Ordering::Release);
    }

    pub fn clear(&self) {
        let old = std::mem::take(&mut *self.lock());
        self.shared.active.store(false, Ordering::Release);
        drop(old);
    }

    /// Events dropped because a queue was full (zero unless a delivery was skipped).
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// Deliver this thread's queued events of this engine, in order. Call with the GIL held,
    /// after every core call that may emit. Errors raised by callbacks go to
    /// `sys.unraisablehook`, as an observer must never change a decision.
    pub fn deliver(&self, py: Python<'_>) {
        let id = self.id();
        let events: Vec<EventRecord> = PENDING.with(|q| {
            let mut q = q.borrow_mut();
            if q.is_empty() {
                return Vec::new();
            }
            let (mine, others): (Vec<_>, Vec<_>) = q.drain(..).partition(|(e, _)| *e == id);
            *q = others;
            mine.into_iter().map(|(_, e)| e).collect()
        });
        if events.is_empty() {
            return;
        }
        let callbacks: Vec<Py<PyAny>> = self.lock().iter().map(|c| c.clone_ref(py)).collect();
        for event in &events {
            let dict = match json_to_py(py, &event.to_json_value()) {
                Ok(d) => d,
                Err(e) => {
                    e.write_unraisable(py, None);
                    continue;
                }
            };
            for cb in &callbacks {
                if let Err(e) = cb.call1(py, (dict.clone(),)) {
                    e.write_unraisable(py, Some(cb.bind(py)));
                }
            }
        }
    }
}
