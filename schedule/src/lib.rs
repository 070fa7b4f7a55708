//! # smartretry-schedule: durable retry scheduling
//!
//! A failed job whose recommendation says "retry in 40 s" should not sleep in a worker's memory
//! for 40 s: the worker may die. A [`RetrySchedule`] stores the retry until it is due; workers
//! poll [`RetrySchedule::claim_due`] and receive due retries with a lease, then `ack` them when
//! done or `nack` them to run again later. Delivery is at least once: a worker killed holding a
//! claim loses its lease, and the retry is handed out again once the lease runs out. Acks are
//! idempotent.
//!
//! Time is always given by the caller (`now`, from the engine's clock), so schedules work the
//! same on a `SystemClock` and a `ManualClock`.
//!
//! Backends: [`SqliteSchedule`] (one machine, bundled SQLite in WAL mode) here, and
//! `RedisSchedule` in `smartretry-redis` (many machines).

pub mod conformance;
pub mod kill_trial;
mod sqlite;

pub use sqlite::SqliteSchedule;

use smartretry::Recommendation;
use std::time::Duration;
use thiserror::Error;

/// Longest job id accepted (bytes).
pub const MAX_JOB_ID_LEN: usize = 256;
/// Largest payload accepted (bytes): a reference or a small job description, not a blob.
pub const MAX_PAYLOAD_LEN: usize = 1 << 20;

#[derive(Debug, Error, Clone, PartialEq)]
pub enum ScheduleError {
    /// A job id, payload, limit or time out of range.
    #[error("invalid schedule input: {0}")]
    InvalidInput(String),
    /// The store failed (file, database, network).
    #[error("schedule storage: {0}")]
    Storage(String),
}

pub type Result<T> = std::result::Result<T, ScheduleError>;

/// A due retry handed to a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub job_id: String,
    pub payload: Vec<u8>,
    /// How many times this retry has been handed out, this one included (above 1: a
    /// redelivery after a lease ran out).
    pub deliveries: u32,
    /// The lease ends then (the caller's clock); past it the retry may go to another worker.
    pub lease_until: Duration,
}

/// Durable retries: schedule, claim with a lease, ack or nack.
pub trait RetrySchedule: Send + Sync {
    /// Store the retry of `job_id`, due at `due`. Scheduling a job again replaces it (its
    /// payload, due time, and any claim on it).
    fn schedule(&self, job_id: &str, payload: &[u8], due: Duration) -> Result<()>;

    /// Up to `limit` retries due at `now` (earliest first), each leased until `now + lease`.
    fn claim_due(&self, now: Duration, limit: usize, lease: Duration) -> Result<Vec<Claim>>;

    /// The retry is done: forget it. Acking twice, or a job never scheduled, is not an error
    /// (returns false).
    fn ack(&self, job_id: &str) -> Result<bool>;

    /// The retry failed again: run it at `due` instead (false if the job is unknown).
    fn nack(&self, job_id: &str, due: Duration) -> Result<bool>;

    /// Retries stored (due or not, claimed or not).
    fn len(&self) -> Result<usize>;

    fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Store the retry the engine recommended at `now`: due after its delay. Returns false (and
    /// stores nothing) if the recommendation is to stop.
    fn schedule_recommended(
        &self,
        job_id: &str,
        payload: &[u8],
        now: Duration,
        recommendation: &Recommendation,
    ) -> Result<bool> {
        if !recommendation.should_retry() {
            return Ok(false);
        }
        self.schedule(job_id, payload, now.saturating_add(recommendation.delay))?;
        Ok(true)
    }
}

/// Job ids and payloads in range.
pub fn check_job(job_id: &str, payload: &[u8]) -> Result<()> {
    if job_id.is_empty() || job_id.len() > MAX_JOB_ID_LEN {
        return Err(ScheduleError::InvalidInput(format!(
            "job id must be 1-{MAX_JOB_ID_LEN} bytes, got {}",
            job_id.len()
        )));
    }
    if payload.len() > MAX_PAYLOAD_LEN {
        return Err(ScheduleError::InvalidInput(format!(
            "payload must be at most {MAX_PAYLOAD_LEN} bytes, got {}",
            payload.len()
        )));
    }
    Ok(())
}

/// A time as whole microseconds (the stores' unit); times beyond ~292,000 years are refused.
pub fn micros(what: &str, t: Duration) -> Result<i64> {
    i64::try_from(t.as_micros())
        .map_err(|_| ScheduleError::InvalidInput(format!("{what} is out of range: {t:?}")))
}
