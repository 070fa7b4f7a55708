//! The engine and its episodes: create and free, begin a job's episode, record outcomes and get
//! recommendations, classify.

use crate::clock::smartretry_clock;
use crate::failure::{smartretry_failure, FailureHandle};
use crate::handle::{free_handle, get, id, impl_handle, lock, pinned, put_handle, Pinned};
use crate::names::{class_out, smartretry_class};
use crate::policy::smartretry_policy;
use crate::recommendation::{fill, smartretry_recommendation};
use crate::status::{guard, smartretry_status, FfiError, FfiResult};
use crate::text::{opt_str_arg, out_ptr, owned_c_string, str_arg};
use smartretry::{Engine, Episode, Policy, SharedClock, SystemClock};
use spin::mutex::{SpinMutex, SpinMutexGuard};
use spin::relax::Yield;
use std::ffi::c_char;

/// A retry engine. Thread-safe: one engine may be used from many threads at once.
pub struct smartretry_engine {
    _private: [u8; 0],
}

/// The value behind a `smartretry_engine`.
pub(crate) struct EngineHandle {
    pub(crate) engine: Engine,
}
impl_handle!(smartretry_engine, EngineHandle, "engine");

/// One job's retry episode, from its first attempt to success or give-up. Locked internally.
pub struct smartretry_episode {
    _private: [u8; 0],
}

/// The value behind a `smartretry_episode`.
pub(crate) struct EpisodeHandle {
    /// A spin lock that yields while it waits: an episode belongs to one thread at a time (two
    /// threads sharing one is a race the lock only makes safe), so it is nearly never waited
    /// for, and releasing it is a plain store where a mutex's is a read-modify-write (about
    /// 10 ns of a 350 ns call, `ffi-c/bench/run.sh`).
    episode: SpinMutex<Episode, Yield>,
    /// The id of the engine it was begun on (an episode is refused by any other engine).
    engine: usize,
}
impl_handle!(smartretry_episode, EpisodeHandle, "episode");

impl EpisodeHandle {
    /// A new episode's handle value, begun on the engine whose handle id is `engine`.
    pub(crate) fn new(episode: Episode, engine: usize) -> Self {
        EpisodeHandle {
            episode: SpinMutex::new(episode),
            engine,
        }
    }

    pub(crate) fn lock(&self) -> SpinMutexGuard<'_, Episode> {
        self.episode.lock()
    }
}

/// A snapshot of an episode's progress.
#[repr(C)]
pub struct smartretry_episode_info {
    /// Attempts so far (failed ones, plus the successful one once recorded).
    pub attempts: u32,
    pub failures: u32,
    /// Whether the episode ended (success, give up, escalation or abandon).
    pub finished: bool,
    /// Whether `error_class` is set (it is once an attempt has failed).
    pub has_class: bool,
    /// The class of the episode's first failure.
    pub error_class: smartretry_class,
}

/// # Safety
/// `clock` must be NULL or a clock handle.
unsafe fn clock_arg(clock: *const smartretry_clock) -> FfiResult<SharedClock> {
    if clock.is_null() {
        Ok(SystemClock::shared())
    } else {
        Ok(get(clock)?.shared.clone())
    }
}

fn put_engine(out: &mut *mut smartretry_engine, engine: Engine) -> FfiResult {
    crate::fork::register_once();
    put_handle(out, EngineHandle { engine })
}

/// A new engine. `policy` NULL means the defaults (the policy is copied); `clock` NULL means the
/// system clock (the engine keeps its own reference to the clock).
///
/// # Safety
/// `policy` and `clock` must be NULL or handles of their type; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_engine_new(
    policy: *const smartretry_policy,
    clock: *const smartretry_clock,
    out: *mut *mut smartretry_engine,
) -> smartretry_status {
    guard(|| {
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(out, "out") }?;
        let policy = if policy.is_null() {
            Policy::default()
        } else {
            lock(&get(policy)?.policy).clone()
        };
        // SAFETY: forwarded contract.
        let clock = unsafe { clock_arg(clock) }?;
        put_engine(out, Engine::with_clock(policy, clock)?)
    })
}

/// A new engine from a JSON policy (NUL-terminated UTF-8); `clock` as for smartretry_engine_new.
///
/// # Safety
/// `json` must be NULL or NUL-terminated; `clock` NULL or a clock handle; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_engine_new_from_json(
    json: *const c_char,
    clock: *const smartretry_clock,
    out: *mut *mut smartretry_engine,
) -> smartretry_status {
    guard(|| {
        // SAFETY: forwarded contract.
        let json = unsafe { str_arg(json, "json") }?;
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(out, "out") }?;
        // SAFETY: forwarded contract.
        let clock = unsafe { clock_arg(clock) }?;
        put_engine(out, Engine::from_json(json, clock)?)
    })
}

