//! The circuit breakers seen from outside an episode: a dependency's state, and one call's
//! outcome reported against it (a health check, a call that is not retried). Bindings answer
//! "is it open?" from here instead of keeping their own copy.

use crate::breaker::BreakerState;
use crate::engine::Engine;
use crate::error::Result;
use crate::observe::Event;
use std::time::Duration;

impl Engine {
    /// The state of `dependency`'s circuit breaker now; None when the policy has no breakers.
    pub fn breaker_state(&self, dependency: &str) -> Result<Option<BreakerState>> {
        crate::engine::check_name("dependency", dependency)?;
        let settings = self.inner.settings.load();
        let policy = &*settings.policy;
        let now = self.now();
        Ok(self.with_breaker(policy, dependency, |b| b.state(now)))
    }

    /// Report one call's outcome against `dependency` to its breaker, outside any episode, and
    /// return the state after it (None when the policy has no breakers).
    pub fn record_dependency(&self, dependency: &str, ok: bool) -> Result<Option<BreakerState>> {
        crate::engine::check_name("dependency", dependency)?;
        let settings = self.inner.settings.load();
        let policy = &*settings.policy;
        let now = self.now();
        let outcome = self.with_breaker(policy, dependency, |b| {
            let moved = if ok {
                b.on_success(now)
            } else {
                b.on_failure(now)
            };
            (moved, b.state(now))
        });
        let Some((moved, state)) = outcome else {
            return Ok(None);
        };
        if let Some(t) = moved {
            self.emit(Event::Breaker {
                dependency,
                from: t.from,
                to: t.to,
            });
        }
        Ok(Some(state))
    }
}

impl Engine {
    /// The dependencies whose breakers are open now, with when each stops being open (engine
    /// clock): what a fleet shares (see `smartretry-redis`).
    pub fn open_breakers(&self) -> Vec<(String, Duration)> {
        let now = self.now();
        self.inner
            .breakers
            .values()
            .into_iter()
            .filter_map(|slot| {
                let mut b = slot.breaker.lock();
                b.state(now);
                b.open_until()
                    .map(|until| (slot.dependency.to_string(), until))
            })
            .collect()
    }

    /// Open `dependency`'s breaker until `until` (engine clock) unless it is already open as
    /// long: another engine of the fleet found the dependency down. Returns whether it changed
    /// (false too when the policy has no breakers).
    pub fn open_breaker_until(&self, dependency: &str, until: Duration) -> Result<bool> {
        crate::engine::check_name("dependency", dependency)?;
        let settings = self.inner.settings.load();
        let policy = &*settings.policy;
        let now = self.now();
        let moved = self
            .with_breaker(policy, dependency, |b| b.open_until_at_least(now, until))
            .flatten();
        if let Some(t) = moved {
            self.emit(Event::Breaker {
                dependency,
                from: t.from,
                to: t.to,
            });
        }
        Ok(moved.is_some())
    }
}

#[cfg(test)]
mod tests {
    use crate::{BreakerState, Clock, Engine, ManualClock, Policy};
    use std::time::Duration;

    #[test]
    fn a_dependency_opens_and_reads_back_without_an_episode() {
        let clock = ManualClock::shared(Duration::from_secs(1_700_000_000));
        let policy = Policy::from_json(r#"{"breaker":{"consecutive_failures":3}}"#).expect("valid");
        let e = Engine::with_clock(policy, clock.clone()).expect("valid");
        assert_eq!(e.breaker_state("db").unwrap(), Some(BreakerState::Closed));
        for _ in 0..3 {
            e.record_dependency("db", false).unwrap();
        }
        assert_eq!(e.breaker_state("db").unwrap(), Some(BreakerState::Open));
        assert_eq!(e.stats().episodes, 0, "no episode was made up");
        assert!(e.breaker_state("").is_err());
        let none = Engine::with_clock(Policy::default(), clock).expect("valid");
        assert_eq!(none.record_dependency("db", true).unwrap(), None);
    }

    #[test]
    fn an_open_breaker_carries_over_to_another_engine_until_its_deadline() {
        let clock = ManualClock::shared(Duration::from_secs(1_700_000_000));
        let policy = Policy::from_json(r#"{"breaker":{"consecutive_failures":2,"open_for":10}}"#)
            .expect("valid");
        let a = Engine::with_clock(policy.clone(), clock.clone()).expect("valid");
        let b = Engine::with_clock(policy, clock.clone()).expect("valid");
        a.record_dependency("db", false).unwrap();
        a.record_dependency("db", false).unwrap();
        let open = a.open_breakers();
        assert_eq!(open.len(), 1);
        let (dep, until) = open[0].clone();
        assert_eq!(until, clock.now() + Duration::from_secs(10));
        assert!(b.open_breaker_until(&dep, until).unwrap());
        assert!(
            !b.open_breaker_until(&dep, until).unwrap(),
            "already open as long"
        );
        assert_eq!(b.breaker_state("db").unwrap(), Some(BreakerState::Open));
        clock.advance(Duration::from_secs(10));
        assert_eq!(b.breaker_state("db").unwrap(), Some(BreakerState::HalfOpen));
        assert!(b.open_breakers().is_empty());
        // A deadline already past changes nothing.
        assert!(!b.open_breaker_until("db", clock.now()).unwrap());
    }
}
