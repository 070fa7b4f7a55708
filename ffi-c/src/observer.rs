//! Observer callbacks: a C function pointer plus user data, called synchronously on the thread
//! that caused the event, with a plain struct describing it.

use crate::engine::smartretry_engine;
use crate::handle::get;
use crate::names::{
    action_out, breaker_out, class_out, guardrail_out, smartretry_action, smartretry_breaker_state,
    smartretry_class, smartretry_guardrail, smartretry_tier, tier_out,
};
use crate::status::{guard, smartretry_status, FfiError};
use smartretry::{Event, Observer, Recommendation};
use std::ffi::{c_char, c_void};
use std::sync::Arc;

/// Event kinds: SMARTRETRY_EVENT_*.
#[allow(non_camel_case_types)]
pub type smartretry_event_kind = u32;
/// An attempt failed and was recorded (key, tenant, error_class, attempt, elapsed).
pub const SMARTRETRY_EVENT_ATTEMPT: smartretry_event_kind = 0;
/// A retry (or stop) was decided (key, tenant, error_class, attempt, elapsed, action, tier, delay).
pub const SMARTRETRY_EVENT_DECISION: smartretry_event_kind = 1;
/// An attempt succeeded (key, tenant, attempt, elapsed).
pub const SMARTRETRY_EVENT_SUCCESS: smartretry_event_kind = 2;
/// The episode ended without success (as for DECISION).
pub const SMARTRETRY_EVENT_EXHAUSTED: smartretry_event_kind = 3;
/// A circuit breaker changed state (key = the dependency, breaker_from, breaker_to).
pub const SMARTRETRY_EVENT_BREAKER: smartretry_event_kind = 4;
/// A guardrail changed a decision (key, guardrail, clamp_from, clamp_to).
pub const SMARTRETRY_EVENT_CLAMP: smartretry_event_kind = 5;
/// The learned tier changed on a queue (key): a rollout mode set, promoted, rolled back, or a
/// decision that fell back because the model failed (`smartretry_engine_stats_json` counts them).
pub const SMARTRETRY_EVENT_LEARNED: smartretry_event_kind = 6;

/// An engine event. Strings are NOT NUL-terminated (use the lengths) and, like the struct, are
/// valid only during the callback. Fields that do not apply to the kind are zero.
#[repr(C)]
pub struct smartretry_event {
    pub kind: smartretry_event_kind,
    pub key: *const c_char,
    pub key_len: usize,
    /// NULL when the episode has no tenant.
    pub tenant: *const c_char,
    pub tenant_len: usize,
    pub error_class: smartretry_class,
    pub attempt: u32,
    pub elapsed: f64,
    pub action: smartretry_action,
    pub tier: smartretry_tier,
    pub delay: f64,
    pub guardrail: smartretry_guardrail,
    pub clamp_from: f64,
    pub clamp_to: f64,
    pub breaker_from: smartretry_breaker_state,
    pub breaker_to: smartretry_breaker_state,
}

/// The observer callback. It must not add or clear observers of the same engine.
#[allow(non_camel_case_types)]
pub type smartretry_observer_fn =
    Option<unsafe extern "C" fn(event: *const smartretry_event, user_data: *mut c_void)>;

struct CObserver {
    callback: unsafe extern "C" fn(*const smartretry_event, *mut c_void),
    user_data: *mut c_void,
}

// SAFETY: the caller of smartretry_engine_add_observer promises that the callback and its user
// data may be used from any thread (documented on that function); we only pass the pointer back.
unsafe impl Send for CObserver {}
// SAFETY: as above; the observer itself holds no Rust state that could be shared unsafely.
unsafe impl Sync for CObserver {}

