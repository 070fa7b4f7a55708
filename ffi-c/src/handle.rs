//! Opaque handles as generation-checked ids, never addresses.
//!
//! A handle the C side holds is `1 << 63 | (generation << 32) | slot index`, cast to the opaque
//! pointer type; it is never dereferenced. Bit 63 keeps every id outside the user address space,
//! so a garbage collector that scans pointer-typed fields (Go's, through cgo) never mistakes one
//! for a pointer into its heap. The slot table maps the index to the live value (an `Arc`, so
//! a handle freed by one thread while another is inside a call stays alive until that call
//! returns). Freeing bumps the slot's generation, so every earlier id of that slot is stale for
//! good; a slot whose generation reaches `LAST_GENERATION` is retired and never reused. A stale,
//! foreign or wrong-type id is therefore always reported (SMARTRETRY_INVALID_HANDLE), whatever
//! the allocator does, and never reaches another owner's value.
//!
//! Cost: a lookup is one shared (read) lock, an index and an `Arc` clone (O(1)); create and free
//! take the write lock for an O(1) push or pop. Ids need 64 bits, so the library requires a 64-bit
//! target.

use crate::status::{guard, smartretry_status, FfiError, FfiResult};
use crate::text::out_ptr;
use std::any::Any;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, RwLock};

#[cfg(not(target_pointer_width = "64"))]
compile_error!("smartretry-ffi packs 64-bit handle ids into pointers: 64-bit targets only");

/// An opaque C handle type (a zero-sized marker cbindgen declares as an incomplete struct).
pub(crate) trait Handle: Sized {
    type Inner: Send + Sync + 'static;
    const NAME: &'static str;
    /// Keep a released value's allocation for the next handle of this type (a handle created and
    /// released on every call, such as a recommendation's detail: no allocation per call).
    const RECYCLE: bool = false;
}

/// Released allocations kept for reuse, at most this many (they hold their last value until
/// reused, so the bound is on memory too).
const MAX_SPARES: usize = 64;

/// The generation after which a slot is retired (small in unit tests, to exercise retirement);
/// generations take 31 bits of the id.
const LAST_GENERATION: u32 = if cfg!(test) { 8 } else { (1 << 31) - 1 };

/// Set in every id: no user-space address has it.
const TAG: u64 = 1 << 63;

