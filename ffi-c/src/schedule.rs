//! The durable retry schedule (`smartretry-schedule`, on a SQLite file or Redis): store a retry
//! until it is due, hand due retries to workers with a lease, ack or nack them. Translation only:
//! the stores and their rules are the schedule crate's and `smartretry_redis::open_schedule`'s.
//!
//! Named `smartretry_retry_schedule` because `smartretry_schedule` is the preview's list of
//! recommendations (a stable name of this ABI). Times are seconds since the Unix epoch on the
//! caller's clock, as doubles; a claim is identified by its job id (acks and nacks name it).

use crate::handle::{free_handle, get, impl_handle, put_handle};
use crate::recommendation::{detail, smartretry_recommendation};
use crate::status::{guard, smartretry_status, FfiError, FfiResult};
use crate::text::{opt_str_arg, out_ptr, str_arg};
use smartretry_schedule::{RetrySchedule, ScheduleError, MAX_PAYLOAD_LEN};
use std::ffi::{c_char, CString};
use std::time::Duration;

/// A durable retry schedule: a SQLite file (one machine) or a Redis namespace (many machines).
/// Safe to use from many threads at once.
pub struct smartretry_retry_schedule {
    _private: [u8; 0],
}

/// The value behind a `smartretry_retry_schedule`.
pub(crate) struct RetryScheduleHandle {
    inner: Box<dyn RetrySchedule>,
}
impl_handle!(
    smartretry_retry_schedule,
    RetryScheduleHandle,
    "retry schedule"
);

/// The retries one `smartretry_retry_schedule_claim_due` handed out, read with
/// smartretry_claims_len and smartretry_claims_get, released with smartretry_claims_free.
pub struct smartretry_claims {
    _private: [u8; 0],
}

/// One claim as stored behind a `smartretry_claims` (C-ready: the job id is NUL-terminated).
struct ClaimEntry {
    job_id: CString,
    payload: Vec<u8>,
    deliveries: u32,
    lease_until: f64,
}

/// The value behind a `smartretry_claims`.
pub(crate) struct ClaimsHandle {
    claims: Vec<ClaimEntry>,
}
impl_handle!(smartretry_claims, ClaimsHandle, "claims");

/// A due retry handed to a worker: ack it when done, nack it to run again later. The pointers
/// are borrowed from the claims list and valid until smartretry_claims_free.
#[repr(C)]
pub struct smartretry_claim {
    /// The job id (NUL-terminated UTF-8); pass it to ack or nack.
    pub job_id: *const c_char,
    /// The payload stored with the retry (`payload_len` bytes; not NUL-terminated).
    pub payload: *const u8,
    pub payload_len: usize,
    /// Times handed out, this one included (above 1: redelivered after a lease ran out).
    pub deliveries: u32,
    /// The lease ends then (Unix seconds, the caller's clock); past it the retry may go to
    /// another worker.
    pub lease_until: f64,
}

impl From<ScheduleError> for FfiError {
    fn from(e: ScheduleError) -> Self {
        match e {
            ScheduleError::InvalidInput(_) => FfiError::Argument(e.to_string()),
            ScheduleError::Storage(_) => FfiError::ScheduleStorage(e.to_string()),
        }
    }
}

/// Latest time accepted (Unix seconds, about year 5138), as in the other bindings.
const MAX_EPOCH: f64 = 1e11;

/// A point in time (Unix seconds) as a Duration since the epoch.
fn epoch(what: &'static str, value: f64) -> FfiResult<Duration> {
    if value.is_finite() && (0.0..=MAX_EPOCH).contains(&value) {
        Ok(Duration::from_secs_f64(value))
    } else {
        Err(FfiError::Core(smartretry::Error::InvalidDuration {
            what,
            value,
            max: MAX_EPOCH,
        }))
    }
}

/// `len` bytes at `payload` (NULL allowed when `len` is 0).
///
/// # Safety
/// `payload` NULL or readable for `len` bytes for `'a`.
unsafe fn bytes_arg<'a>(payload: *const u8, len: usize) -> FfiResult<&'a [u8]> {
    if len == 0 {
        return Ok(&[]);
    }
    if payload.is_null() {
        return Err(FfiError::Null("payload"));
    }
    // Refused before the slice is made, so `len` is always a sane slice length.
    if len > MAX_PAYLOAD_LEN {
        return Err(FfiError::Argument(format!(
            "payload must be at most {MAX_PAYLOAD_LEN} bytes, got {len}"
        )));
    }
    // SAFETY: non-NULL, and the caller guarantees `len` readable bytes; len <= 1 MiB.
    Ok(unsafe { std::slice::from_raw_parts(payload, len) })
}