fn blank(kind: smartretry_event_kind, key: &str, tenant: Option<&str>) -> smartretry_event {
    smartretry_event {
        kind,
        key: key.as_ptr().cast(),
        key_len: key.len(),
        tenant: tenant.map_or(std::ptr::null(), |t| t.as_ptr().cast()),
        tenant_len: tenant.map_or(0, str::len),
        error_class: 0,
        attempt: 0,
        elapsed: 0.0,
        action: 0,
        tier: 0,
        delay: 0.0,
        guardrail: 0,
        clamp_from: 0.0,
        clamp_to: 0.0,
        breaker_from: 0,
        breaker_to: 0,
    }
}

fn decision(
    kind: smartretry_event_kind,
    key: &str,
    t: Option<&str>,
    r: &Recommendation,
) -> smartretry_event {
    smartretry_event {
        error_class: class_out(r.class),
        attempt: r.attempt,
        elapsed: r.elapsed.as_secs_f64(),
        action: action_out(r.action),
        tier: tier_out(r.tier),
        delay: r.delay.as_secs_f64(),
        ..blank(kind, key, t)
    }
}

fn translate(event: &Event<'_>) -> smartretry_event {
    match *event {
        Event::Attempt {
            key,
            tenant,
            class,
            attempt,
            elapsed,
        } => smartretry_event {
            error_class: class_out(class),
            attempt,
            elapsed: elapsed.as_secs_f64(),
            ..blank(SMARTRETRY_EVENT_ATTEMPT, key, tenant)
        },
        Event::Decision {
            key,
            tenant,
            recommendation,
        } => decision(SMARTRETRY_EVENT_DECISION, key, tenant, recommendation),
        Event::Success {
            key,
            tenant,
            attempts,
            elapsed,
        } => smartretry_event {
            attempt: attempts,
            elapsed: elapsed.as_secs_f64(),
            ..blank(SMARTRETRY_EVENT_SUCCESS, key, tenant)
        },
        Event::Exhausted {
            key,
            tenant,
            recommendation,
        } => decision(SMARTRETRY_EVENT_EXHAUSTED, key, tenant, recommendation),
        Event::Breaker {
            dependency,
            from,
            to,
        } => smartretry_event {
            breaker_from: breaker_out(from),
            breaker_to: breaker_out(to),
            ..blank(SMARTRETRY_EVENT_BREAKER, dependency, None)
        },
        Event::Clamp { key, clamp } => smartretry_event {
            guardrail: guardrail_out(clamp.guardrail),
            clamp_from: clamp.from.as_secs_f64(),
            clamp_to: clamp.to.as_secs_f64(),
            ..blank(SMARTRETRY_EVENT_CLAMP, key, None)
        },
        Event::Learned { key, .. } => blank(SMARTRETRY_EVENT_LEARNED, key, None),
    }
}

impl Observer for CObserver {
    fn on_event(&self, event: &Event<'_>) {
        let e = translate(event);
        // SAFETY: `callback` is a valid function pointer supplied by the caller, which promised
        // it is safe to call with an event pointer valid for the call and its own user data.
        unsafe { (self.callback)(&e, self.user_data) }
    }
}

/// Call `callback(event, user_data)` for every engine event, synchronously on the thread that
/// caused it. The callback may run on many threads at once, so it and `user_data` must be
/// thread-safe; `user_data` must stay valid until the observers are cleared or the engine freed.
///
/// # Safety
/// `engine` must be NULL or an engine handle; `callback` as described.
#[no_mangle]
pub unsafe extern "C" fn smartretry_engine_add_observer(
    engine: *const smartretry_engine,
    callback: smartretry_observer_fn,
    user_data: *mut c_void,
) -> smartretry_status {
    guard(|| {
        let e = get(engine)?;
        let callback = callback.ok_or(FfiError::Null("callback"))?;
        e.engine.add_observer(Arc::new(CObserver {
            callback,
            user_data,
        }));
        Ok(())
    })
}

/// Remove every observer of the engine.
///
/// # Safety
/// `engine` must be NULL or an engine handle.
#[no_mangle]
pub unsafe extern "C" fn smartretry_engine_clear_observers(
    engine: *const smartretry_engine,
) -> smartretry_status {
    guard(|| {
        get(engine)?.engine.clear_observers();
        Ok(())
    })
}
