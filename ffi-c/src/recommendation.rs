//! Recommendations as plain C structs. The numbers are fields; the reason, the clamps and the
//! alternatives are read through accessors from the detail, a generation-checked id (`detail`) the
//! struct owns (released with smartretry_recommendation_free, or by refilling the struct). Since
//! the detail is a checked id, not an address, a struct copied and then freed or read through
//! both copies gets SMARTRETRY_INVALID_HANDLE instead of a double free. Previews return a
//! schedule handle of recommendations.

use crate::detail::{self, smartretry_recommendation_detail};
use crate::engine::smartretry_engine;
use crate::failure::smartretry_failure;
use crate::handle::{free_handle, get, impl_handle, pinned, put_handle};
use crate::names::{
    action_out, class_out, guardrail_out, smartretry_action, smartretry_class,
    smartretry_guardrail, smartretry_tier, tier_out,
};
use crate::status::{guard, smartretry_status, FfiError, FfiResult};
use crate::text::{opt_str_arg, out_ptr, owned_c_string, str_arg};
use smartretry::Recommendation;
use std::ffi::c_char;

/// The engine's answer to "this attempt failed: what now?".
///
/// Ownership: zero-initialise the struct before its first fill. A call that fills it releases
/// the detail it already owns first (so refilling never leaks); smartretry_recommendation_free
/// releases it and sets `detail` to NULL. A byte copy of the struct shares the detail but does not
/// own it twice: once either copy is freed or refilled, the other's detail is stale, and reading
/// or freeing it returns SMARTRETRY_INVALID_HANDLE (never a double free). Keep one owner.
#[repr(C)]
pub struct smartretry_recommendation {
    pub action: smartretry_action,
    pub error_class: smartretry_class,
    pub tier: smartretry_tier,
    /// Attempts made so far in the episode, including the one that just failed.
    pub attempt: u32,
    /// Seconds to wait before the next attempt (0 unless retrying).
    pub delay: f64,
    /// Seconds since the episode's first failure.
    pub elapsed: f64,
    /// Estimated chance that the next attempt succeeds (valid when has_success_probability).
    pub success_probability: f64,
    /// 0..1: how much evidence stands behind that estimate (valid when has_confidence).
    pub confidence: f64,
    pub has_success_probability: bool,
    pub has_confidence: bool,
    /// Guardrail clamps applied (read with smartretry_recommendation_clamp).
    pub clamp_count: usize,
    /// Delays weighed (read with smartretry_recommendation_alternative).
    pub alternative_count: usize,
    /// Owned detail; NULL after smartretry_recommendation_free.
    pub detail: *mut smartretry_recommendation_detail,
}

/// A guardrail that changed the proposed delay (or stopped the retry); delays in seconds.
#[repr(C)]
pub struct smartretry_clamp {
    pub guardrail: smartretry_guardrail,
    pub from: f64,
    pub to: f64,
}

/// Another delay the engine weighed, in seconds, with its success probability.
#[repr(C)]
pub struct smartretry_alternative {
    pub delay: f64,
    pub success_probability: f64,
}

/// Fill a C struct with a recommendation, releasing the detail it owned before (a stale one,
/// from a copy freed elsewhere, is simply dropped from the struct).
pub(crate) fn fill(out: &mut smartretry_recommendation, rec: Recommendation) -> FfiResult {
    let _stale_is_fine = detail::release(out.detail);
    out.detail = std::ptr::null_mut();
    let fields = smartretry_recommendation {
        action: action_out(rec.action),
        error_class: class_out(rec.class),
        tier: tier_out(rec.tier),
        attempt: rec.attempt,
        delay: rec.delay.as_secs_f64(),
        elapsed: rec.elapsed.as_secs_f64(),
        success_probability: rec.success_probability.unwrap_or(0.0),
        confidence: rec.confidence.unwrap_or(0.0),
        has_success_probability: rec.success_probability.is_some(),
        has_confidence: rec.confidence.is_some(),
        clamp_count: rec.clamps.len(),
        alternative_count: rec.alternatives.len(),
        detail: std::ptr::null_mut(),
    };
    *out = smartretry_recommendation {
        detail: detail::make(rec)?,
        ..fields
    };
    Ok(())
}