/// Write a bool result if the caller asked for it (NULL: not wanted).
///
/// # Safety
/// `out` NULL or writable.
unsafe fn put_bool(out: *mut bool, value: bool) {
    // SAFETY: the caller guarantees a non-NULL `out` is writable.
    if let Some(out) = unsafe { out.as_mut() } {
        *out = value;
    }
}

/// Open the schedule at `location`: a `redis://` or `rediss://` URL (the schedule of
/// `namespace`; NULL is "default"), or else the path of a SQLite file, created if missing.
/// SMARTRETRY_SCHEDULE_STORAGE if the file cannot be opened or is not a database;
/// SMARTRETRY_INVALID_ARGUMENT for an empty location, a bad URL or namespace. A Redis is first
/// reached on the first call that needs it.
///
/// # Safety
/// `location` and `namespace_` NULL or NUL-terminated; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_retry_schedule_open(
    location: *const c_char,
    namespace_: *const c_char,
    out: *mut *mut smartretry_retry_schedule,
) -> smartretry_status {
    guard(|| {
        // SAFETY: forwarded contract.
        let location = unsafe { str_arg(location, "location") }?;
        // SAFETY: forwarded contract.
        let namespace = unsafe { opt_str_arg(namespace_, "namespace") }?.unwrap_or("default");
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(out, "out") }?;
        let inner = smartretry_redis::open_schedule(location, namespace)?;
        put_handle(out, RetryScheduleHandle { inner })
    })
}

/// Store the retry of `job_id` (1-256 bytes) with `payload_len` bytes of payload (at most 1 MiB;
/// `payload` may be NULL when 0), due at `due` (Unix seconds). Scheduling a job again replaces it:
/// its payload, due time and any claim on it.
///
/// # Safety
/// `schedule` any value; `job_id` NULL or NUL-terminated; `payload` NULL or readable for
/// `payload_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn smartretry_retry_schedule_add(
    schedule: *const smartretry_retry_schedule,
    job_id: *const c_char,
    payload: *const u8,
    payload_len: usize,
    due: f64,
) -> smartretry_status {
    guard(|| {
        let s = get(schedule)?;
        // SAFETY: forwarded contract.
        let job_id = unsafe { str_arg(job_id, "job_id") }?;
        // SAFETY: forwarded contract.
        let payload = unsafe { bytes_arg(payload, payload_len) }?;
        s.inner.schedule(job_id, payload, epoch("due", due)?)?;
        Ok(())
    })
}

/// Store the retry the engine recommended at `now` (Unix seconds): due after its delay.
/// `*scheduled` (if not NULL) is false, and nothing is stored, when the recommendation is to
/// stop. `recommendation` must still own its detail (filled, not yet freed).
///
/// # Safety
/// As for smartretry_retry_schedule_add; `recommendation` NULL or a readable recommendation
/// struct; `scheduled` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_retry_schedule_add_recommended(
    schedule: *const smartretry_retry_schedule,
    job_id: *const c_char,
    payload: *const u8,
    payload_len: usize,
    now: f64,
    recommendation: *const smartretry_recommendation,
    scheduled: *mut bool,
) -> smartretry_status {
    guard(|| {
        let s = get(schedule)?;
        // SAFETY: forwarded contract.
        let job_id = unsafe { str_arg(job_id, "job_id") }?;
        // SAFETY: forwarded contract.
        let payload = unsafe { bytes_arg(payload, payload_len) }?;
        // SAFETY: forwarded contract.
        let rec = unsafe { detail(recommendation) }?;
        let stored = s
            .inner
            .schedule_recommended(job_id, payload, epoch("now", now)?, &rec)?;
        // SAFETY: forwarded contract.
        unsafe { put_bool(scheduled, stored) };
        Ok(())
    })
}

/// Claim up to `limit` retries due at `now` (Unix seconds), earliest first, each leased for
/// `lease` seconds (> 0): until then no other worker gets them; a retry neither acked nor nacked
/// by then is handed out again (at least once). `*out` is a claims list (possibly empty) to free
/// with smartretry_claims_free.
///
/// # Safety
/// `schedule` any value; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_retry_schedule_claim_due(
    schedule: *const smartretry_retry_schedule,
    now: f64,
    limit: usize,
    lease: f64,
    out: *mut *mut smartretry_claims,
) -> smartretry_status {
    guard(|| {
        let s = get(schedule)?;
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(out, "out") }?;
        let now = epoch("now", now)?;
        let lease_d = smartretry::time::secs("lease", lease)?;
        if lease_d.is_zero() {
            return Err(FfiError::Argument(
                "lease must be more than 0 seconds".into(),
            ));
        }
        let claims = s
            .inner
            .claim_due(now, limit, lease_d)?
            .into_iter()
            .map(|c| {
                Ok(ClaimEntry {
                    job_id: CString::new(c.job_id)
                        .map_err(|_| FfiError::Argument("a stored job id contains NUL".into()))?,
                    payload: c.payload,
                    deliveries: c.deliveries,
                    lease_until: c.lease_until.as_secs_f64(),
                })
            })
            .collect::<FfiResult<Vec<_>>>()?;
        put_handle(out, ClaimsHandle { claims })
    })
}

