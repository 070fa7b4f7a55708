//! The engine's enums as plain integers with named constants. Values received from C are checked
//! (a bad value is SMARTRETRY_INVALID_ENUM, never undefined behaviour); names come from the core.

use crate::status::{FfiError, FfiResult};
use smartretry::{Action, BreakerState, ErrorClass, Guardrail, Scope, Tier};
use std::ffi::{c_char, CString};
use std::sync::LazyLock;

/// An error class: SMARTRETRY_CLASS_* (the core's `ErrorClass` codes).
#[allow(non_camel_case_types)]
pub type smartretry_class = u32;
pub const SMARTRETRY_CLASS_TIMEOUT: smartretry_class = 0;
pub const SMARTRETRY_CLASS_CONNECTION: smartretry_class = 1;
pub const SMARTRETRY_CLASS_RATE_LIMITED: smartretry_class = 2;
pub const SMARTRETRY_CLASS_UNAVAILABLE: smartretry_class = 3;
pub const SMARTRETRY_CLASS_SERVER_ERROR: smartretry_class = 4;
pub const SMARTRETRY_CLASS_CLIENT_ERROR: smartretry_class = 5;
pub const SMARTRETRY_CLASS_AUTH: smartretry_class = 6;
pub const SMARTRETRY_CLASS_NOT_FOUND: smartretry_class = 7;
pub const SMARTRETRY_CLASS_VALIDATION: smartretry_class = 8;
pub const SMARTRETRY_CLASS_CONFLICT: smartretry_class = 9;
pub const SMARTRETRY_CLASS_NEEDS_HUMAN: smartretry_class = 10;
pub const SMARTRETRY_CLASS_CANCELLED: smartretry_class = 11;
pub const SMARTRETRY_CLASS_UNKNOWN: smartretry_class = 12;
/// For overrides: every class of the scope.
pub const SMARTRETRY_CLASS_ALL: smartretry_class = 255;

/// What to do next: SMARTRETRY_ACTION_*.
#[allow(non_camel_case_types)]
pub type smartretry_action = u32;
pub const SMARTRETRY_ACTION_RETRY: smartretry_action = 0;
pub const SMARTRETRY_ACTION_GIVE_UP: smartretry_action = 1;
pub const SMARTRETRY_ACTION_ESCALATE: smartretry_action = 2;

/// Which tier decided: SMARTRETRY_TIER_*.
#[allow(non_camel_case_types)]
pub type smartretry_tier = u32;
pub const SMARTRETRY_TIER_HEURISTIC: smartretry_tier = 0;
pub const SMARTRETRY_TIER_BAYESIAN: smartretry_tier = 1;
pub const SMARTRETRY_TIER_OPERATOR: smartretry_tier = 2;
pub const SMARTRETRY_TIER_GUARDRAIL: smartretry_tier = 3;
/// The portfolio kept the class's own schedule over the learned plan.
pub const SMARTRETRY_TIER_PORTFOLIO: smartretry_tier = 4;
/// The learned (ML) tier's model decided.
pub const SMARTRETRY_TIER_LEARNED: smartretry_tier = 5;

/// A guardrail named in a clamp: SMARTRETRY_GUARDRAIL_*.
#[allow(non_camel_case_types)]
pub type smartretry_guardrail = u32;
pub const SMARTRETRY_GUARDRAIL_MIN_DELAY: smartretry_guardrail = 0;
pub const SMARTRETRY_GUARDRAIL_MAX_DELAY: smartretry_guardrail = 1;
pub const SMARTRETRY_GUARDRAIL_RETRY_AFTER: smartretry_guardrail = 2;
pub const SMARTRETRY_GUARDRAIL_DEADLINE: smartretry_guardrail = 3;
pub const SMARTRETRY_GUARDRAIL_MAX_ATTEMPTS: smartretry_guardrail = 4;
pub const SMARTRETRY_GUARDRAIL_BUDGET: smartretry_guardrail = 5;
pub const SMARTRETRY_GUARDRAIL_TENANT_BUDGET: smartretry_guardrail = 6;
pub const SMARTRETRY_GUARDRAIL_CIRCUIT_BREAKER: smartretry_guardrail = 7;
/// The adaptive client rate limiter's next token bound the delay.
pub const SMARTRETRY_GUARDRAIL_RATE_LIMIT: smartretry_guardrail = 8;

/// What an override applies to: SMARTRETRY_SCOPE_*.
#[allow(non_camel_case_types)]
pub type smartretry_scope = u32;
pub const SMARTRETRY_SCOPE_QUEUE: smartretry_scope = 0;
pub const SMARTRETRY_SCOPE_TENANT: smartretry_scope = 1;

/// A circuit breaker's state: SMARTRETRY_BREAKER_*.
#[allow(non_camel_case_types)]
pub type smartretry_breaker_state = u32;
pub const SMARTRETRY_BREAKER_CLOSED: smartretry_breaker_state = 0;
pub const SMARTRETRY_BREAKER_OPEN: smartretry_breaker_state = 1;
pub const SMARTRETRY_BREAKER_HALF_OPEN: smartretry_breaker_state = 2;

