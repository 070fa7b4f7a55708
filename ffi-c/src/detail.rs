//! Recommendation details: what a `smartretry_recommendation` owns beyond its numbers (the
//! reason, the clamps, the alternatives), one made by every recommend and on-failure call and
//! released by the caller right after.
//!
//! They live in their own table, not in the handle table (`handle`), built for that rhythm:
//! - the values are stored inline in slots that never move (`segments`): nothing is allocated
//!   per call once the table has grown;
//! - each slot has one atomic state word: its generation, whether it is live, and whether an
//!   accessor is copying it. Making a detail is a plain store of that word; releasing one is a
//!   single compare-and-swap, which is what makes a double release (even from two threads at
//!   once) fail cleanly instead of freeing twice;
//! - free slots wait in a per-thread cache, refilled from and spilled to a shared list in
//!   batches, so the shared lock is taken once per `BATCH` details, not twice per call.
//!
//! The ids are the slot table's (`slots`), of the detail kind: generation-checked, so a detail
//! released through one copy of a struct is `SMARTRETRY_INVALID_HANDLE` through the other, and
//! never a handle's id, nor a handle's id one of theirs. A slot whose generation reaches
//! `LAST_GENERATION` is retired and never reused.

use crate::segments::Segments;
use crate::slots::{self, DETAIL_KIND, LAST_GENERATION};
use crate::status::{FfiError, FfiResult};
use smartretry::Recommendation;
use std::cell::{RefCell, UnsafeCell};
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard};

/// What errors name the value.
const NAME: &str = "recommendation detail";

/// State bit: the slot holds a detail.
const LIVE: u32 = 1;
/// State bit: an accessor is copying the detail (a release waits for it).
const READING: u32 = 2;
/// Free slots moved between a thread's cache and the shared list at a time.
const BATCH: usize = 32;

/// Opaque detail owned by a smartretry_recommendation (reason, clamps, alternatives): a
/// generation-checked id, never an address.
pub struct smartretry_recommendation_detail {
    _private: [u8; 0],
}

/// One place for a detail: `state` is `generation << 2 | READING | LIVE`; `value` is initialised
/// exactly while LIVE is set.
struct Slot {
    state: AtomicU32,
    value: UnsafeCell<MaybeUninit<Recommendation>>,
}

// SAFETY: `value` is written only by the thread that took the slot off a free list (no one else
// can reach a free slot: its state is not LIVE, so every id of it is refused), read by an
// accessor only while it holds the READING bit, and dropped only by the one release whose
// compare-and-swap took LIVE away, which waits for READING to clear. `Recommendation` is Send.
unsafe impl Sync for Slot {}

impl Slot {
    fn fresh() -> Slot {
        Slot {
            state: AtomicU32::new(1 << 2),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }
}

static SLOTS: Segments<Slot> = Segments::new();

/// The shared side: free slots no thread has cached, and how many slots exist.
struct Shared {
    free: Vec<u32>,
    len: u32,
}

static SHARED: Mutex<Shared> = Mutex::new(Shared {
    free: Vec::new(),
    len: 0,
});

fn shared() -> MutexGuard<'static, Shared> {
    SHARED.lock().unwrap_or_else(|p| p.into_inner())
}

/// A thread's free slots; given back to the shared list when the thread ends.
struct Cache(RefCell<Vec<u32>>);

impl Drop for Cache {
    fn drop(&mut self) {
        let mine = std::mem::take(self.0.get_mut());
        shared().free.extend(mine);
    }
}

thread_local! {
    static CACHE: Cache = const { Cache(RefCell::new(Vec::new())) };
}

/// Up to `BATCH` free slots from the shared list, new ones made when it is empty.
fn take_batch(into: &mut Vec<u32>) -> FfiResult {
    let mut s = shared();
    let keep = s.free.len().saturating_sub(BATCH);
    into.extend(s.free.drain(keep..));
    while into.len() < BATCH {
        let index = s.len;
        s.len = index
            .checked_add(1)
            .ok_or_else(|| FfiError::Argument("too many live recommendations".to_string()))?;
        SLOTS.ensure(index, Slot::fresh);
        into.push(index);
    }
    Ok(())
}

