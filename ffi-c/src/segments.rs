//! A grow-only array whose elements never move: read without a lock from any thread while
//! another adds room. The tables behind the C side's ids (`handle`, `detail`) keep their slots
//! here, so that looking an id up is two loads and no lock.
//!
//! Index `i` lives in segment `s`, which holds `FIRST << s` elements; segments are allocated on
//! first use and never freed (the tables are process-wide and live as long as the library), so
//! a reference to an element stays valid for the life of the process.

use std::sync::atomic::{AtomicPtr, Ordering};

/// log2 of the first segment's length.
const FIRST_SHIFT: u32 = 6;
/// Enough segments for every `u32` index: 64 * (2^27 - 1) > 2^32.
const SEGMENTS: usize = 27;

pub(crate) struct Segments<T> {
    segments: [AtomicPtr<T>; SEGMENTS],
}

/// (segment, offset in it) of an index.
fn locate(index: u32) -> (usize, usize) {
    let j = u64::from(index) + (1 << FIRST_SHIFT);
    let segment = 63 - j.leading_zeros() - FIRST_SHIFT;
    (
        segment as usize,
        (j - (1u64 << (segment + FIRST_SHIFT))) as usize,
    )
}

fn segment_len(segment: usize) -> usize {
    1 << (segment as u32 + FIRST_SHIFT)
}

impl<T: Sync> Segments<T> {
    pub(crate) const fn new() -> Segments<T> {
        Segments {
            segments: [const { AtomicPtr::new(std::ptr::null_mut()) }; SEGMENTS],
        }
    }

    /// The element at `index`, if its segment has been allocated.
    #[inline]
    pub(crate) fn get(&self, index: u32) -> Option<&T> {
        let (segment, offset) = locate(index);
        let base = self.segments[segment].load(Ordering::Acquire);
        if base.is_null() {
            return None;
        }
        // SAFETY: a non-null segment pointer came from `ensure`: an allocation of
        // `segment_len(segment)` initialised elements that is never freed, and `offset` is below
        // that length by construction of `locate`.
        Some(unsafe { &*base.add(offset) })
    }

    /// Make room for `index` (each new element made by `init`) and return its element.
    pub(crate) fn ensure(&self, index: u32, init: impl Fn() -> T) -> &T {
        let (segment, offset) = locate(index);
        let slot = &self.segments[segment];
        if slot.load(Ordering::Acquire).is_null() {
            let fresh: Box<[T]> = (0..segment_len(segment)).map(|_| init()).collect();
            let fresh = Box::into_raw(fresh).cast::<T>();
            if slot
                .compare_exchange(
                    std::ptr::null_mut(),
                    fresh,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                )
                .is_err()
            {
                // Another thread allocated it first: give ours back.
                let len = segment_len(segment);
                // SAFETY: `fresh` is the allocation just made by `Box::into_raw` of a boxed slice
                // of `len` elements, and was never published.
                drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(fresh, len)) });
            }
        }
        let base = slot.load(Ordering::Acquire);
        // SAFETY: the segment is allocated (above), never freed, and `offset` is in range.
        unsafe { &*base.add(offset) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;

    #[test]
    fn indices_map_to_distinct_places_across_segment_edges() {
        assert_eq!(locate(0), (0, 0));
        assert_eq!(locate(63), (0, 63));
        assert_eq!(locate(64), (1, 0));
        assert_eq!(locate(191), (1, 127));
        assert_eq!(locate(192), (2, 0));
        let (last, offset) = locate(u32::MAX);
        assert!(last < SEGMENTS && offset < segment_len(last));
        let s: Segments<AtomicU32> = Segments::new();
        assert!(s.get(5).is_none());
        for i in 0..300u32 {
            s.ensure(i, || AtomicU32::new(0))
                .store(i, Ordering::Relaxed);
        }
        for i in 0..300u32 {
            assert_eq!(s.get(i).map(|v| v.load(Ordering::Relaxed)), Some(i));
        }
        assert!(s.get(1_000_000).is_none());
    }
}
