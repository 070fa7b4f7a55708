//! Opaque handles as generation-checked ids, never addresses.
//!
//! A handle the C side holds is an id of the slot table (`slots`: tagged, generation-checked),
//! cast to the opaque pointer type; it is never dereferenced. Each slot publishes its live value
//! (an entry owning an `Arc`) through an atomic pointer in storage that never moves
//! (`segments`), so a lookup takes no lock and no reference count: the calling thread is pinned
//! (`readers`) for the call, and a freed value is dropped only once every call that could have
//! read it has returned. Freeing bumps the slot's generation, so every earlier id of that slot
//! is stale for good; a slot whose generation reaches `LAST_GENERATION` is retired and never
//! reused. A stale, foreign or wrong-type id is therefore always reported
//! (SMARTRETRY_INVALID_HANDLE), whatever the allocator does, and never reaches another owner's
//! value.
//!
//! Cost: a call pins once (one atomic swap on a word of its own thread) and then reads each
//! handle with two loads and a type check; create and free take the table's writer lock for an
//! O(1) push or pop. Recommendation details, made and released on every decision, have a table
//! of their own with the same id rules (`detail`). Ids need 64 bits, so the library requires a
//! 64-bit target.

use crate::readers::{self, Pin};
use crate::segments::Segments;
use crate::slots::{self, Slots, HANDLE_KIND, LAST_GENERATION};
use crate::status::{guard, smartretry_status, FfiError, FfiResult};
use crate::text::out_ptr;
use std::any::Any;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

#[cfg(not(target_pointer_width = "64"))]
compile_error!("smartretry-ffi packs 64-bit handle ids into pointers: 64-bit targets only");

/// An opaque C handle type (a zero-sized marker cbindgen declares as an incomplete struct).
pub(crate) trait Handle: Sized {
    type Inner: Send + Sync + 'static;
    const NAME: &'static str;
}

/// What a slot publishes while its handle is live.
struct Entry {
    generation: u32,
    /// The type's name, for wrong-type errors.
    name: &'static str,
    value: Arc<dyn Any + Send + Sync>,
}

/// The published entries, by slot index.
static PUBLISHED: Segments<AtomicPtr<Entry>> = Segments::new();

/// Which slots are live and their generations; held by creating and freeing only.
static WRITER: Mutex<Slots<()>> = Mutex::new(Slots::new(LAST_GENERATION));

fn writer() -> MutexGuard<'static, Slots<()>> {
    lock(&WRITER)
}

/// Where the entry of slot `index` is published, if the table ever had that slot.
fn published(index: usize) -> Option<&'static AtomicPtr<Entry>> {
    u32::try_from(index).ok().and_then(|i| PUBLISHED.get(i))
}

/// (index, generation) of a handle id; None for anything that is not one.
fn unpack<H: Handle>(ptr: *const H) -> FfiResult<(usize, u32)> {
    // A match, not `ok_or`: that would build (and drop) the error on every call.
    match slots::unpack(HANDLE_KIND, ptr.addr()) {
        Some(place) => Ok(place),
        None => Err(FfiError::Handle(H::NAME)),
    }
}

/// Lock a mutex, ignoring poisoning (a panic inside a call was already reported as such).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Register `value` and return its id.
pub(crate) fn new_handle<H: Handle>(value: H::Inner) -> FfiResult<*mut H> {
    let value: Arc<dyn Any + Send + Sync> = Arc::new(value);
    let mut w = writer();
    let (index, generation) = w
        .insert((), "too many live handles")
        .map_err(FfiError::Argument)?;
    let entry = Box::into_raw(Box::new(Entry {
        generation,
        name: H::NAME,
        value,
    }));
    PUBLISHED
        .ensure(index, || AtomicPtr::new(std::ptr::null_mut()))
        .store(entry, Ordering::SeqCst);
    drop(w);
    Ok(std::ptr::without_provenance_mut(slots::pack(
        HANDLE_KIND,
        index,
        generation,
    )))
}

/// Write a new handle to `out` (already checked non-NULL by the caller's `out_ptr`).
pub(crate) fn put_handle<H: Handle>(out: &mut *mut H, value: H::Inner) -> FfiResult {
    *out = new_handle(value)?;
    Ok(())
}

/// The id of a handle, for comparing two handles.
pub(crate) fn id<H>(ptr: *const H) -> usize {
    ptr.addr()
}

/// The live value behind a handle, checking NULL, staleness and type, as a reference count of
/// its own (for values kept beyond one lookup; a call's own lookups use `Pinned::get`).
pub(crate) fn get<H: Handle>(ptr: *const H) -> FfiResult<Arc<H::Inner>> {
    let p = pinned();
    let (entry, _) = p.entry::<H>(ptr)?;
    Arc::clone(&entry.value)
        .downcast::<H::Inner>()
        .map_err(|_| FfiError::WrongHandle {
            expected: H::NAME,
            got: entry.name,
        })
}

/// A call's view of the handle table: handles read through it stay valid while it lives.
pub(crate) struct Pinned {
    _pin: Pin,
}

/// Pin this thread for a call's lookups (see `readers`).
#[inline]
pub(crate) fn pinned() -> Pinned {
    Pinned {
        _pin: readers::pin(),
    }
}

