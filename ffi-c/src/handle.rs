//! Opaque handles as generation-checked ids, never addresses.
//!
//! A handle the C side holds is an id of the slot table (`slots`: tagged, generation-checked),
//! cast to the opaque pointer type; it is never dereferenced. The slot table maps the index to
//! the live value (an `Arc`, so
//! a handle freed by one thread while another is inside a call stays alive until that call
//! returns). Freeing bumps the slot's generation, so every earlier id of that slot is stale for
//! good; a slot whose generation reaches `LAST_GENERATION` is retired and never reused. A stale,
//! foreign or wrong-type id is therefore always reported (SMARTRETRY_INVALID_HANDLE), whatever
//! the allocator does, and never reaches another owner's value.
//!
//! Cost: a lookup is one shared (read) lock, an index and an `Arc` clone (O(1)); create and free
//! take the write lock for an O(1) push or pop. Recommendation details, made and released on
//! every decision, have a table of their own with the same id rules (`detail`). Ids need 64
//! bits, so the library requires a 64-bit target.

use crate::slots::{self, Slots, HANDLE_KIND, LAST_GENERATION};
use crate::status::{guard, smartretry_status, FfiError, FfiResult};
use crate::text::out_ptr;
use std::any::Any;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

#[cfg(not(target_pointer_width = "64"))]
compile_error!("smartretry-ffi packs 64-bit handle ids into pointers: 64-bit targets only");

/// An opaque C handle type (a zero-sized marker cbindgen declares as an incomplete struct).
pub(crate) trait Handle: Sized {
    type Inner: Send + Sync + 'static;
    const NAME: &'static str;
}

/// The handle table: each live value with its type's name (for wrong-type errors).
pub(crate) struct Table {
    slots: Slots<(Arc<dyn Any + Send + Sync>, &'static str)>,
}

static TABLE: RwLock<Table> = RwLock::new(Table {
    slots: Slots::new(LAST_GENERATION),
});

/// (index, generation) of a handle id; None for anything that is not one.
fn unpack<H: Handle>(ptr: *const H) -> FfiResult<(usize, u32)> {
    slots::unpack(HANDLE_KIND, ptr.addr()).ok_or(FfiError::Handle(H::NAME))
}

/// Lock a mutex, ignoring poisoning (a panic inside a call was already reported as such).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Register `value` and return its id.
pub(crate) fn new_handle<H: Handle>(value: H::Inner) -> FfiResult<*mut H> {
    let value: Arc<dyn Any + Send + Sync> = Arc::new(value);
    let (index, generation) = TABLE
        .write()
        .unwrap_or_else(|p| p.into_inner())
        .slots
        .insert((value, H::NAME), "too many live handles")
        .map_err(FfiError::Argument)?;
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

/// The live value behind a handle, checking NULL, staleness and type.
pub(crate) fn get<H: Handle>(ptr: *const H) -> FfiResult<Arc<H::Inner>> {
    read(|t| t.get(ptr))
}

/// Run `f` on the table under one shared lock (several lookups for the price of one).
pub(crate) fn read<R>(f: impl FnOnce(&Table) -> R) -> R {
    f(&TABLE.read().unwrap_or_else(|p| p.into_inner()))
}

impl Table {
    /// The live value behind a handle, checking NULL, staleness and type.
    pub(crate) fn get<H: Handle>(&self, ptr: *const H) -> FfiResult<Arc<H::Inner>> {
        if ptr.is_null() {
            return Err(FfiError::Null(H::NAME));
        }
        let (index, generation) = unpack(ptr)?;
        let (value, name) = self
            .slots
            .get(index, generation)
            .ok_or(FfiError::Handle(H::NAME))?;
        Arc::clone(value)
            .downcast::<H::Inner>()
            .map_err(|_| FfiError::WrongHandle {
                expected: H::NAME,
                got: name,
            })
    }
}

/// Free a handle. NULL is a no-op; an id that is not a live handle of this type (freed already,
/// stale, or never made here) is an error and changes nothing.
pub(crate) fn free_handle<H: Handle>(ptr: *mut H) -> FfiResult {
    if ptr.is_null() {
        return Ok(());
    }
    let (index, generation) = unpack(ptr)?;
    let mut value = None;
    {
        let mut t = TABLE.write().unwrap_or_else(|p| p.into_inner());
        let (v, name) = t
            .slots
            .get(index, generation)
            .ok_or(FfiError::Handle(H::NAME))?;
        if !v.is::<H::Inner>() {
            return Err(FfiError::WrongHandle {
                expected: H::NAME,
                got: name,
            });
        }
        t.slots.remove(index, generation, |v| value = v.take());
    }
    // Dropped outside the lock: an engine's teardown may be long.
    drop(value);
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
        let handles = TABLE.read().unwrap_or_else(|p| p.into_inner()).slots.live();
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
