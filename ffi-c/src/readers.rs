//! Reading shared values without a lock or a reference count, and freeing them safely: a small
//! read-copy-update scheme for the handle table (`handle`).
//!
//! A thread inside a call is *pinned*: its reader word is odd. Pinning is one atomic swap on a
//! word only that thread writes (a full fence), unpinning a plain release store; nested pins
//! (a callback calling back in) only count. A value taken out of a table is *retired*: it is
//! dropped once every thread that was pinned when it was taken out has unpinned since, because
//! only those can still hold a reference to it. When no other thread is inside a call (and the
//! freeing thread is not inside one itself, through a callback), the value is dropped at once,
//! on the freeing thread, as a reference count dropping to zero would. Otherwise it waits in a
//! list, and is dropped by whichever thread next looks at the list and finds it ready: an unpin
//! every `RECLAIM_EVERY` calls of a thread while the list holds something, and every retire that
//! finds the list long. A free never waits for another thread: under load from several threads,
//! where some other call is nearly always in flight, waiting would cost each free about a call.
//!
//! After a `fork` the child has only the forking thread: the others' words are cleared
//! (`after_fork_in_child`), or the child would wait for threads it does not have.

use std::any::Any;
use std::cell::Cell;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

/// A thread's unpins between two looks at the waiting list, while it holds something (and the
/// list's length at which a retire looks at it too).
const RECLAIM_EVERY: u32 = 64;

/// One thread's reader word: odd while the thread is inside a call. Never freed: a thread that
/// ends hands it to the next new thread.
struct Reader {
    word: AtomicU64,
    taken: AtomicBool,
}

static REGISTRY: Mutex<Vec<&'static Reader>> = Mutex::new(Vec::new());
/// Pins of threads whose thread-locals are already gone (calls made from a thread's teardown):
/// counted, and no retired value is dropped while any is held.
static UNREGISTERED: AtomicUsize = AtomicUsize::new(0);

/// A retired value and the reader words that must move on before it may be dropped.
struct Deferred {
    /// Held only to be dropped.
    _value: Box<dyn Any + Send>,
    waiting: Vec<(&'static Reader, u64)>,
}

static DEFERRED: Mutex<Vec<Deferred>> = Mutex::new(Vec::new());
/// Set while `DEFERRED` holds something: unpins look at the list only then.
static PENDING: AtomicBool = AtomicBool::new(false);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// This thread's reader, how deep it is in calls, and its unpins until it next looks at the
/// waiting list.
struct Local {
    reader: &'static Reader,
    depth: Cell<u32>,
    until_reclaim: Cell<u32>,
}

impl Local {
    fn register() -> Local {
        let mut registry = lock(&REGISTRY);
        let reader = match registry.iter().find(|r| {
            r.taken
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
        }) {
            Some(r) => *r,
            None => {
                let r: &'static Reader = Box::leak(Box::new(Reader {
                    word: AtomicU64::new(0),
                    taken: AtomicBool::new(true),
                }));
                registry.push(r);
                r
            }
        };
        Local {
            reader,
            depth: Cell::new(0),
            until_reclaim: Cell::new(0),
        }
    }
}

impl Drop for Local {
    fn drop(&mut self) {
        self.reader.taken.store(false, Ordering::Release);
    }
}

thread_local! {
    static LOCAL: Local = Local::register();
}

/// Proof that this thread is pinned: references read under it stay valid until it is dropped.
pub(crate) struct Pin {
    registered: bool,
    /// A pin belongs to its thread.
    _not_send: PhantomData<*const ()>,
}

/// Pin this thread (see the module doc).
#[inline]
pub(crate) fn pin() -> Pin {
    let registered = LOCAL
        .try_with(|l| {
            let depth = l.depth.get();
            if depth == 0 {
                let word = l.reader.word.load(Ordering::Relaxed) + 1;
                // The swap is a full fence: the loads of the call come after it, and a free
                // that unpublished a value before it sees this thread pinned.
                l.reader.word.swap(word, Ordering::SeqCst);
            }
            l.depth.set(depth + 1);
        })
        .is_ok();
    if !registered {
        UNREGISTERED.fetch_add(1, Ordering::SeqCst);
    }
    Pin {
        registered,
        _not_send: PhantomData,
    }
}

impl Drop for Pin {
    #[inline]
    fn drop(&mut self) {
        let look = if self.registered {
            LOCAL
                .try_with(|l| {
                    let depth = l.depth.get() - 1;
                    l.depth.set(depth);
                    if depth != 0 {
                        return false;
                    }
                    let word = l.reader.word.load(Ordering::Relaxed) + 1;
                    l.reader.word.store(word, Ordering::Release);
                    if !PENDING.load(Ordering::Relaxed) {
                        return false;
                    }
                    let left = l.until_reclaim.get();
                    l.until_reclaim
                        .set(left.checked_sub(1).unwrap_or(RECLAIM_EVERY));
                    left == 0
                })
                .unwrap_or(true)
        } else {
            UNREGISTERED.fetch_sub(1, Ordering::Release);
            true
        };
        if look && PENDING.load(Ordering::Relaxed) {
            reclaim();
        }
    }
}