struct Slot {
    generation: u32,
    value: Option<(Arc<dyn Any + Send + Sync>, &'static str)>,
}

/// The slot table (its fields are private to this module).
#[derive(Default)]
pub(crate) struct Table {
    slots: Vec<Slot>,
    /// Indices of empty, unretired slots.
    free: Vec<u32>,
    /// Released allocations of recycling handle types (each the only reference to its value).
    spares: Vec<Arc<dyn Any + Send + Sync>>,
}

static TABLE: LazyLock<RwLock<Table>> = LazyLock::new(RwLock::default);

fn pack(index: u32, generation: u32) -> usize {
    (TAG | (u64::from(generation) << 32) | u64::from(index)) as usize
}

/// (index, generation); an untagged value gets generation 0, which no slot ever has.
fn unpack(id: usize) -> (usize, u32) {
    let id = id as u64;
    let generation = if id & TAG == 0 {
        0
    } else {
        ((id & !TAG) >> 32) as u32
    };
    ((id & 0xffff_ffff) as usize, generation)
}

/// Lock a mutex, ignoring poisoning (a panic inside a call was already reported as such).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Register `value` and return its id.
pub(crate) fn new_handle<H: Handle>(value: H::Inner) -> FfiResult<*mut H> {
    let mut t = TABLE.write().unwrap_or_else(|p| p.into_inner());
    let value = reuse::<H>(&mut t, value);
    let index = match t.free.pop() {
        Some(i) => i,
        None => {
            let i = u32::try_from(t.slots.len())
                .map_err(|_| FfiError::Argument("too many live handles".into()))?;
            t.slots.push(Slot {
                generation: 1,
                value: None,
            });
            i
        }
    };
    let slot = &mut t.slots[index as usize];
    slot.value = Some((value, H::NAME));
    Ok(std::ptr::without_provenance_mut(pack(
        index,
        slot.generation,
    )))
}

/// Write a new handle to `out` (already checked non-NULL by the caller's `out_ptr`).
/// `value` in an allocation a released handle of this type left (replacing, and so dropping,
/// the value it held), or in a new one.
fn reuse<H: Handle>(t: &mut Table, value: H::Inner) -> Arc<dyn Any + Send + Sync> {
    if H::RECYCLE {
        while let Some(mut spare) = t.spares.pop() {
            if let Some(held) = Arc::get_mut(&mut spare).and_then(|v| v.downcast_mut::<H::Inner>())
            {
                *held = value;
                return spare;
            }
        }
    }
    Arc::new(value)
}

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
        let (index, generation) = unpack(ptr.addr());
        let (value, name) = self
            .slots
            .get(index)
            .filter(|s| s.generation == generation)
            .and_then(|s| s.value.as_ref())
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
    let (index, generation) = unpack(ptr.addr());
    let value = {
        let mut t = TABLE.write().unwrap_or_else(|p| p.into_inner());
        let slot = t
            .slots
            .get_mut(index)
            .filter(|s| s.generation == generation && s.value.is_some())
            .ok_or(FfiError::Handle(H::NAME))?;
        if let Some((v, name)) = &slot.value {
            if !v.is::<H::Inner>() {
                return Err(FfiError::WrongHandle {
                    expected: H::NAME,
                    got: name,
                });
            }
        }
        let value = slot.value.take();
        slot.generation += 1;
        if slot.generation < LAST_GENERATION {
            t.free.push(index as u32);
        }
        match value {
            // The only reference (no reader holds it): kept whole for the next handle.
            Some((v, _))
                if H::RECYCLE && t.spares.len() < MAX_SPARES && Arc::strong_count(&v) == 1 =>
            {
                t.spares.push(v);
                None
            }
            other => other,
        }
    };
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
        let t = TABLE.read().unwrap_or_else(|p| p.into_inner());
        *out = t.slots.iter().filter(|s| s.value.is_some()).count();
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
    ($ty:ident, $inner:ty, $name:expr, recycle) => {
        impl $crate::handle::Handle for $ty {
            type Inner = $inner;
            const NAME: &'static str = $name;
            const RECYCLE: bool = true;
        }
    };
}
pub(crate) use impl_handle;

#[cfg(test)]
mod tests {
    use super::*;

    struct A;
    struct B;
    struct R;
    impl_handle!(A, u32, "a");
    impl_handle!(B, String, "b");
    impl_handle!(R, Vec<u64>, "recycled", recycle);

    #[test]
    fn a_recycling_type_reuses_released_allocations_only_when_unshared() {
        let h = new_handle::<R>(vec![1]).expect("handle");
        let first = Arc::as_ptr(&get(h).expect("live"));
        free_handle(h).expect("free");
        // Other tests may run in parallel: look for the reuse among a few handles.
        let hs: Vec<_> = (0..8u64)
            .map(|i| new_handle::<R>(vec![i, 2]).expect("handle"))
            .collect();
        let ptrs: Vec<_> = hs
            .iter()
            .map(|&h| Arc::as_ptr(&get(h).expect("live")))
            .collect();
        assert!(
            ptrs.contains(&first),
            "the released allocation was not reused"
        );
        for (i, &h) in hs.iter().enumerate() {
            assert_eq!(
                *get(h).expect("live"),
                vec![i as u64, 2],
                "a reused value leaked"
            );
        }
        // A value a reader still holds is not kept for reuse: the reader's copy stays intact.
        let held = get(hs[0]).expect("live");
        for &h in &hs {
            free_handle(h).expect("free");
        }
        let again: Vec<_> = (0..8u64)
            .map(|i| new_handle::<R>(vec![9, i]).expect("handle"))
            .collect();
        assert_eq!(*held, vec![0, 2], "a held value was overwritten");
        for h in again {
            free_handle(h).expect("free");
        }
    }

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
