//! Recommendations as plain C structs. The numbers are fields; the reason, the clamps and the
//! alternatives are read through accessors from the detail the struct owns, released with
//! smartretry_recommendation_free. Previews return a schedule handle of recommendations.

use crate::engine::smartretry_engine;
use crate::failure::smartretry_failure;
use crate::handle::{free_handle, get, impl_handle, put_handle};
use crate::names::{
    action_out, class_out, guardrail_out, smartretry_action, smartretry_class,
    smartretry_guardrail, smartretry_tier, tier_out,
};
use crate::status::{guard, smartretry_status, FfiError, FfiResult};
use crate::text::{opt_str_arg, out_ptr, owned_c_string, str_arg};
use smartretry::Recommendation;
use std::ffi::c_char;

/// Opaque detail owned by a smartretry_recommendation (reason, clamps, alternatives).
pub struct smartretry_recommendation_detail {
    magic: u64,
    rec: Recommendation,
}
const DETAIL_MAGIC: u64 = 0x5352_5245_4344_5431;

/// The engine's answer to "this attempt failed: what now?". Zero-initialise it (or release it
/// with smartretry_recommendation_free) before passing it to a call that fills it.
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

/// The C struct for a recommendation, owning its detail.
pub(crate) fn fill(rec: Recommendation) -> smartretry_recommendation {
    smartretry_recommendation {
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
        detail: Box::into_raw(Box::new(smartretry_recommendation_detail {
            magic: DETAIL_MAGIC,
            rec,
        })),
    }
}

/// The core recommendation behind a C struct.
///
/// # Safety
/// `rec` must be NULL or a recommendation filled by this library (or zeroed).
unsafe fn detail<'a>(rec: *const smartretry_recommendation) -> FfiResult<&'a Recommendation> {
    // SAFETY: the caller guarantees a non-NULL `rec` is readable.
    let rec = unsafe { rec.as_ref() }.ok_or(FfiError::Null("recommendation"))?;
    // SAFETY: a non-NULL detail was made by `fill` and is live until the struct is released.
    let d = unsafe { rec.detail.as_ref() }.ok_or_else(|| {
        FfiError::Argument("the recommendation has no detail (released, or never filled)".into())
    })?;
    if d.magic != DETAIL_MAGIC {
        return Err(FfiError::Handle("recommendation detail"));
    }
    Ok(&d.rec)
}

/// Release what a recommendation owns and set its detail to NULL (so a second call is a no-op).
/// Does not free the struct itself, which the caller owns.
///
/// # Safety
/// `rec` must be NULL or a recommendation filled by this library, zeroed, or released.
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
        if !d.is_null() {
            // SAFETY: `d` came from `Box::into_raw` in `fill` and was just detached from the
            // struct, so it is freed once.
            let mut boxed = unsafe { Box::from_raw(d) };
            boxed.magic = 0;
        }
        rec.clamp_count = 0;
        rec.alternative_count = 0;
        Ok(())
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
        *out = owned_c_string(f(r))?;
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
impl_handle!(
    smartretry_schedule,
    ScheduleHandle,
    0x5352_5343_4845_4431,
    "schedule"
);

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
        // SAFETY: forwarded contract.
        let e = unsafe { get(engine) }?;
        // SAFETY: forwarded contract.
        let key = unsafe { str_arg(key, "key") }?;
        // SAFETY: forwarded contract.
        let tenant = unsafe { opt_str_arg(tenant, "tenant") }?;
        // SAFETY: forwarded contract.
        let f = unsafe { get(failure) }?;
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(out, "out") }?;
        let recs = e.engine.preview(key, tenant, &f.failure, steps)?;
        put_handle(out, ScheduleHandle { recs });
        Ok(())
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
        // SAFETY: forwarded contract.
        let s = unsafe { get(schedule) }?;
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
        // SAFETY: forwarded contract.
        let s = unsafe { get(schedule) }?;
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(out, "out") }?;
        let rec = s
            .recs
            .get(index)
            .ok_or_else(|| index_error("schedule", index, s.recs.len()))?;
        *out = fill(rec.clone());
        Ok(())
    })
}

/// Free a schedule. NULL is a no-op; a second free returns SMARTRETRY_INVALID_HANDLE.
///
/// # Safety
/// `schedule` must not be in use by another thread.
#[no_mangle]
pub unsafe extern "C" fn smartretry_schedule_free(
    schedule: *mut smartretry_schedule,
) -> smartretry_status {
    // SAFETY: forwarded contract.
    guard(|| unsafe { free_handle(schedule) })
}