const ACTIONS: [Action; 3] = [Action::Retry, Action::GiveUp, Action::Escalate];
const TIERS: [Tier; 6] = [
    Tier::Heuristic,
    Tier::Bayesian,
    Tier::Operator,
    Tier::Guardrail,
    Tier::Portfolio,
    Tier::Learned,
];
const GUARDRAILS: [Guardrail; 9] = [
    Guardrail::MinDelay,
    Guardrail::MaxDelay,
    Guardrail::RetryAfter,
    Guardrail::Deadline,
    Guardrail::MaxAttempts,
    Guardrail::Budget,
    Guardrail::TenantBudget,
    Guardrail::CircuitBreaker,
    Guardrail::RateLimit,
];

fn index_of<T: PartialEq>(all: &[T], v: T) -> u32 {
    all.iter().position(|x| *x == v).unwrap_or(0) as u32
}

pub(crate) fn class_in(v: u32) -> FfiResult<ErrorClass> {
    ErrorClass::from_code(v).ok_or(FfiError::Enum {
        what: "error class",
        value: v,
    })
}

/// A class argument that may be SMARTRETRY_CLASS_ALL (None).
pub(crate) fn class_or_all_in(v: u32) -> FfiResult<Option<ErrorClass>> {
    if v == SMARTRETRY_CLASS_ALL {
        Ok(None)
    } else {
        class_in(v).map(Some)
    }
}

pub(crate) fn scope_in(v: u32, name: &str) -> FfiResult<Scope> {
    match v {
        SMARTRETRY_SCOPE_QUEUE => Ok(Scope::Queue(name.to_string())),
        SMARTRETRY_SCOPE_TENANT => Ok(Scope::Tenant(name.to_string())),
        _ => Err(FfiError::Enum {
            what: "scope",
            value: v,
        }),
    }
}

pub(crate) fn class_out(c: ErrorClass) -> smartretry_class {
    c as u32
}
pub(crate) fn action_out(a: Action) -> smartretry_action {
    index_of(&ACTIONS, a)
}
pub(crate) fn tier_out(t: Tier) -> smartretry_tier {
    index_of(&TIERS, t)
}
pub(crate) fn guardrail_out(g: Guardrail) -> smartretry_guardrail {
    index_of(&GUARDRAILS, g)
}
pub(crate) fn breaker_out(s: BreakerState) -> smartretry_breaker_state {
    match s {
        BreakerState::Closed => SMARTRETRY_BREAKER_CLOSED,
        BreakerState::Open => SMARTRETRY_BREAKER_OPEN,
        BreakerState::HalfOpen => SMARTRETRY_BREAKER_HALF_OPEN,
    }
}

fn table(names: impl Iterator<Item = &'static str>) -> Vec<CString> {
    names.map(|n| CString::new(n).unwrap_or_default()).collect()
}

static CLASS_NAMES: LazyLock<Vec<CString>> =
    LazyLock::new(|| table(ErrorClass::ALL.iter().map(|c| c.as_str())));
static ACTION_NAMES: LazyLock<Vec<CString>> =
    LazyLock::new(|| table(ACTIONS.iter().map(|a| a.as_str())));
static TIER_NAMES: LazyLock<Vec<CString>> =
    LazyLock::new(|| table(TIERS.iter().map(|t| t.as_str())));
static GUARDRAIL_NAMES: LazyLock<Vec<CString>> =
    LazyLock::new(|| table(GUARDRAILS.iter().map(|g| g.as_str())));

fn name_in(names: &[CString], v: u32) -> *const c_char {
    names
        .get(v as usize)
        .map_or(std::ptr::null(), |n| n.as_ptr())
}

/// The snake_case name of a class ("rate_limited"), or NULL if out of range. Static string.
#[no_mangle]
pub extern "C" fn smartretry_class_name(class: smartretry_class) -> *const c_char {
    std::panic::catch_unwind(|| name_in(&CLASS_NAMES, class)).unwrap_or(std::ptr::null())
}

/// The name of an action ("retry", "give_up", "escalate"), or NULL. Static string.
#[no_mangle]
pub extern "C" fn smartretry_action_name(action: smartretry_action) -> *const c_char {
    std::panic::catch_unwind(|| name_in(&ACTION_NAMES, action)).unwrap_or(std::ptr::null())
}

/// The name of a tier ("heuristic", "bayesian", ...), or NULL. Static string.
#[no_mangle]
pub extern "C" fn smartretry_tier_name(tier: smartretry_tier) -> *const c_char {
    std::panic::catch_unwind(|| name_in(&TIER_NAMES, tier)).unwrap_or(std::ptr::null())
}

/// The name of a guardrail ("max_delay", ...), or NULL. Static string.
#[no_mangle]
pub extern "C" fn smartretry_guardrail_name(guardrail: smartretry_guardrail) -> *const c_char {
    std::panic::catch_unwind(|| name_in(&GUARDRAIL_NAMES, guardrail)).unwrap_or(std::ptr::null())
}

/// Parse a class name (as in policy files; also "429", "5xx", "throttled", ...).
///
/// # Safety
/// `name` must be NULL or NUL-terminated; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_class_from_name(
    name: *const c_char,
    out: *mut smartretry_class,
) -> crate::status::smartretry_status {
    crate::status::guard(|| {
        // SAFETY: forwarded contract.
        let name = unsafe { crate::text::str_arg(name, "name") }?;
        // SAFETY: forwarded contract.
        let out = unsafe { crate::text::out_ptr(out, "out") }?;
        *out = class_out(name.parse::<ErrorClass>()?);
        Ok(())
    })
}