/// Replace the engine's whole policy at run time (validated first; on error nothing changes).
///
/// # Safety
/// `engine` and `policy` must be NULL or handles of their type.
#[no_mangle]
pub unsafe extern "C" fn smartretry_engine_set_policy(
    engine: *const smartretry_engine,
    policy: *const smartretry_policy,
) -> smartretry_status {
    guard(|| {
        let e = get(engine)?;
        let p = get(policy)?;
        let p = lock(&p.policy).clone();
        e.engine.set_policy(p)?;
        Ok(())
    })
}

/// The engine's clock reading, in seconds since the Unix epoch.
///
/// # Safety
/// `engine` must be NULL or an engine handle; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_engine_now(
    engine: *const smartretry_engine,
    out: *mut f64,
) -> smartretry_status {
    guard(|| {
        let e = get(engine)?;
        // SAFETY: forwarded contract.
        *unsafe { out_ptr(out, "out") }? = e.engine.now().as_secs_f64();
        Ok(())
    })
}

/// Free an engine. NULL is a no-op; a second free returns SMARTRETRY_INVALID_HANDLE. Episodes
/// begun on it stay valid handles to free; another engine refuses them (INVALID_ARGUMENT).
///
/// # Safety
/// None: `engine` is a checked id (any value is safe), and other threads may still be using it.
#[no_mangle]
pub unsafe extern "C" fn smartretry_engine_free(
    engine: *mut smartretry_engine,
) -> smartretry_status {
    guard(|| free_handle(engine))
}

/// Start a job's episode at its first attempt. `key` is the queue or job type; `tenant` may be
/// NULL. Both NUL-terminated UTF-8, 1-512 bytes, no control characters.
///
/// # Safety
/// `engine` must be NULL or an engine handle; `key`/`tenant` NULL or NUL-terminated; `out` NULL
/// or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_engine_begin(
    engine: *const smartretry_engine,
    key: *const c_char,
    tenant: *const c_char,
    out: *mut *mut smartretry_episode,
) -> smartretry_status {
    // SAFETY: forwarded contract.
    guard(|| unsafe { begin_episode(engine, key, tenant, None, out) })
}

/// Begin an episode, with or without a context (smartretry_engine_begin and
/// smartretry_engine_begin_with_context).
///
/// # Safety
/// As smartretry_engine_begin.
pub(crate) unsafe fn begin_episode(
    engine: *const smartretry_engine,
    key: *const c_char,
    tenant: *const c_char,
    context: Option<smartretry::AttemptContext>,
    out: *mut *mut smartretry_episode,
) -> FfiResult<()> {
    let e = get(engine)?;
    // SAFETY: forwarded contract.
    let key = unsafe { str_arg(key, "key") }?;
    // SAFETY: forwarded contract.
    let tenant = unsafe { opt_str_arg(tenant, "tenant") }?;
    // SAFETY: forwarded contract.
    let out = unsafe { out_ptr(out, "out") }?;
    let episode = match context {
        Some(c) => e.engine.begin_with_context(key, tenant, c)?,
        None => e.engine.begin(key, tenant)?,
    };
    put_handle(out, EpisodeHandle::new(episode, id(engine)))
}

/// An episode's progress.
///
/// # Safety
/// `episode` must be NULL or an episode handle; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_episode_get_info(
    episode: *const smartretry_episode,
    out: *mut smartretry_episode_info,
) -> smartretry_status {
    guard(|| {
        let ep = get(episode)?;
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(out, "out") }?;
        let ep = ep.lock();
        *out = smartretry_episode_info {
            attempts: ep.attempts(),
            failures: ep.failures(),
            finished: ep.is_finished(),
            has_class: ep.class().is_some(),
            error_class: ep.class().map_or(0, class_out),
        };
        Ok(())
    })
}

/// Free an episode. NULL is a no-op; a second free returns SMARTRETRY_INVALID_HANDLE.
///
/// # Safety
/// None: `episode` is a checked id (any value is safe), and other threads may still be using it.
#[no_mangle]
pub unsafe extern "C" fn smartretry_episode_free(
    episode: *mut smartretry_episode,
) -> smartretry_status {
    guard(|| free_handle(episode))
}

/// The engine and episode of a call, checking the episode was begun on that engine.
fn engine_episode(
    p: &Pinned,
    engine: *const smartretry_engine,
    episode: *const smartretry_episode,
) -> FfiResult<(&EngineHandle, &EpisodeHandle)> {
    let (e, ep) = (p.get(engine)?, p.get(episode)?);
    if ep.engine != id(engine) {
        return Err(FfiError::Argument(
            "the episode was begun on another engine".into(),
        ));
    }
    Ok((e, ep))
}

/// The episode locked for an outcome, refusing one that has finished.
// TODO(core): the core's on_failure/record_failure should refuse a finished episode itself.
fn unfinished(ep: &EpisodeHandle) -> FfiResult<SpinMutexGuard<'_, Episode>> {
    let guard = ep.lock();
    if guard.is_finished() {
        return Err(FfiError::Core(smartretry::Error::InvalidState(
            "the episode has already finished".into(),
        )));
    }
    Ok(guard)
}

/// The three handles of an outcome call.
type Args<'p> = (&'p EngineHandle, &'p EpisodeHandle, &'p FailureHandle);

