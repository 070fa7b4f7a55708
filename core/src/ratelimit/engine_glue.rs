//! The limiters inside the engine: one per (key, dependency), created by the first response
//! recorded while the policy has a `rate_limit` section, read by `acquire` and by the decision's
//! rate-limit guardrail.

use super::{ClientRateLimiter, RateLimitState};
use crate::engine::{check_name, Engine};
use crate::error::Result;
use crate::policy::Policy;
use crate::sharded::ShardedMap;
use crate::time::MAX_SECONDS;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub(crate) struct LimiterSlot {
    key: Arc<str>,
    dependency: Option<Arc<str>>,
    limiter: Mutex<ClientRateLimiter>,
}

/// The engine's limiters, and whether its policy has rate limiting at all (a flag, so that
/// `acquire` on an engine without it costs one atomic load, not a policy load).
pub(crate) struct Limiters {
    map: ShardedMap<LimiterSlot>,
    on: AtomicBool,
}

impl Limiters {
    pub fn new(policy: &Policy) -> Limiters {
        Limiters {
            map: ShardedMap::bounded(crate::budget::MAX_TRACKED_KEYS),
            on: AtomicBool::new(policy.rate_limit.is_some()),
        }
    }

    /// The map's hash of (key, dependency). No dependency hashes as the empty name, which no
    /// dependency can have (names are never empty): one short string fewer to hash.
    fn hash(&self, key: &str, dependency: Option<&str>) -> u64 {
        self.map.hash_of(&(key, dependency.unwrap_or("")))
    }

    /// The policy changed: rate limiting on or off from now (limiters keep their state, so
    /// turning it back on resumes where it was).
    pub fn follow(&self, policy: &Policy) {
        self.on
            .store(policy.rate_limit.is_some(), Ordering::Release);
    }
}

/// Seconds to a `Duration` (the bucket never answers a negative or non-finite wait; this only
/// makes sure of it).
fn wait(secs: f64) -> Duration {
    if secs <= 0.0 {
        return Duration::ZERO;
    }
    // At most ten years in nanoseconds fits a u64 many times over.
    Duration::from_nanos((secs.min(MAX_SECONDS) * 1e9) as u64)
}

impl Engine {
    /// Whether the policy in force has adaptive rate limiting (`rate_limit`). While it has
    /// not, `acquire` answers zero and changes nothing, so a binding that knows this may skip
    /// the call (one atomic load; it turns on and off with `set_policy`).
    pub fn rate_limit_on(&self) -> bool {
        self.inner.limiters.on.load(Ordering::Acquire)
    }

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
        let taken = self.acquire_secs(key, dependency, f64::INFINITY)?;
        Ok(taken.map_or(Duration::ZERO, wait))
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
        let taken = self.acquire_secs(key, dependency, max_wait.as_secs_f64())?;
        Ok(taken.map(wait))
    }

    /// `acquire_within` in seconds (the hot path converts once, at the end).
    fn acquire_secs(
        &self,
        key: &str,
        dependency: Option<&str>,
        max_wait: f64,
    ) -> Result<Option<f64>> {
        check_name("key", key)?;
        if let Some(d) = dependency {
            check_name("dependency", d)?;
        }
        if !self.inner.limiters.on.load(Ordering::Acquire) {
            return Ok(Some(0.0));
        }
        // Never throttled (no limiter yet): nothing to wait for.
        let taken = self
            .with_limiter(key, dependency, |l| {
                l.acquire_within(self.now().as_secs_f64(), max_wait)
            })
            .unwrap_or(Some(0.0));
        Ok(taken)
    }

    /// The limiter of (key, dependency) as it stands, or None if it has seen no response.
    pub fn rate_limit_state(&self, key: &str, dependency: Option<&str>) -> Option<RateLimitState> {
        self.with_limiter(key, dependency, |l| l.state(self.now().as_secs_f64()))
    }

    /// Run `f` on the limiter of (key, dependency), if it exists (the hot path: no handle
    /// cloned, the map's entry not marked used; the responses that follow mark it).
    fn with_limiter<T>(
        &self,
        key: &str,
        dependency: Option<&str>,
        f: impl FnOnce(&mut ClientRateLimiter) -> T,
    ) -> Option<T> {
        let hash = self.inner.limiters.hash(key, dependency);
        self.inner.limiters.map.peek(
            hash,
            |s| &*s.key == key && s.dependency.as_deref() == dependency,
            |s| f(&mut s.limiter.lock()),
        )
    }

    /// A response on (key, dependency) at `now` (live outcomes only): teach its limiter.
    pub(crate) fn rate_limit_response(
        &self,
        policy: &Policy,
        key: &str,
        dependency: Option<&str>,
        throttled: bool,
        now: Duration,
    ) {
        let Some(cfg) = &policy.rate_limit else {
            return;
        };
        let now = now.as_secs_f64();
        let hash = self.inner.limiters.hash(key, dependency);
        let (slot, _) = self.inner.limiters.map.get_or_insert_with(
            hash,
            |s| *s.key == *key && s.dependency.as_deref() == dependency,
            || LimiterSlot {
                key: Arc::from(key),
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
        self.with_limiter(key, dependency, |l| wait(l.wait_at(now.as_secs_f64())))
            .unwrap_or(Duration::ZERO)
    }
}
