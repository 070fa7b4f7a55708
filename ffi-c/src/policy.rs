//! Policies as handles: the defaults, a JSON policy file, and setters for the common knobs. An
//! engine copies the policy it is made from, so the handle may be freed (or changed) afterwards.

use crate::handle::{free_handle, get, impl_handle, lock, put_handle};
use crate::names::{class_in, smartretry_class};
use crate::status::{guard, smartretry_status, FfiResult};
use crate::text::{out_ptr, owned_c_string, str_arg};
use smartretry::{ClassPolicy, Disposition, ErrorClass, Policy, PolicyPatch};
use std::ffi::c_char;
use std::sync::Mutex;

/// A retry policy (per-class settings, learning, guardrails). Not thread-safe: do not change it
/// while another thread uses it.
pub struct smartretry_policy {
    _private: [u8; 0],
}

/// The value behind a `smartretry_policy`.
pub(crate) struct PolicyHandle {
    pub(crate) policy: Mutex<Policy>,
}
impl_handle!(smartretry_policy, PolicyHandle, "policy");

fn wrap(policy: Policy) -> PolicyHandle {
    PolicyHandle {
        policy: Mutex::new(policy),
    }
}

/// Change one class's policy through the core's own patch and validation (nothing changes on error).
///
/// # Safety
/// `policy` must be NULL or a policy handle (a setter racing another call is serialised).
unsafe fn patch_class(
    policy: *mut smartretry_policy,
    class: smartretry_class,
    patch: PolicyPatch,
) -> FfiResult {
    let h = get(policy)?;
    let mut p = lock(&h.policy);
    let class: ErrorClass = class_in(class)?;
    patch.validate()?;
    let mut cp = ClassPolicy::clone(&p.class(class));
    patch.apply(&mut cp);
    cp.validate(class)?;
    p.classes.insert(class, cp);
    Ok(())
}

fn secs(what: &'static str, v: f64) -> FfiResult<std::time::Duration> {
    Ok(smartretry::time::secs(what, v)?)
}

/// The built-in default policy (the product's per-class defaults).
///
/// # Safety
/// `out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_policy_new(
    out: *mut *mut smartretry_policy,
) -> smartretry_status {
    guard(|| {
        // SAFETY: forwarded contract.
        put_handle(unsafe { out_ptr(out, "out") }?, wrap(Policy::default()))
    })
}

/// A policy from JSON (NUL-terminated UTF-8; partial: defaults fill the rest), validated.
///
/// # Safety
/// `json` must be NULL or NUL-terminated; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_policy_from_json(
    json: *const c_char,
    out: *mut *mut smartretry_policy,
) -> smartretry_status {
    guard(|| {
        // SAFETY: forwarded contract.
        let json = unsafe { str_arg(json, "json") }?;
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(out, "out") }?;
        put_handle(out, wrap(Policy::from_json(json)?))
    })
}

/// The whole policy as JSON (caller frees with smartretry_string_free).
///
/// # Safety
/// `policy` must be NULL or a policy handle; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_policy_to_json(
    policy: *const smartretry_policy,
    out: *mut *mut c_char,
) -> smartretry_status {
    guard(|| {
        let p = get(policy)?;
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(out, "out") }?;
        *out = owned_c_string(lock(&p.policy).to_json())?;
        Ok(())
    })
}

/// Total attempts for a class, including the first (1 = never retry).
///
/// # Safety
/// `policy` must be NULL or a policy handle (a setter racing another call is serialised).
#[no_mangle]
pub unsafe extern "C" fn smartretry_policy_set_max_attempts(
    policy: *mut smartretry_policy,
    class: smartretry_class,
    max_attempts: u32,
) -> smartretry_status {
    let patch = PolicyPatch {
        max_attempts: Some(max_attempts),
        ..PolicyPatch::default()
    };
    // SAFETY: forwarded contract.
    guard(|| unsafe { patch_class(policy, class, patch) })
}