impl Pinned {
    /// The live entry behind a handle and its value, checking NULL and staleness.
    #[inline]
    fn entry<H: Handle>(&self, ptr: *const H) -> FfiResult<(&Entry, &(dyn Any + Send + Sync))> {
        if ptr.is_null() {
            return Err(FfiError::Null(H::NAME));
        }
        let (index, generation) = unpack(ptr)?;
        let Some(entry) = published(index)
            .map(|p| p.load(Ordering::SeqCst))
            .filter(|p| !p.is_null())
        else {
            return Err(FfiError::Handle(H::NAME));
        };
        // SAFETY: a published entry is dropped only through `readers::retire`, after every
        // thread pinned when it was unpublished has unpinned; this thread is pinned for the
        // lifetime of `self`, so the entry outlives the reference.
        let entry = unsafe { &*entry };
        if entry.generation != generation {
            return Err(FfiError::Handle(H::NAME));
        }
        Ok((entry, &*entry.value))
    }

    /// The live value behind a handle, checking NULL, staleness and type.
    #[inline]
    pub(crate) fn get<H: Handle>(&self, ptr: *const H) -> FfiResult<&H::Inner> {
        let (entry, value) = self.entry::<H>(ptr)?;
        match value.downcast_ref::<H::Inner>() {
            Some(inner) => Ok(inner),
            None => Err(FfiError::WrongHandle {
                expected: H::NAME,
                got: entry.name,
            }),
        }
    }
}

/// Free a handle. NULL is a no-op; an id that is not a live handle of this type (freed already,
/// stale, or never made here) is an error and changes nothing.
pub(crate) fn free_handle<H: Handle>(ptr: *mut H) -> FfiResult {
    if ptr.is_null() {
        return Ok(());
    }
    let (index, generation) = unpack(ptr)?;
    let taken = {
        let mut w = writer();
        w.get(index, generation).ok_or(FfiError::Handle(H::NAME))?;
        let slot = published(index).ok_or(FfiError::Handle(H::NAME))?;
        let entry = slot.load(Ordering::SeqCst);
        if entry.is_null() {
            return Err(FfiError::Handle(H::NAME));
        }
        // SAFETY: the writer lock is held, and only its holders replace or take a published
        // entry, so this one stays published (and alive) while it is checked.
        let entry = unsafe { &*entry };
        if !entry.value.is::<H::Inner>() {
            return Err(FfiError::WrongHandle {
                expected: H::NAME,
                got: entry.name,
            });
        }
        w.remove(index, generation, |_| {});
        slot.swap(std::ptr::null_mut(), Ordering::SeqCst)
    };
    // SAFETY: `taken` came from `Box::into_raw` in `new_handle`, and the swap above (under the
    // writer lock) took it out of the table for good: no one else will take it again.
    let taken = unsafe { Box::from_raw(taken) };
    // Dropped once no call can still read it, outside the lock: an engine's teardown may be long.
    readers::retire(taken);
    Ok(())
}

/// The number of live handles of every type (recommendation details included): a leak check for
/// tests, e.g. equal before and after a block that frees what it made.
///
/// # Safety
/// `out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_live_handles(out: *mut usize) -> smartretry_status {
    guard(|| {
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(out, "out") }?;
        let handles = writer().live();
        *out = handles + crate::detail::live();
        Ok(())
    })
}

/// Declare an opaque handle type: `impl_handle!(smartretry_clock, ClockHandle, "clock")`.
macro_rules! impl_handle {
    ($ty:ident, $inner:ty, $name:expr) => {
        impl $crate::handle::Handle for $ty {
            type Inner = $inner;
            const NAME: &'static str = $name;
        }
    };
}
pub(crate) use impl_handle;

#[cfg(test)]
mod tests {
    use super::*;

    struct A;
    struct B;
    impl_handle!(A, u32, "a");
    impl_handle!(B, String, "b");

    #[test]
    fn stale_ids_never_match_and_slots_retire() {
        let mut seen = std::collections::HashSet::new();
        for i in 0..100u32 {
            let h = new_handle::<A>(i).expect("handle");
            assert!(seen.insert(h.addr()), "an id was handed out twice");
            assert_eq!(h.addr() as u64 >> 63, 1, "ids carry the tag bit");
            assert_eq!(*get(h).expect("live"), i);
            free_handle(h).expect("free");
            assert!(matches!(get(h), Err(FfiError::Handle(_))));
            assert!(matches!(free_handle(h), Err(FfiError::Handle(_))));
        }
    }

    #[test]
    fn wrong_type_is_refused_and_untouched() {
        let a = new_handle::<A>(7).expect("handle");
        let as_b = a.cast::<B>();
        assert!(matches!(get(as_b), Err(FfiError::WrongHandle { .. })));
        assert!(matches!(
            free_handle(as_b),
            Err(FfiError::WrongHandle { .. })
        ));
        assert_eq!(*get(a).expect("still live"), 7);
        free_handle(a).expect("free");
        assert!(get::<A>(std::ptr::null()).is_err());
        assert!(free_handle::<A>(std::ptr::null_mut()).is_ok());
        // An arbitrary id far outside the table.
        assert!(get::<A>(std::ptr::without_provenance(0xdead_beef_0000_1234)).is_err());
        // The same id without its tag bit is refused too.
        let b = new_handle::<A>(8).expect("handle");
        let untagged = std::ptr::without_provenance::<A>(b.addr() & !(1 << 63));
        assert!(get(untagged).is_err());
        free_handle(b).expect("free");
    }
}
