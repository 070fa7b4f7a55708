//! The store's background sync thread: what wakes it (a timer, enough finished episodes, a
//! budget running low), and how a forked child takes the store over, since the parent's thread
//! is not in the child.

use crate::store::Syncer;
use arc_swap::ArcSwap;
use parking_lot::{Condvar, Mutex};
use smartretry::fork::{ForkChild, Gate, ProcessOwner};
use smartretry::{Event, Observer};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

/// Wakes the sync thread early when enough episodes finished (called on deciding threads:
/// one atomic add, and a notify once per `threshold` episodes). In a forked child it is what
/// takes the store over, so that the child syncs without being asked to.
pub(crate) struct Trigger {
    pub finished: AtomicU64,
    pub threshold: u64,
    pub wake: Arc<Wake>,
    /// The store's `needs_thread`, read on every finished episode without touching the store.
    pub needs_thread: Arc<AtomicBool>,
    /// Weak: the engine holds its observers, and the store holds the engine.
    pub store: Weak<Shared>,
}

#[derive(Default)]
pub(crate) struct Wake {
    pending: Mutex<Due>,
    cv: Condvar,
}

/// What the sync thread was woken for.
#[derive(Default, Clone, Copy)]
struct Due {
    /// A whole sync (enough episodes finished, or the store is stopping).
    sync: bool,
    /// Only a leasing round (a shared budget ran low).
    lease: bool,
}

impl Wake {
    pub(crate) fn notify(&self) {
        self.pending.lock().sync = true;
        self.cv.notify_one();
    }

    /// Ask for an early leasing round only (cheap: one pipeline, no model exchange).
    pub(crate) fn notify_lease(&self) {
        self.pending.lock().lease = true;
        self.cv.notify_one();
    }
}

impl Observer for Trigger {
    fn on_event(&self, event: &Event<'_>) {
        if matches!(event, Event::Success { .. } | Event::Exhausted { .. }) {
            let n = self.finished.fetch_add(1, Ordering::Relaxed) + 1;
            let due = n % self.threshold == 0;
            // The fork hook has taken the store over and left the thread to start here; without
            // the hooks the process id tells, read only when a sync is due anyway.
            if due || self.needs_thread.load(Ordering::Acquire) {
                if let Some(store) = self.store.upgrade() {
                    store.take_over_if_forked();
                }
            }
            if due {
                self.wake.notify();
            }
        }
    }
}

/// What the store, its thread and its trigger share.
pub(crate) struct Shared {
    pub syncer: Arc<Mutex<Syncer>>,
    pub wake: Arc<Wake>,
    pub stop: Arc<AtomicBool>,
    /// Each sync runs inside it, so a fork never lands in the middle of one (see
    /// `smartretry::fork`). A forked child registers a new one for its own thread.
    pub gate: ArcSwap<Gate>,
    /// The process the thread runs in (a forked child takes the store over).
    pub owner: ProcessOwner,
    /// A forked child took the store over and has yet to start its own thread (started by the
    /// first episode to finish or the first call, not inside the fork hook).
    pub needs_thread: Arc<AtomicBool>,
    /// The background interval (None: attached manually, no thread).
    pub every: Option<Duration>,
    pub thread: Mutex<Option<(JoinHandle<()>, mpsc::Receiver<()>)>>,
    /// The engine id was the caller's: a forked child appends its process id to it.
    pub explicit_id: bool,
}

impl ForkChild for Shared {
    fn after_fork_in_child(&self) {
        self.adopt_if_forked();
    }
}

impl Shared {
    /// In a forked child, once: become a new member of the fleet (see `Syncer::become_child`).
    /// Run by the fork hook, before the child learns anything; without the hooks, at the first
    /// sync due in the child.
    fn adopt_if_forked(&self) {
        if self.owner.is_current() {
            return;
        }
        let mut syncer = self.syncer.lock();
        if self.owner.is_current() {
            return; // another thread of the child took it over first
        }
        syncer.become_child(self.explicit_id);
        self.gate.store(Gate::register());
        self.needs_thread
            .store(self.every.is_some(), Ordering::Release);
        self.owner.take_over();
    }

    /// In a forked child: take the store over, and start its own thread (the parent's is not
    /// in this process).
    pub fn take_over_if_forked(&self) {
        self.adopt_if_forked();
        if !self.needs_thread.swap(false, Ordering::AcqRel) {
            return;
        }
        let mut thread = self.thread.lock();
        // The parent's thread: nothing to join here.
        std::mem::forget(thread.take());
        if let Some(every) = self.every {
            *thread = self.spawn(every);
        }
    }

    pub fn spawn(&self, every: Duration) -> Option<(JoinHandle<()>, mpsc::Receiver<()>)> {
        let (syncer, wake, stop, gate) = (
            self.syncer.clone(),
            self.wake.clone(),
            self.stop.clone(),
            self.gate.load_full(),
        );
        let (done_tx, done_rx) = mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("smartretry-fleet".into())
            .spawn(move || {
                // Early leasing rounds at most this often, so an empty fleet bucket cannot
                // turn budgets running low into a busy loop.
                let lease_gap = (every / 8).min(Duration::from_millis(100));
                let mut due = Due {
                    sync: true,
                    lease: false,
                };
                while !stop.load(Ordering::Acquire) {
                    if due.sync {
                        let _passage = gate.enter();
                        let _ = syncer.lock().sync_counted();
                    } else if due.lease {
                        {
                            let _passage = gate.enter();
                            let _ = syncer.lock().lease_now();
                        }
                        std::thread::sleep(lease_gap);
                    }
                    let mut pending = wake.pending.lock();
                    if !(pending.sync || pending.lease || stop.load(Ordering::Acquire)) {
                        // Timed out: the regular sync.
                        if wake.cv.wait_for(&mut pending, every).timed_out() {
                            pending.sync = true;
                        }
                    }
                    due = std::mem::take(&mut *pending);
                }
                let _ = done_tx.send(());
            });
        // Without a thread the store still works through `sync_now`.
        spawned.ok().map(|h| (h, done_rx))
    }
}