/// A free slot's index, from this thread's cache when it has one.
fn take_free() -> FfiResult<u32> {
    let from_cache = CACHE.try_with(|c| {
        let mut free = c.0.borrow_mut();
        if free.is_empty() {
            take_batch(&mut free)?;
        }
        free.pop()
            .ok_or_else(|| FfiError::Argument("no free slot".into()))
    });
    match from_cache {
        Ok(index) => index,
        // The thread is ending (its cache is gone): straight from the shared list.
        Err(_) => {
            let mut one = Vec::new();
            take_batch(&mut one)?;
            let index = one
                .pop()
                .ok_or_else(|| FfiError::Argument("no free slot".into()))?;
            shared().free.extend(one);
            Ok(index)
        }
    }
}

/// Give a free slot back: to this thread's cache, spilling a batch to the shared list when the
/// cache is full (a thread that releases what another makes would otherwise hoard slots).
fn give_free(index: u32) {
    let cached = CACHE.try_with(|c| {
        let mut free = c.0.borrow_mut();
        free.push(index);
        if free.len() >= 2 * BATCH {
            let spill = free.len() - BATCH;
            shared().free.extend(free.drain(spill..));
        }
    });
    if cached.is_err() {
        shared().free.push(index);
    }
}

/// The slot, index and generation of a detail id; an error for anything that is not one.
fn slot_of(ptr: *const smartretry_recommendation_detail) -> FfiResult<(&'static Slot, u32, u32)> {
    // let-else, not `ok_or`: that would build (and drop) the error on every call.
    let Some((index, generation)) = slots::unpack(DETAIL_KIND, ptr.addr()) else {
        return Err(FfiError::Handle(NAME));
    };
    let index = index as u32; // `unpack` takes 32 bits
    let Some(slot) = SLOTS.get(index) else {
        return Err(FfiError::Handle(NAME));
    };
    Ok((slot, index, generation))
}

/// Keep `rec` and return its id.
pub(crate) fn make(rec: Recommendation) -> FfiResult<*mut smartretry_recommendation_detail> {
    let index = take_free()?;
    let Some(slot) = SLOTS.get(index) else {
        return Err(FfiError::Handle(NAME));
    };
    let generation = slot.state.load(Ordering::Relaxed) >> 2;
    // SAFETY: the slot came off a free list, so this thread is the only one that can reach its
    // value (see `Slot`), and it holds no detail (LIVE is clear), so nothing is overwritten.
    unsafe { (*slot.value.get()).write(rec) };
    slot.state.store(generation << 2 | LIVE, Ordering::Release);
    Ok(std::ptr::without_provenance_mut(slots::pack(
        DETAIL_KIND,
        index,
        generation,
    )))
}

/// A copy of the detail behind `ptr` (accessors are rare; a release waits for the copy).
pub(crate) fn get(ptr: *const smartretry_recommendation_detail) -> FfiResult<Recommendation> {
    let (slot, _, generation) = slot_of(ptr)?;
    let live = generation << 2 | LIVE;
    loop {
        match slot.state.compare_exchange_weak(
            live,
            live | READING,
            Ordering::Acquire,
            Ordering::Relaxed,
        ) {
            Ok(_) => break,
            Err(now) if now == live | READING || now == live => std::hint::spin_loop(),
            Err(_) => return Err(FfiError::Handle(NAME)),
        }
    }
    // SAFETY: LIVE with this generation means the value is initialised, and holding READING
    // keeps every release (the only writer of a live slot) away until the store below.
    let copy = unsafe { (*slot.value.get()).assume_init_ref().clone() };
    slot.state.store(live, Ordering::Release);
    Ok(copy)
}

/// Release a detail. NULL is a no-op; an id that is not a live detail (released already, or
/// never one) is an error and changes nothing.
pub(crate) fn release(ptr: *mut smartretry_recommendation_detail) -> FfiResult {
    if ptr.is_null() {
        return Ok(());
    }
    let (slot, index, generation) = slot_of(ptr)?;
    let live = generation << 2 | LIVE;
    let next = (generation + 1).min(LAST_GENERATION);
    loop {
        match slot
            .state
            .compare_exchange_weak(live, next << 2, Ordering::AcqRel, Ordering::Relaxed)
        {
            Ok(_) => break,
            Err(now) if now == live | READING || now == live => std::hint::spin_loop(),
            Err(_) => return Err(FfiError::Handle(NAME)),
        }
    }
    // SAFETY: this call's compare-and-swap is the one that took LIVE away from this generation,
    // so the value is initialised and no other release, accessor or maker can reach it now.
    unsafe { (*slot.value.get()).assume_init_drop() };
    if next < LAST_GENERATION {
        give_free(index);
    }
    Ok(())
}

