//! Engines by number, for the calls on `retry()`'s hot path. A napi-rs v3 method pays for its
//! receiver on every call: the class identity check, the borrow's registration and the scope's
//! close (about 0.2 µs per call here, against 0.12 µs for a free function taking a number). The
//! hot-path calls are therefore also free functions taking the engine's number; everything else
//! stays a method.
//!
//! An engine is registered when its JS object is made and removed when that object is
//! finalized, so a number stays valid exactly as long as the engine it names; numbers are never
//! reused, so a stale one is `INVALID_STATE`, never another engine.

use crate::engine::EpisodeLimits;
use crate::error::{coded, OrJs};
use crate::failure::FailureInput;
use crate::handles::Handles;
use crate::learned::AttemptContext;
use napi_derive::napi;
use parking_lot::{Mutex, RwLock};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};

/// What the free functions need of an engine: the core engine (a clone shares everything) and
/// its open episode handles.
struct Entry {
    engine: smartretry::Engine,
    handles: Arc<Mutex<Handles>>,
    keys: RwLock<KeyNumbers>,
}

/// Keys by number, so that a first-attempt success on a key seen before crosses with two
/// numbers instead of a string (converting a JS string costs two napi calls and an allocation:
/// about as much as the core's whole success). Bounded: past `MAX_KEYS` a key has no number
/// and its calls pass the string as before.
#[derive(Default)]
struct KeyNumbers {
    numbers: HashMap<String, u32>,
    names: Vec<String>,
}

/// Keys numbered per engine at most.
const MAX_KEYS: usize = 1024;

/// Engines by number. Hashed with foldhash: SipHash cost about 110 instructions per hot-path
/// call, of about 6,000 (the numbers are ours, not an attacker's).
static ENGINES: LazyLock<RwLock<HashMap<u64, Entry, foldhash::fast::FixedState>>> =
    LazyLock::new(Default::default);
static NEXT: AtomicU64 = AtomicU64::new(1);

/// Register an engine; its number (below 2^53, an exact JS number).
pub(crate) fn register(engine: &smartretry::Engine, handles: Arc<Mutex<Handles>>) -> u64 {
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    let entry = Entry {
        engine: engine.clone(),
        handles,
        keys: RwLock::default(),
    };
    ENGINES.write().insert(id, entry);
    id
}

/// Forget an engine (its JS object was finalized).
pub(crate) fn unregister(id: u64) {
    ENGINES.write().remove(&id);
}

fn with<T>(id: f64, f: impl FnOnce(&Entry) -> napi::Result<T>) -> napi::Result<T> {
    let engines = ENGINES.read();
    match engines.get(&(id as u64)) {
        Some(entry) if id.fract() == 0.0 && id >= 1.0 => f(entry),
        _ => Err(coded("INVALID_STATE", format!("no engine has number {id}"))),
    }
}

/// `engine.succeed` by the engine's number: a first-attempt success in one call; answers
/// whether rate limiting is on.
#[napi]
pub fn engine_succeed(
    engine: f64,
    key: String,
    tenant: Option<String>,
    dependency: Option<String>,
) -> napi::Result<bool> {
    with(engine, |e| {
        crate::engine::succeed_first(&e.engine, &key, tenant.as_deref(), dependency.as_deref())
    })
}

/// The number of a queue key for `engineSucceedKey`, checked like any key (`INVALID_KEY`), or
/// -1 when the engine has numbered as many keys as it will (use the key itself then).
#[napi]
pub fn engine_key_number(engine: f64, key: String) -> napi::Result<i32> {
    with(engine, |e| {
        smartretry::names::check_name("key", &key).or_js()?;
        if let Some(&n) = e.keys.read().numbers.get(&key) {
            return Ok(n as i32);
        }
        let mut keys = e.keys.write();
        let next = keys.names.len();
        if let Some(&n) = keys.numbers.get(&key) {
            return Ok(n as i32);
        }
        if next >= MAX_KEYS {
            return Ok(-1);
        }
        keys.names.push(key.clone());
        keys.numbers.insert(key, next as u32);
        Ok(next as i32)
    })
}

/// Run `f` on the key that `engineKeyNumber` gave the number `key` (a whole number in range:
/// NaN, -1 and 1.5 are `INVALID_STATE`).
fn with_key<T>(e: &Entry, key: f64, f: impl FnOnce(&str) -> napi::Result<T>) -> napi::Result<T> {
    let keys = e.keys.read();
    let name = (key.fract() == 0.0 && key >= 0.0)
        .then(|| keys.names.get(key as usize))
        .flatten();
    match name {
        Some(name) => f(name),
        None => Err(coded("INVALID_STATE", format!("no key has number {key}"))),
    }
}

/// `engine.succeed(key)` (no tenant, no dependency) by the engine's number and the key's
/// (`engineKeyNumber`); answers whether rate limiting is on.
#[napi]
pub fn engine_succeed_key(engine: f64, key: f64) -> napi::Result<bool> {
    with(engine, |e| {
        with_key(e, key, |name| {
            crate::engine::succeed_first(&e.engine, name, None, None)
        })
    })
}

/// `engine.beginHandle(key)` (no tenant, limits or context) by the engine's number and the
/// key's: the key crosses as a number, not as a string to convert.
#[napi]
pub fn engine_begin_handle_key(engine: f64, handle: f64, key: f64) -> napi::Result<()> {
    with(engine, |e| {
        with_key(e, key, |name| {
            e.handles.lock().open_with(handle, || {
                Ok((crate::engine::start(&e.engine, name, None, None, None)?, ()))
            })
        })
    })
}

/// `engine.beginHandle` by the engine's number.
#[napi]
pub fn engine_begin_handle(
    engine: f64,
    handle: f64,
    key: String,
    tenant: Option<String>,
    limits: Option<EpisodeLimits>,
    context: Option<AttemptContext>,
) -> napi::Result<()> {
    with(engine, |e| {
        e.handles.lock().open_with(handle, || {
            let episode =
                crate::engine::start(&e.engine, &key, tenant.as_deref(), limits, context)?;
            Ok((episode, ()))
        })
    })
}

/// `engine.onPlainFailureDelayMsHandle` by the engine's number. With `open_on_key` (a key's
/// number, `engineKeyNumber`), the handle is not open yet and this failure opens it on that key:
/// `retry()`'s first failure, one call instead of two.
#[allow(clippy::too_many_arguments)]
#[napi]
pub fn engine_plain_failure_delay_ms_handle(
    engine: f64,
    handle: f64,
    status: Option<f64>,
    code: Option<String>,
    exception: Option<String>,
    message: Option<String>,
    dependency: Option<String>,
    open_on_key: Option<f64>,
) -> napi::Result<f64> {
    let failure = FailureInput::plain(status, code, exception, message, dependency);
    with(engine, |e| match open_on_key {
        None => crate::handles::fail_handle(&e.engine, &e.handles, handle, failure),
        Some(key) => with_key(e, key, |name| {
            crate::handles::begin_fail_handle(&e.engine, &e.handles, handle, name, failure)
        }),
    })
}

/// `engine.onSuccessHandle` by the engine's number.
#[napi]
pub fn engine_on_success_handle(
    engine: f64,
    handle: f64,
    dependency: Option<String>,
) -> napi::Result<()> {
    with(engine, |e| {
        crate::handles::succeed_handle(&e.engine, &e.handles, handle, dependency.as_deref())
    })
}