/// The core recommendation behind a C struct.
///
/// # Safety
/// `rec` must be NULL or readable as a recommendation struct.
pub(crate) unsafe fn detail(rec: *const smartretry_recommendation) -> FfiResult<Recommendation> {
    // SAFETY: the caller guarantees a non-NULL `rec` is readable.
    let rec = unsafe { rec.as_ref() }.ok_or(FfiError::Null("recommendation"))?;
    if rec.detail.is_null() {
        return Err(FfiError::Argument(
            "the recommendation has no detail (released, or never filled)".into(),
        ));
    }
    detail::get(rec.detail)
}

/// Release what a recommendation owns and set its detail to NULL (so a second call is a no-op).
/// Does not free the struct itself, which the caller owns. A detail already released through a
/// copy of the struct is SMARTRETRY_INVALID_HANDLE (and `detail` is set to NULL all the same).
///
/// # Safety
/// `rec` must be NULL or a writable recommendation struct (zeroed, filled or released).
#[no_mangle]
pub unsafe extern "C" fn smartretry_recommendation_free(
    rec: *mut smartretry_recommendation,
) -> smartretry_status {
    guard(|| {
        // SAFETY: the caller guarantees a non-NULL `rec` is writable.
        let Some(rec) = (unsafe { rec.as_mut() }) else {
            return Ok(());
        };
        let d = std::mem::replace(&mut rec.detail, std::ptr::null_mut());
        rec.clamp_count = 0;
        rec.alternative_count = 0;
        detail::release(d).map_err(|_| {
            FfiError::Handle("recommendation detail (released already, through a copy?)")
        })
    })
}

/// Write a string rendering of the recommendation to `out` (caller frees).
///
/// # Safety
/// `rec` must be NULL or a filled recommendation; `out` NULL or writable.
unsafe fn render(
    rec: *const smartretry_recommendation,
    out: *mut *mut c_char,
    f: impl FnOnce(&Recommendation) -> String,
) -> smartretry_status {
    guard(|| {
        // SAFETY: forwarded contract.
        let r = unsafe { detail(rec) }?;
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(out, "out") }?;
        *out = owned_c_string(f(&r))?;
        Ok(())
    })
}

/// The reason in one sentence (caller frees with smartretry_string_free).
///
/// # Safety
/// `rec` must be NULL or a filled recommendation; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_recommendation_reason(
    rec: *const smartretry_recommendation,
    out: *mut *mut c_char,
) -> smartretry_status {
    // SAFETY: forwarded contract.
    unsafe { render(rec, out, Recommendation::reason_text) }
}

/// The whole recommendation as a line ("retry in 3.1 s [heuristic] ..."; caller frees).
///
/// # Safety
/// `rec` must be NULL or a filled recommendation; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_recommendation_describe(
    rec: *const smartretry_recommendation,
    out: *mut *mut c_char,
) -> smartretry_status {
    // SAFETY: forwarded contract.
    unsafe { render(rec, out, |r| r.to_string()) }
}

/// The recommendation as JSON, with clamps and alternatives (caller frees).
///
/// # Safety
/// `rec` must be NULL or a filled recommendation; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_recommendation_to_json(
    rec: *const smartretry_recommendation,
    out: *mut *mut c_char,
) -> smartretry_status {
    // SAFETY: forwarded contract.
    unsafe { render(rec, out, Recommendation::to_json) }
}

fn index_error(what: &str, index: usize, len: usize) -> FfiError {
    FfiError::Argument(format!(
        "{what} index {index} is out of range (count {len})"
    ))
}