/// Bounds on a class's delays, in seconds (min <= max).
///
/// # Safety
/// `policy` must be NULL or a policy handle (a setter racing another call is serialised).
#[no_mangle]
pub unsafe extern "C" fn smartretry_policy_set_delay_bounds(
    policy: *mut smartretry_policy,
    class: smartretry_class,
    min_delay: f64,
    max_delay: f64,
) -> smartretry_status {
    guard(|| {
        let patch = PolicyPatch {
            min_delay: Some(secs("min_delay", min_delay)?),
            max_delay: Some(secs("max_delay", max_delay)?),
            ..PolicyPatch::default()
        };
        // SAFETY: forwarded contract.
        unsafe { patch_class(policy, class, patch) }
    })
}

/// Whether a class is retried (`retry` true) or given up on at once.
///
/// # Safety
/// `policy` must be NULL or a policy handle (a setter racing another call is serialised).
#[no_mangle]
pub unsafe extern "C" fn smartretry_policy_set_retryable(
    policy: *mut smartretry_policy,
    class: smartretry_class,
    retry: bool,
) -> smartretry_status {
    let patch = PolicyPatch {
        disposition: Some(if retry {
            Disposition::Retry
        } else {
            Disposition::GiveUp
        }),
        ..PolicyPatch::default()
    };
    // SAFETY: forwarded contract.
    guard(|| unsafe { patch_class(policy, class, patch) })
}

/// Patch one class with a JSON object of class-policy fields (as in a policy file's class entry,
/// e.g. {"strategy":{"constant":{"delay":2}}}).
///
/// # Safety
/// `policy` must be NULL or a policy handle (a setter racing another call is serialised); `patch_json` NULL or
/// NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn smartretry_policy_patch_class(
    policy: *mut smartretry_policy,
    class: smartretry_class,
    patch_json: *const c_char,
) -> smartretry_status {
    guard(|| {
        // SAFETY: forwarded contract.
        let json = unsafe { str_arg(patch_json, "patch_json") }?;
        let patch = PolicyPatch::from_json(json)?;
        // SAFETY: forwarded contract.
        unsafe { patch_class(policy, class, patch) }
    })
}

/// Total time an episode may take from its first failure, in seconds; 0 removes the deadline.
///
/// # Safety
/// `policy` must be NULL or a policy handle (a setter racing another call is serialised).
#[no_mangle]
pub unsafe extern "C" fn smartretry_policy_set_deadline(
    policy: *mut smartretry_policy,
    seconds: f64,
) -> smartretry_status {
    guard(|| {
        let d = secs("deadline", seconds)?;
        lock(&get(policy)?.policy).deadline = (!d.is_zero()).then_some(d);
        Ok(())
    })
}

/// Turn the learned tiers on or off (the heuristic tier always decides when off).
///
/// # Safety
/// `policy` must be NULL or a policy handle (a setter racing another call is serialised).
#[no_mangle]
pub unsafe extern "C" fn smartretry_policy_set_learning(
    policy: *mut smartretry_policy,
    enabled: bool,
) -> smartretry_status {
    guard(|| {
        lock(&get(policy)?.policy).learning.enabled = enabled;
        Ok(())
    })
}

/// Seed for jitter and exploration (the same seed gives the same decisions).
///
/// # Safety
/// `policy` must be NULL or a policy handle (a setter racing another call is serialised).
#[no_mangle]
pub unsafe extern "C" fn smartretry_policy_set_seed(
    policy: *mut smartretry_policy,
    seed: u64,
) -> smartretry_status {
    guard(|| {
        lock(&get(policy)?.policy).seed = Some(seed);
        Ok(())
    })
}

/// Free a policy. NULL is a no-op; a second free returns SMARTRETRY_INVALID_HANDLE.
///
/// # Safety
/// None: `policy` is a checked id (any value is safe), and other threads may still be using it.
#[no_mangle]
pub unsafe extern "C" fn smartretry_policy_free(
    policy: *mut smartretry_policy,
) -> smartretry_status {
    guard(|| free_handle(policy))
}
