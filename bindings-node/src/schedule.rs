//! `RetrySchedule`: the durable retry schedule (`smartretry-schedule`, on a SQLite file or
//! Redis) for JS workers; this file only translates arguments, results and errors. Calls are
//! synchronous (a SQLite transaction or one Redis script each).

use crate::clock::instant;
use crate::error::{coded, invalid_argument};
use crate::recommendation::Recommendation;
use napi::bindgen_prelude::Buffer;
use napi_derive::napi;
use smartretry_schedule::ScheduleError;
use std::time::Duration;

fn schedule_error(err: ScheduleError) -> napi::Error {
    match err {
        ScheduleError::InvalidInput(_) => invalid_argument(err),
        ScheduleError::Storage(_) => coded("SCHEDULE_STORAGE", err),
    }
}

/// A due retry handed to a worker: ack it when done, nack it to run again later.
#[napi(object)]
pub struct Claim {
    pub job_id: String,
    pub payload: Buffer,
    /// Times handed out, this one included (above 1: redelivered after a lease ran out).
    pub deliveries: u32,
    /// The lease ends then (Unix seconds, the caller's clock).
    pub lease_until: f64,
}

/// Durable retries on a SQLite file or Redis: schedule, claim with a lease, ack or nack.
#[napi]
pub struct RetrySchedule {
    inner: Box<dyn smartretry_schedule::RetrySchedule>,
}

#[napi]
impl RetrySchedule {
    /// The schedule at `location`: a SQLite file path, or a `redis://` / `rediss://` URL (the
    /// schedule of `namespace`, default "default").
    #[napi(constructor)]
    pub fn new(location: String, namespace: Option<String>) -> napi::Result<Self> {
        let ns = namespace.unwrap_or_else(|| "default".into());
        let inner = smartretry_redis::open_schedule(&location, &ns).map_err(schedule_error)?;
        Ok(RetrySchedule { inner })
    }

    /// Store the retry of `jobId`, due at `due` (Unix seconds); replaces it if scheduled.
    #[napi]
    pub fn schedule(&self, job_id: String, payload: Buffer, due: f64) -> napi::Result<()> {
        self.inner
            .schedule(&job_id, &payload, instant(due)?)
            .map_err(schedule_error)
    }

    /// Store the retry the engine recommended at `now`: due after its delay. False (nothing
    /// stored) when the recommendation is to stop.
    #[napi]
    pub fn schedule_recommended(
        &self,
        job_id: String,
        payload: Buffer,
        now: f64,
        recommendation: &Recommendation,
    ) -> napi::Result<bool> {
        self.inner
            .schedule_recommended(&job_id, &payload, instant(now)?, &recommendation.inner)
            .map_err(schedule_error)
    }

    /// Up to `limit` retries due at `now`, earliest first, each leased for `leaseSecs` seconds.
    #[napi]
    pub fn claim_due(&self, now: f64, limit: u32, lease_secs: f64) -> napi::Result<Vec<Claim>> {
        let lease = Duration::try_from_secs_f64(lease_secs)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| {
                invalid_argument(format!("lease must be seconds > 0, got {lease_secs}"))
            })?;
        let claims = self
            .inner
            .claim_due(instant(now)?, limit as usize, lease)
            .map_err(schedule_error)?;
        Ok(claims
            .into_iter()
            .map(|c| Claim {
                job_id: c.job_id,
                payload: c.payload.into(),
                deliveries: c.deliveries,
                lease_until: c.lease_until.as_secs_f64(),
            })
            .collect())
    }

    /// The retry is done: forget it (false if it was not there; acking twice is fine).
    #[napi]
    pub fn ack(&self, job_id: String) -> napi::Result<bool> {
        self.inner.ack(&job_id).map_err(schedule_error)
    }

    /// Run the retry again at `due` (Unix seconds); false if it is unknown.
    #[napi]
    pub fn nack(&self, job_id: String, due: f64) -> napi::Result<bool> {
        self.inner
            .nack(&job_id, instant(due)?)
            .map_err(schedule_error)
    }

    /// Retries stored, due or not, claimed or not.
    #[napi]
    pub fn count(&self) -> napi::Result<u32> {
        let n = self.inner.len().map_err(schedule_error)?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }
}