/// Clamp number `index` (0 <= index < clamp_count).
///
/// # Safety
/// `rec` must be NULL or a filled recommendation; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_recommendation_clamp(
    rec: *const smartretry_recommendation,
    index: usize,
    out: *mut smartretry_clamp,
) -> smartretry_status {
    guard(|| {
        // SAFETY: forwarded contract.
        let r = unsafe { detail(rec) }?;
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(out, "out") }?;
        let c = r
            .clamps
            .get(index)
            .ok_or_else(|| index_error("clamp", index, r.clamps.len()))?;
        *out = smartretry_clamp {
            guardrail: guardrail_out(c.guardrail),
            from: c.from.as_secs_f64(),
            to: c.to.as_secs_f64(),
        };
        Ok(())
    })
}

/// Alternative number `index` (0 <= index < alternative_count).
///
/// # Safety
/// `rec` must be NULL or a filled recommendation; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_recommendation_alternative(
    rec: *const smartretry_recommendation,
    index: usize,
    out: *mut smartretry_alternative,
) -> smartretry_status {
    guard(|| {
        // SAFETY: forwarded contract.
        let r = unsafe { detail(rec) }?;
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(out, "out") }?;
        let a = r
            .alternatives
            .get(index)
            .ok_or_else(|| index_error("alternative", index, r.alternatives.len()))?;
        *out = smartretry_alternative {
            delay: a.delay.as_secs_f64(),
            success_probability: a.success_probability,
        };
        Ok(())
    })
}

/// The schedule a preview produced: one recommendation per failed attempt.
pub struct smartretry_schedule {
    _private: [u8; 0],
}

/// The value behind a `smartretry_schedule`.
pub(crate) struct ScheduleHandle {
    recs: Vec<Recommendation>,
}
impl_handle!(smartretry_schedule, ScheduleHandle, "schedule");

/// The whole schedule a failure would get if every attempt failed, up to `steps` decisions,
/// executing and changing nothing. `tenant` may be NULL.
///
/// # Safety
/// Handles must be NULL or of their type; strings NULL or NUL-terminated; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_engine_preview(
    engine: *const smartretry_engine,
    key: *const c_char,
    tenant: *const c_char,
    failure: *const smartretry_failure,
    steps: usize,
    out: *mut *mut smartretry_schedule,
) -> smartretry_status {
    guard(|| {
        let p = pinned();
        let e = p.get(engine)?;
        // SAFETY: forwarded contract.
        let key = unsafe { str_arg(key, "key") }?;
        // SAFETY: forwarded contract.
        let tenant = unsafe { opt_str_arg(tenant, "tenant") }?;
        let f = p.get(failure)?;
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(out, "out") }?;
        let recs = e.engine.preview(key, tenant, f.read(&p), steps)?;
        put_handle(out, ScheduleHandle { recs })
    })
}

/// Number of recommendations in a schedule.
///
/// # Safety
/// `schedule` must be NULL or a schedule handle; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_schedule_len(
    schedule: *const smartretry_schedule,
    out: *mut usize,
) -> smartretry_status {
    guard(|| {
        let s = get(schedule)?;
        // SAFETY: forwarded contract.
        *unsafe { out_ptr(out, "out") }? = s.recs.len();
        Ok(())
    })
}

/// Recommendation number `index` of a schedule, as an owned copy (release it with
/// smartretry_recommendation_free).
///
/// # Safety
/// `schedule` must be NULL or a schedule handle; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_schedule_get(
    schedule: *const smartretry_schedule,
    index: usize,
    out: *mut smartretry_recommendation,
) -> smartretry_status {
    guard(|| {
        let s = get(schedule)?;
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(out, "out") }?;
        let rec = s
            .recs
            .get(index)
            .ok_or_else(|| index_error("schedule", index, s.recs.len()))?;
        fill(out, rec.clone())
    })
}

/// Free a schedule. NULL is a no-op; a second free returns SMARTRETRY_INVALID_HANDLE.
///
/// # Safety
/// None: `schedule` is a checked id (any value is safe), and other threads may still be using it.
#[no_mangle]
pub unsafe extern "C" fn smartretry_schedule_free(
    schedule: *mut smartretry_schedule,
) -> smartretry_status {
    guard(|| free_handle(schedule))
}