/// Readers whose word has not moved since `waiting` saw it odd.
fn still_waiting(waiting: &mut Vec<(&'static Reader, u64)>) {
    waiting.retain(|(r, word)| r.word.load(Ordering::SeqCst) == *word);
}

/// Drop `value`, which was just taken out of a table (with a sequentially consistent
/// read-modify-write), once no thread can still be reading it: see the module doc.
pub(crate) fn retire<T: Send + 'static>(value: T) {
    let (me, nested) = LOCAL
        .try_with(|l| (Some(l.reader as *const Reader), l.depth.get() > 0))
        .unwrap_or((None, false));
    let waiting: Vec<(&'static Reader, u64)> = lock(&REGISTRY)
        .iter()
        .filter(|r| nested || Some(**r as *const Reader) != me)
        .map(|r| (*r, r.word.load(Ordering::SeqCst)))
        .filter(|(_, word)| word & 1 == 1)
        .collect();
    if waiting.is_empty() && UNREGISTERED.load(Ordering::SeqCst) == 0 {
        drop(value);
        return;
    }
    let waiting_now = {
        let mut deferred = lock(&DEFERRED);
        deferred.push(Deferred {
            _value: Box::new(value),
            waiting,
        });
        PENDING.store(true, Ordering::SeqCst);
        deferred.len()
    };
    if waiting_now >= RECLAIM_EVERY as usize && !nested {
        reclaim();
    }
}

/// Drop every deferred value no thread can still be reading (outside the list's lock: a drop
/// may be long, an engine's teardown).
fn reclaim() {
    let ready: Vec<Deferred> = {
        let Ok(mut deferred) = DEFERRED.try_lock() else {
            return;
        };
        if UNREGISTERED.load(Ordering::SeqCst) != 0 {
            return;
        }
        let mut ready = Vec::new();
        let mut i = 0;
        while i < deferred.len() {
            still_waiting(&mut deferred[i].waiting);
            if deferred[i].waiting.is_empty() {
                ready.push(deferred.swap_remove(i));
            } else {
                i += 1;
            }
        }
        if deferred.is_empty() {
            PENDING.store(false, Ordering::SeqCst);
        }
        ready
    };
    drop(ready);
}

/// In a forked child: every other thread of the parent is gone, so none of them is inside a call
/// (their readers are free for the child's new threads). Deferred values waiting only for them
/// are dropped at this thread's next unpin.
pub(crate) fn after_fork_in_child() {
    let me = LOCAL.try_with(|l| l.reader as *const Reader).ok();
    let Ok(registry) = REGISTRY.try_lock() else {
        return;
    };
    for r in registry.iter().filter(|r| Some(**r as *const Reader) != me) {
        let word = r.word.load(Ordering::Relaxed);
        r.word.store(word + (word & 1), Ordering::SeqCst);
        r.taken.store(false, Ordering::Release);
    }
    PENDING.store(true, Ordering::SeqCst);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::{mpsc, Arc};

    /// Counts its drops.
    struct Tracked(Arc<AtomicUsize>);
    impl Drop for Tracked {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_value_outlives_every_call_that_could_read_it() {
        let drops = Arc::new(AtomicUsize::new(0));
        // Another thread inside a call: the free leaves the value in the waiting list.
        let (entered_tx, entered_rx) = mpsc::channel();
        let (leave_tx, leave_rx) = mpsc::channel::<()>();
        let reader = std::thread::spawn(move || {
            let p = pin();
            entered_tx.send(()).expect("send");
            leave_rx.recv().expect("recv");
            drop(p);
        });
        entered_rx.recv().expect("recv");
        retire(Tracked(drops.clone()));
        assert_eq!(drops.load(Ordering::SeqCst), 0, "dropped under a reader");
        leave_tx.send(()).expect("send");
        reader.join().expect("join");
        settles_at(&drops, 1);

        // Freed from inside a call on the same thread (a callback): not before the outer unpin.
        let outer = pin();
        let inner = pin();
        retire(Tracked(drops.clone()));
        drop(inner);
        assert_eq!(drops.load(Ordering::SeqCst), 1, "dropped inside the call");
        drop(outer);
        settles_at(&drops, 2);
    }

    /// The drop count reaches `n` once this thread's unpins find the value ready. Other tests'
    /// threads pinned at the free delay it until their calls return, so unpin until it does.
    fn settles_at(drops: &AtomicUsize, n: usize) {
        for _ in 0..1_000_000 {
            if drops.load(Ordering::SeqCst) == n {
                return;
            }
            drop(pin());
            std::thread::yield_now();
        }
        assert_eq!(
            drops.load(Ordering::SeqCst),
            n,
            "a retired value was never dropped"
        );
    }
}
