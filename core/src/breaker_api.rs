//! The circuit breakers seen from outside an episode: a dependency's state, and one call's
//! outcome reported against it (a health check, a call that is not retried). Bindings answer
//! "is it open?" from here instead of keeping their own copy.

use crate::breaker::BreakerState;
use crate::engine::Engine;
use crate::error::Result;
use crate::observe::Event;

impl Engine {
    /// The state of `dependency`'s circuit breaker now; None when the policy has no breakers.
    pub fn breaker_state(&self, dependency: &str) -> Result<Option<BreakerState>> {
        crate::engine::check_name("dependency", dependency)?;
        let policy = self.inner.policy.load();
        let now = self.now();
        Ok(self.with_breaker(&policy, dependency, |b| b.state(now)))
    }

    /// Report one call's outcome against `dependency` to its breaker, outside any episode, and
    /// return the state after it (None when the policy has no breakers).
    pub fn record_dependency(&self, dependency: &str, ok: bool) -> Result<Option<BreakerState>> {
        crate::engine::check_name("dependency", dependency)?;
        let policy = self.inner.policy.load();
        let now = self.now();
        let outcome = self.with_breaker(&policy, dependency, |b| {
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

#[cfg(test)]
mod tests {
    use crate::{BreakerState, Engine, ManualClock, Policy};
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
}
