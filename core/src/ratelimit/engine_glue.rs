//! The limiters inside the engine: one per (key, dependency), created by the first response
//! recorded while the policy has a `rate_limit` section, read by `acquire` and by the decision's
//! rate-limit guardrail.

use super::{ClientRateLimiter, RateLimitState};
use crate::engine::{check_name, Engine};
use crate::error::Result;
use crate::policy::Policy;
use crate::time::MAX_SECONDS;
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::Duration;

pub(crate) struct LimiterSlot {
    key: Arc<str>,
    dependency: Option<Arc<str>>,
    limiter: Mutex<ClientRateLimiter>,
}

/// Seconds to a `Duration` (the bucket never answers a negative or non-finite wait; this only
/// makes sure of it).
fn wait(secs: f64) -> Duration {
    Duration::try_from_secs_f64(secs.clamp(0.0, MAX_SECONDS)).unwrap_or(Duration::ZERO)
}

impl Engine {
    /// Take a token for a call on `key` now: how long to wait before making it. Zero while the
    /// key has not been throttled (or the policy has no `rate_limit`). The token is taken either
    /// way, so wait, then call; never call `acquire` again for the same call. Call it before
    /// every attempt, first ones included. Errors: an invalid key.
    pub fn acquire(&self, key: &str) -> Result<Duration> {
        self.acquire_for(key, None)
    }

    /// `acquire` for a call to a named dependency of `key` (record its outcomes with the same
    /// dependency: failures' `dependency` field, `on_success_from`).
    pub fn acquire_for(&self, key: &str, dependency: Option<&str>) -> Result<Duration> {
        let taken = self.acquire_within(key, dependency, Duration::MAX)?;
        Ok(taken.unwrap_or(Duration::ZERO))
    }

    /// `acquire_for` for a call that will not wait longer than `max_wait` (what is left of its
    /// deadline): None, taking no token, when the token is further away; the caller should give
    /// the call up (shed it) rather than send it.
    pub fn acquire_within(
        &self,
        key: &str,
        dependency: Option<&str>,
        max_wait: Duration,
    ) -> Result<Option<Duration>> {
        check_name("key", key)?;
        if let Some(d) = dependency {
            check_name("dependency", d)?;
        }
        if self.inner.policy.load().rate_limit.is_none() {
            return Ok(Some(Duration::ZERO));
        }
        let Some(slot) = self.find_limiter(key, dependency) else {
            return Ok(Some(Duration::ZERO));
        };
        let now = self.now().as_secs_f64();
        let taken = slot
            .limiter
            .lock()
            .acquire_within(now, max_wait.as_secs_f64());
        Ok(taken.map(wait))
    }

    /// The limiter of (key, dependency) as it stands, or None if it has seen no response.
    pub fn rate_limit_state(&self, key: &str, dependency: Option<&str>) -> Option<RateLimitState> {
        let slot = self.find_limiter(key, dependency)?;
        let now = self.now().as_secs_f64();
        let state = slot.limiter.lock().state(now);
        Some(state)
    }

    fn find_limiter(&self, key: &str, dependency: Option<&str>) -> Option<Arc<LimiterSlot>> {
        let hash = self.inner.limiters.hash_of(&(key, dependency));
        self.inner.limiters.get(hash, |s| {
            &*s.key == key && s.dependency.as_deref() == dependency
        })
    }

    /// A response on (key, dependency) at `now` (live outcomes only): teach its limiter.
    pub(crate) fn rate_limit_response(
        &self,
        policy: &Policy,
        key: &Arc<str>,
        dependency: Option<&str>,
        throttled: bool,
        now: Duration,
    ) {
        let Some(cfg) = &policy.rate_limit else {
            return;
        };
        let now = now.as_secs_f64();
        let hash = self.inner.limiters.hash_of(&(&**key, dependency));
        let (slot, _) = self.inner.limiters.get_or_insert_with(
            hash,
            |s| *s.key == **key && s.dependency.as_deref() == dependency,
            || LimiterSlot {
                key: key.clone(),
                dependency: dependency.map(Arc::from),
                limiter: Mutex::new(ClientRateLimiter::new(now, cfg)),
            },
        );
        slot.limiter.lock().update(throttled, now, cfg);
    }

    /// How long a call on (key, dependency) would wait for a token at `now`, taking nothing:
    /// the floor the rate-limit guardrail puts under a retry's delay.
    pub(crate) fn rate_limit_wait(
        &self,
        policy: &Policy,
        key: &str,
        dependency: Option<&str>,
        now: Duration,
    ) -> Duration {
        if policy.rate_limit.is_none() {
            return Duration::ZERO;
        }
        match self.find_limiter(key, dependency) {
            Some(slot) => wait(slot.limiter.lock().wait_at(now.as_secs_f64())),
            None => Duration::ZERO,
        }
    }
}
