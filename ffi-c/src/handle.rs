//! Opaque handles: a boxed value tagged with a per-type magic number, and a registry of live
//! handles so that freeing one twice (or freeing a pointer the library never made) is reported
//! instead of corrupting memory. The registry is consulted on create and free only; calls check
//! the magic number, which catches a handle of the wrong type.

use crate::status::{FfiError, FfiResult};
use std::collections::BTreeMap;
use std::sync::{LazyLock, Mutex};

/// An opaque C handle type (a zero-sized marker cbindgen declares as an incomplete struct); the
/// allocation behind it is a `Tagged<Self::Inner>`.
pub(crate) trait Handle: Sized {
    type Inner;
    const MAGIC: u64;
    const NAME: &'static str;
}

/// What a handle points to: its type's magic number first (so that it can be read from any handle
/// of this library, whatever its type), then the value.
#[repr(C)]
pub(crate) struct Tagged<T> {
    magic: u64,
    value: T,
}

const SHARDS: usize = 16;

/// Live handles: address -> the magic number of their type.
static LIVE: LazyLock<Vec<Mutex<BTreeMap<usize, u64>>>> =
    LazyLock::new(|| (0..SHARDS).map(|_| Mutex::new(BTreeMap::new())).collect());

fn shard(addr: usize) -> &'static Mutex<BTreeMap<usize, u64>> {
    &LIVE[(addr >> 4) % SHARDS]
}

fn with_shard<T>(addr: usize, f: impl FnOnce(&mut BTreeMap<usize, u64>) -> T) -> T {
    let mut set = shard(addr).lock().unwrap_or_else(|p| p.into_inner());
    f(&mut set)
}

/// Box `value` and register it as a live handle.
pub(crate) fn new_handle<H: Handle>(value: H::Inner) -> *mut H {
    let ptr = Box::into_raw(Box::new(Tagged {
        magic: H::MAGIC,
        value,
    }));
    with_shard(ptr as usize, |s| s.insert(ptr as usize, H::MAGIC));
    ptr.cast()
}

/// Write a new handle to `out` (already checked non-NULL by the caller's `out_ptr`).
pub(crate) fn put_handle<H: Handle>(out: &mut *mut H, value: H::Inner) {
    *out = new_handle(value);
}

/// Borrow a handle, checking NULL and its type tag.
///
/// # Safety
/// `ptr` must be NULL or a live handle of this library (of any type).
pub(crate) unsafe fn get<'a, H: Handle>(ptr: *const H) -> FfiResult<&'a H::Inner> {
    let ptr = ptr.cast::<Tagged<H::Inner>>();
    if ptr.is_null() {
        return Err(FfiError::Null(H::NAME));
    }
    // SAFETY: every handle of this library is a `Tagged<_>` (repr(C)), whose first field is an
    // initialised u64, so reading it is valid whatever the handle's real type.
    let magic = unsafe { ptr.cast::<u64>().read() };
    if magic != H::MAGIC {
        return Err(FfiError::Handle(H::NAME));
    }
    // SAFETY: the magic number says this is a `Tagged<H::Inner>`; the caller guarantees it lives.
    Ok(unsafe { &(*ptr).value })
}

/// Borrow a handle mutably, checking NULL and its type tag.
///
/// # Safety
/// As for [`get`], and no other reference to the handle may be live during the borrow.
pub(crate) unsafe fn get_mut<'a, H: Handle>(ptr: *mut H) -> FfiResult<&'a mut H::Inner> {
    let ptr = ptr.cast::<Tagged<H::Inner>>();
    if ptr.is_null() {
        return Err(FfiError::Null(H::NAME));
    }
    // SAFETY: as in `get`.
    let magic = unsafe { ptr.cast::<u64>().read() };
    if magic != H::MAGIC {
        return Err(FfiError::Handle(H::NAME));
    }
    // SAFETY: the magic number says this is a `Tagged<H::Inner>`; the caller guarantees it lives
    // and is not aliased.
    Ok(unsafe { &mut (*ptr).value })
}

/// Free a handle. NULL is a no-op; a pointer that is not a live handle of this type (freed
/// already, or never made here) is an error and is not touched.
///
/// # Safety
/// A live `ptr` must not be in use by another thread while it is freed.
pub(crate) unsafe fn free_handle<H: Handle>(ptr: *mut H) -> FfiResult {
    if ptr.is_null() {
        return Ok(());
    }
    let addr = ptr as usize;
    let ours = with_shard(addr, |s| match s.get(&addr) {
        Some(&magic) if magic == H::MAGIC => s.remove(&addr).is_some(),
        _ => false,
    });
    if !ours {
        return Err(FfiError::Handle(H::NAME));
    }
    // SAFETY: `ptr` was registered by `new_handle::<H>` (so it came from `Box::into_raw` of a
    // `Tagged<H::Inner>`) and has just been unregistered, so this is its only free.
    let mut boxed = unsafe { Box::from_raw(ptr.cast::<Tagged<H::Inner>>()) };
    boxed.magic = 0;
    drop(boxed);
    Ok(())
}

/// Declare an opaque handle type: `impl_handle!(smartretry_clock, ClockInner, 0x..., "clock")`.
macro_rules! impl_handle {
    ($ty:ident, $inner:ty, $magic:expr, $name:expr) => {
        impl $crate::handle::Handle for $ty {
            type Inner = $inner;
            const MAGIC: u64 = $magic;
            const NAME: &'static str = $name;
        }
    };
}
pub(crate) use impl_handle;