fn args<'p>(
    p: &'p Pinned,
    engine: *const smartretry_engine,
    episode: *const smartretry_episode,
    failure: *const smartretry_failure,
) -> FfiResult<Args<'p>> {
    let (e, ep, f) = (p.get(engine)?, p.get(episode)?, p.get(failure)?);
    if ep.engine != id(engine) {
        return Err(FfiError::Argument(
            "the episode was begun on another engine".into(),
        ));
    }
    Ok((e, ep, f))
}

/// An attempt failed: record it and recommend what to do next (the episode finishes when the
/// answer is give up or escalate). `out` receives a recommendation that owns detail: release it
/// with smartretry_recommendation_free.
///
/// # Safety
/// Handles must be NULL or of their type; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_engine_on_failure(
    engine: *const smartretry_engine,
    episode: *const smartretry_episode,
    failure: *const smartretry_failure,
    out: *mut smartretry_recommendation,
) -> smartretry_status {
    guard(|| {
        let p = pinned();
        let (e, ep, f) = args(&p, engine, episode, failure)?;
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(out, "out") }?;
        let rec = e.engine.on_failure(&mut *unfinished(ep)?, f.read(&p))?;
        fill(out, rec)
    })
}

/// What the engine would recommend if this failure happened now, without recording anything
/// (a dry run). Release `out` with smartretry_recommendation_free.
///
/// # Safety
/// Handles must be NULL or of their type; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_engine_recommend(
    engine: *const smartretry_engine,
    episode: *const smartretry_episode,
    failure: *const smartretry_failure,
    out: *mut smartretry_recommendation,
) -> smartretry_status {
    guard(|| {
        let p = pinned();
        let (e, ep, f) = args(&p, engine, episode, failure)?;
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(out, "out") }?;
        // Read in place (no copy of the failure per call).
        let rec = e.engine.recommend(&*unfinished(ep)?, f.read(&p))?;
        fill(out, rec)
    })
}

/// Record a failed attempt without deciding; `out_class` (may be NULL) receives its class.
///
/// # Safety
/// Handles must be NULL or of their type; `out_class` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_engine_record_failure(
    engine: *const smartretry_engine,
    episode: *const smartretry_episode,
    failure: *const smartretry_failure,
    out_class: *mut smartretry_class,
) -> smartretry_status {
    guard(|| {
        let p = pinned();
        let (e, ep, f) = args(&p, engine, episode, failure)?;
        let c = e.engine.record_failure(&mut *unfinished(ep)?, f.read(&p))?;
        // SAFETY: the caller guarantees a non-NULL `out_class` is writable.
        if let Some(out) = unsafe { out_class.as_mut() } {
            *out = class_out(c.class);
        }
        Ok(())
    })
}

/// An attempt succeeded: teach the models and finish the episode. `dependency` (may be NULL)
/// names the dependency for its circuit breaker (default: the episode's key). Recording success
/// on a finished episode is SMARTRETRY_INVALID_STATE.
///
/// # Safety
/// Handles must be NULL or of their type; `dependency` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn smartretry_engine_on_success(
    engine: *const smartretry_engine,
    episode: *const smartretry_episode,
    dependency: *const c_char,
) -> smartretry_status {
    guard(|| {
        let p = pinned();
        let (e, ep) = engine_episode(&p, engine, episode)?;
        // SAFETY: forwarded contract.
        let dependency = unsafe { opt_str_arg(dependency, "dependency") }?;
        e.engine.on_success_from(&mut ep.lock(), dependency)?;
        Ok(())
    })
}

/// The caller stopped the episode itself (cancelled, shutting down): it ends without teaching.
///
/// # Safety
/// Handles must be NULL or of their type.
#[no_mangle]
pub unsafe extern "C" fn smartretry_engine_abandon(
    engine: *const smartretry_engine,
    episode: *const smartretry_episode,
) -> smartretry_status {
    guard(|| {
        let p = pinned();
        let (e, ep) = engine_episode(&p, engine, episode)?;
        e.engine.abandon(&mut ep.lock());
        Ok(())
    })
}

/// Classify a failure with the engine's rules. `out_rule` (may be NULL) receives the deciding
/// rule's name (caller frees with smartretry_string_free).
///
/// # Safety
/// Handles must be NULL or of their type; outs NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_engine_classify(
    engine: *const smartretry_engine,
    failure: *const smartretry_failure,
    out_class: *mut smartretry_class,
    out_rule: *mut *mut c_char,
) -> smartretry_status {
    guard(|| {
        let p = pinned();
        let (e, f) = (p.get(engine)?, p.get(failure)?);
        // SAFETY: forwarded contract.
        let out_class = unsafe { out_ptr(out_class, "out_class") }?;
        let c = e.engine.classify(f.read(&p));
        // SAFETY: the caller guarantees a non-NULL `out_rule` is writable.
        if let Some(rule) = unsafe { out_rule.as_mut() } {
            *rule = owned_c_string(c.rule)?;
        }
        *out_class = class_out(c.class);
        Ok(())
    })
}
