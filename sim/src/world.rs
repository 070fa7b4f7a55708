//! The world a run plays in: decides the outcome of every attempt from the job's hidden fault
//! and the shared state (maintenance windows, the incident timeline, the contended resource).
//! One `World` per (scenario, seed), cloned fresh for each policy so all policies face the
//! same jobs (common random numbers).

use crate::incidents::Timeline;
use crate::job::{FailureInfo, Fault, Job};
use rand::rngs::SmallRng;
use rand::Rng;
use std::sync::Arc;

/// Times within this many seconds count as equal: delays pass through `Duration` and back, and
/// a retry aimed exactly at a recovery or a window reset must not miss it by a rounding error.
pub const TIME_EPS: f64 = 1e-6;

/// A daily window (seconds since midnight UTC of simulated day 0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DailyWindow {
    pub start: f64,
    pub len: f64,
}

impl DailyWindow {
    /// If `t` is inside a window, the end of that window.
    pub fn end_if_inside(&self, t: f64) -> Option<f64> {
        let day = (t / 86_400.0).floor() * 86_400.0;
        let s = day + self.start;
        (t + TIME_EPS >= s && t + TIME_EPS < s + self.len).then_some(s + self.len)
    }
}

/// Shared state of one run.
#[derive(Debug, Clone)]
pub struct World {
    /// Unix seconds of simulated time 0 (what the engine's clock reads at t = 0).
    pub epoch: f64,
    /// Nightly maintenance: every attempt inside fails.
    pub blackout: Option<DailyWindow>,
    /// Incident timeline (scenario 10) and P(fail) per impact level.
    pub timeline: Option<Arc<Timeline>>,
    pub fail_prob: Vec<f64>,
    /// Attempts closer than this to the previous one collide (scenario 8).
    pub contention_window: f64,
    last_attempt: f64,
    rng: SmallRng,
}

impl World {
    pub fn new(epoch: f64, rng: SmallRng) -> World {
        World {
            epoch,
            blackout: None,
            timeline: None,
            fail_prob: Vec::new(),
            contention_window: 0.0,
            last_attempt: f64::NEG_INFINITY,
            rng,
        }
    }

    /// Run attempt number `attempt` (1-based) of `job` at simulated time `t`: `Ok` on success,
    /// the failure otherwise. The first attempt of every job fails (it is the failure that
    /// starts the episode), except under contention, where it competes like any other.
    pub fn attempt(&mut self, job: &Job, attempt: u32, t: f64) -> Result<(), FailureInfo> {
        if job.fault == Fault::Contention {
            let clash = t - self.last_attempt < self.contention_window;
            self.last_attempt = self.last_attempt.max(t);
            return if clash {
                Err(self.failure(job, t))
            } else {
                Ok(())
            };
        }
        if attempt <= 1 || self.blackout.and_then(|w| w.end_if_inside(t)).is_some() {
            return Err(self.failure(job, t));
        }
        let ok = match &job.fault {
            Fault::Recovers { at, brownout } => {
                t + TIME_EPS >= *at || (*brownout > 0.0 && self.rng.random::<f64>() < *brownout)
            }
            Fault::Never => false,
            Fault::RateWindow { period, open, .. } => (t + TIME_EPS).rem_euclid(*period) < *open,
            Fault::Incident { component } => {
                match self
                    .timeline
                    .as_ref()
                    .and_then(|tl| tl.impact_at(*component, t))
                {
                    None => true,
                    Some(impact) => {
                        let p = self
                            .fail_prob
                            .get(usize::from(impact))
                            .copied()
                            .unwrap_or(1.0);
                        self.rng.random::<f64>() >= p
                    }
                }
            }
            Fault::Contention => true,
        };
        if ok {
            Ok(())
        } else {
            Err(self.failure(job, t))
        }
    }

    /// What a failed attempt at `t` reports (Retry-After is computed for rate windows).
    fn failure(&self, job: &Job, t: f64) -> FailureInfo {
        let retry_after = match job.fault {
            Fault::RateWindow {
                period,
                retry_after: true,
                ..
            } => {
                let phase = (t + TIME_EPS).rem_euclid(period);
                Some((period - phase).ceil().max(1.0))
            }
            _ => None,
        };
        FailureInfo {
            spec: job.failure.clone(),
            retry_after,
        }
    }
}