/// Details not yet released (counted by `smartretry_live_handles`; a scan, for tests).
pub(crate) fn live() -> usize {
    let len = shared().len;
    (0..len)
        .filter_map(|i| SLOTS.get(i))
        .filter(|s| s.state.load(Ordering::Acquire) & LIVE != 0)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slots::TAG;
    use smartretry::{Engine, Failure, ManualClock, Policy};
    use std::time::Duration;

    fn rec() -> Recommendation {
        let engine = Engine::with_clock(
            Policy::default(),
            ManualClock::shared(Duration::from_secs(1_000)),
        )
        .expect("engine");
        let mut ep = engine.begin("q", None).expect("episode");
        engine
            .on_failure(&mut ep, &Failure::http(503))
            .expect("rec")
    }

    #[test]
    fn released_ids_are_stale_for_good_and_slots_retire() {
        let r = rec();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..40 {
            let id = make(r.clone()).expect("make");
            assert!(seen.insert(id.addr()), "an id was handed out twice");
            assert_eq!(id.addr() as u64 & (TAG | DETAIL_KIND), TAG | DETAIL_KIND);
            assert_eq!(get(id).expect("live").delay, r.delay);
            release(id).expect("release");
            assert!(matches!(get(id), Err(FfiError::Handle(_))));
            assert!(matches!(release(id), Err(FfiError::Handle(_))));
        }
    }

    #[test]
    fn ids_that_are_not_details_are_refused() {
        assert!(release(std::ptr::null_mut()).is_ok());
        let id = make(rec()).expect("make");
        // The same id without the detail bit (what a handle id looks like), or without the tag.
        let as_handle = std::ptr::without_provenance_mut(id.addr() & !(DETAIL_KIND as usize));
        assert!(matches!(get(as_handle), Err(FfiError::Handle(_))));
        let untagged = std::ptr::without_provenance_mut(id.addr() & !(TAG as usize));
        assert!(matches!(release(untagged), Err(FfiError::Handle(_))));
        // Another generation of the same slot.
        let other = std::ptr::without_provenance_mut(id.addr() + (1 << 32));
        assert!(matches!(get(other), Err(FfiError::Handle(_))));
        assert!(get(id).is_ok(), "a refused id changed the live one");
        release(id).expect("release");
    }

    #[test]
    fn details_cross_threads_and_a_double_release_frees_once() {
        let r = rec();
        // Made on one thread, released on another (the releasing thread's cache spills).
        let ids: Vec<usize> = (0..500)
            .map(|_| make(r.clone()).expect("make").addr())
            .collect();
        std::thread::spawn(move || {
            for id in ids {
                release(std::ptr::without_provenance_mut(id)).expect("release");
            }
        })
        .join()
        .expect("thread");
        // Two threads release the same detail at once, many times: exactly one wins each time.
        for _ in 0..200 {
            let id = make(r.clone()).expect("make").addr();
            let racer =
                std::thread::spawn(move || release(std::ptr::without_provenance_mut(id)).is_ok());
            let mine = release(std::ptr::without_provenance_mut(id)).is_ok();
            let theirs = racer.join().expect("thread");
            assert!(
                mine ^ theirs,
                "a detail was released {} times",
                u8::from(mine) + u8::from(theirs)
            );
        }
        // An accessor copying while another thread releases: the copy is whole or refused.
        for _ in 0..200 {
            let id = make(r.clone()).expect("make").addr();
            let reader =
                std::thread::spawn(move || get(std::ptr::without_provenance(id)).map(|c| c.delay));
            release(std::ptr::without_provenance_mut(id)).expect("release");
            if let Ok(delay) = reader.join().expect("thread") {
                assert_eq!(delay, r.delay);
            }
        }
    }
}
