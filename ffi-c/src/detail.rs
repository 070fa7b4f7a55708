//! Recommendation details: what a `smartretry_recommendation` owns beyond its numbers (the
//! reason, the clamps, the alternatives), one made by every recommend and on-failure call and
//! released by the caller right after.
//!
//! They live in their own table, not in the handle table (`handle`): the values are stored
//! inline (no reference count, no type erasure, nothing allocated per call once the table has
//! grown), and making or releasing one is a single mutex, where a handle is the table's write
//! lock plus a reference count. The ids are the slot table's (`slots`), of the detail kind:
//! generation-checked, so a detail released through one copy of a struct is
//! `SMARTRETRY_INVALID_HANDLE` through the other, never a double free; and never a handle's id,
//! nor a handle's id one of theirs.

use crate::slots::{self, Slots, DETAIL_KIND, LAST_GENERATION};
use crate::status::{FfiError, FfiResult};
use smartretry::Recommendation;
use std::sync::{Mutex, MutexGuard};

/// What errors name the value.
const NAME: &str = "recommendation detail";

/// Opaque detail owned by a smartretry_recommendation (reason, clamps, alternatives): a
/// generation-checked id, never an address.
pub struct smartretry_recommendation_detail {
    _private: [u8; 0],
}

static TABLE: Mutex<Slots<Recommendation>> = Mutex::new(Slots::new(LAST_GENERATION));

fn table() -> MutexGuard<'static, Slots<Recommendation>> {
    TABLE.lock().unwrap_or_else(|p| p.into_inner())
}

/// (index, generation) of a detail id; an error for anything that is not one.
fn unpack(ptr: *const smartretry_recommendation_detail) -> FfiResult<(usize, u32)> {
    slots::unpack(DETAIL_KIND, ptr.addr()).ok_or(FfiError::Handle(NAME))
}

/// Keep `rec` and return its id.
pub(crate) fn make(rec: Recommendation) -> FfiResult<*mut smartretry_recommendation_detail> {
    let (index, generation) = table()
        .insert(rec, "too many live recommendations")
        .map_err(FfiError::Argument)?;
    Ok(std::ptr::without_provenance_mut(slots::pack(
        DETAIL_KIND,
        index,
        generation,
    )))
}

/// A copy of the detail behind `ptr` (accessors are rare; the copy is read outside the lock).
pub(crate) fn get(ptr: *const smartretry_recommendation_detail) -> FfiResult<Recommendation> {
    let (index, generation) = unpack(ptr)?;
    table()
        .get(index, generation)
        .cloned()
        .ok_or(FfiError::Handle(NAME))
}

/// Release a detail. NULL is a no-op; an id that is not a live detail (released already, or
/// never one) is an error and changes nothing.
pub(crate) fn release(ptr: *mut smartretry_recommendation_detail) -> FfiResult {
    if ptr.is_null() {
        return Ok(());
    }
    let (index, generation) = unpack(ptr)?;
    // Dropped in place, under the lock (a copy out would cost as much as the drop: a
    // recommendation owns no more than a short list and a reference to its plan).
    table()
        .remove(index, generation, |_| {})
        .then_some(())
        .ok_or(FfiError::Handle(NAME))
}

/// Details not yet released (counted by `smartretry_live_handles`).
pub(crate) fn live() -> usize {
    table().live()
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
}