/// The retry is done: forget it. `*acked` (if not NULL) is false when it was not there (acked
/// already, or never scheduled), which is not an error: acks are idempotent.
///
/// # Safety
/// `schedule` any value; `job_id` NULL or NUL-terminated; `acked` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_retry_schedule_ack(
    schedule: *const smartretry_retry_schedule,
    job_id: *const c_char,
    acked: *mut bool,
) -> smartretry_status {
    guard(|| {
        let s = get(schedule)?;
        // SAFETY: forwarded contract.
        let job_id = unsafe { str_arg(job_id, "job_id") }?;
        let removed = s.inner.ack(job_id)?;
        // SAFETY: forwarded contract.
        unsafe { put_bool(acked, removed) };
        Ok(())
    })
}

/// The retry failed again: run it at `due` (Unix seconds) instead, releasing its claim.
/// `*found` (if not NULL) is false when the job is unknown (then nothing changes).
///
/// # Safety
/// `schedule` any value; `job_id` NULL or NUL-terminated; `found` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_retry_schedule_nack(
    schedule: *const smartretry_retry_schedule,
    job_id: *const c_char,
    due: f64,
    found: *mut bool,
) -> smartretry_status {
    guard(|| {
        let s = get(schedule)?;
        // SAFETY: forwarded contract.
        let job_id = unsafe { str_arg(job_id, "job_id") }?;
        let known = s.inner.nack(job_id, epoch("due", due)?)?;
        // SAFETY: forwarded contract.
        unsafe { put_bool(found, known) };
        Ok(())
    })
}

/// Retries stored: due or not, claimed or not.
///
/// # Safety
/// `schedule` any value; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_retry_schedule_len(
    schedule: *const smartretry_retry_schedule,
    out: *mut usize,
) -> smartretry_status {
    guard(|| {
        let s = get(schedule)?;
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(out, "out") }?;
        *out = s.inner.len()?;
        Ok(())
    })
}

/// Close the schedule (its file or connection). NULL is a no-op; a second free returns
/// SMARTRETRY_INVALID_HANDLE. Claims lists stay valid.
///
/// # Safety
/// None: `schedule` is a checked id.
#[no_mangle]
pub unsafe extern "C" fn smartretry_retry_schedule_free(
    schedule: *mut smartretry_retry_schedule,
) -> smartretry_status {
    guard(|| free_handle(schedule))
}

/// Number of claims in a list.
///
/// # Safety
/// `claims` any value; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_claims_len(
    claims: *const smartretry_claims,
    out: *mut usize,
) -> smartretry_status {
    guard(|| {
        let c = get(claims)?;
        // SAFETY: forwarded contract.
        *unsafe { out_ptr(out, "out") }? = c.claims.len();
        Ok(())
    })
}

/// Claim number `index` of a list (SMARTRETRY_INVALID_ARGUMENT past the end). Its pointers are
/// borrowed from the list: valid until smartretry_claims_free; copy what you keep.
///
/// # Safety
/// `claims` any value; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn smartretry_claims_get(
    claims: *const smartretry_claims,
    index: usize,
    out: *mut smartretry_claim,
) -> smartretry_status {
    guard(|| {
        let c = get(claims)?;
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(out, "out") }?;
        let e = c.claims.get(index).ok_or_else(|| {
            FfiError::Argument(format!(
                "claim index {index} out of range (the list has {})",
                c.claims.len()
            ))
        })?;
        // The entry's heap data lives as long as the handle's value, which the table keeps
        // until smartretry_claims_free (the Arc `c` dropped here is not the last reference).
        *out = smartretry_claim {
            job_id: e.job_id.as_ptr(),
            payload: if e.payload.is_empty() {
                std::ptr::null()
            } else {
                e.payload.as_ptr()
            },
            payload_len: e.payload.len(),
            deliveries: e.deliveries,
            lease_until: e.lease_until,
        };
        Ok(())
    })
}

/// Free a claims list (the claims themselves stay claimed: ack or nack them by job id). NULL is a
/// no-op; a second free returns SMARTRETRY_INVALID_HANDLE.
///
/// # Safety
/// None: `claims` is a checked id.
#[no_mangle]
pub unsafe extern "C" fn smartretry_claims_free(
    claims: *mut smartretry_claims,
) -> smartretry_status {
    guard(|| free_handle(claims))
}
