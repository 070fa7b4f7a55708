//! Circuit breaker per dependency: opens on consecutive failures or on a failure ratio over a
//! sliding window (with a minimum throughput), then lets a bounded number of half-open probes
//! through before closing again.

use crate::error::{Error, Result};
use crate::time::serde_secs;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// When to open and how to recover.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BreakerConfig {
    /// Open after this many failures in a row.
    pub consecutive_failures: u32,
    /// Open when failures / attempts over the window reach this share...
    pub failure_ratio: f64,
    /// ...over this sliding window...
    #[serde(with = "serde_secs")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::time::Seconds"))]
    pub window: Duration,
    /// ...provided at least this many attempts were seen in it.
    pub min_throughput: u32,
    /// Stay open this long before probing.
    #[serde(with = "serde_secs")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::time::Seconds"))]
    pub open_for: Duration,
    /// Attempts let through while half-open.
    pub half_open_probes: u32,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            consecutive_failures: 5,
            failure_ratio: 0.5,
            window: Duration::from_secs(30),
            min_throughput: 10,
            open_for: Duration::from_secs(30),
            half_open_probes: 1,
        }
    }
}

impl BreakerConfig {
    /// Check every threshold is usable (counts at least 1, the ratio in (0, 1], positive
    /// durations).
    pub fn validate(&self) -> Result<()> {
        let bad = |m: &str| Err(Error::InvalidConfig(format!("breaker: {m}")));
        if self.consecutive_failures == 0 {
            return bad("consecutive_failures must be at least 1");
        }
        if !(self.failure_ratio > 0.0 && self.failure_ratio <= 1.0) {
            return bad("failure_ratio must be in (0, 1]");
        }
        if self.window.is_zero() || self.open_for.is_zero() {
            return bad("window and open_for must be positive");
        }
        if self.half_open_probes == 0 {
            return bad("half_open_probes must be at least 1");
        }
        Ok(())
    }
}

/// Where a dependency's circuit breaker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    /// Attempts pass; failures are counted.
    Closed,
    /// Attempts are held back until `open_for` has passed.
    Open,
    /// A bounded number of probe attempts may run; a success closes the breaker, a failure reopens
    /// it.
    HalfOpen,
}

impl BreakerState {
    /// The snake_case name used in events and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }
}

/// A state change, reported to observers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// The state before.
    pub from: BreakerState,
    /// The state after.
    pub to: BreakerState,
}

const SLOTS: usize = 10;

/// One dependency's breaker.
#[derive(Debug, Clone)]
pub struct CircuitBreaker {
    config: BreakerConfig,
    state: BreakerState,
    consecutive: u32,
    /// Ring of (slot index, successes, failures); slot index = time / (window / SLOTS).
    slots: [(u64, u32, u32); SLOTS],
    reopen_at: Duration,
    probes_granted: u32,
}

/// Where a retry may be scheduled given the breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admission {
    /// The earliest time the attempt may run.
    pub not_before: Duration,
    /// The attempt is a half-open probe.
    pub probe: bool,
}

impl CircuitBreaker {
    /// A closed breaker with this configuration.
    pub fn new(config: BreakerConfig) -> CircuitBreaker {
        CircuitBreaker {
            config,
            state: BreakerState::Closed,
            consecutive: 0,
            slots: [(u64::MAX, 0, 0); SLOTS],
            reopen_at: Duration::ZERO,
            probes_granted: 0,
        }
    }

    /// The state at `now` (an open breaker becomes half-open once `open_for` has passed).
    pub fn state(&mut self, now: Duration) -> BreakerState {
        self.tick(now);
        self.state
    }

    fn tick(&mut self, now: Duration) -> Option<Transition> {
        if self.state == BreakerState::Open && now >= self.reopen_at {
            return Some(self.go(BreakerState::HalfOpen, now));
        }
        None
    }

    fn go(&mut self, to: BreakerState, now: Duration) -> Transition {
        let from = self.state;
        self.state = to;
        match to {
            BreakerState::Open => {
                self.reopen_at = now + self.config.open_for;
                self.probes_granted = 0;
            }
            BreakerState::Closed => {
                self.consecutive = 0;
                self.slots = [(u64::MAX, 0, 0); SLOTS];
            }
            BreakerState::HalfOpen => {}
        }
        Transition { from, to }
    }

    fn slot(&mut self, now: Duration) -> &mut (u64, u32, u32) {
        let width = (self.config.window.as_nanos() / SLOTS as u128).max(1);
        let idx = (now.as_nanos() / width) as u64;
        let s = &mut self.slots[(idx % SLOTS as u64) as usize];
        if s.0 != idx {
            *s = (idx, 0, 0);
        }
        s
    }

    fn window_counts(&self, now: Duration) -> (u32, u32) {
        let width = (self.config.window.as_nanos() / SLOTS as u128).max(1);
        let idx = (now.as_nanos() / width) as u64;
        self.slots
            .iter()
            .filter(|s| s.0 != u64::MAX && s.0 + (SLOTS as u64) > idx)
            .fold((0, 0), |(ok, bad), s| (ok + s.1, bad + s.2))
    }

    /// Record a successful attempt.
    pub fn on_success(&mut self, now: Duration) -> Option<Transition> {
        let t = self.tick(now);
        self.slot(now).1 += 1;
        self.consecutive = 0;
        match self.state {
            BreakerState::HalfOpen | BreakerState::Open => Some(self.go(BreakerState::Closed, now)),
            BreakerState::Closed => t,
        }
    }

    /// Record a failed attempt.
    pub fn on_failure(&mut self, now: Duration) -> Option<Transition> {
        let t = self.tick(now);
        self.slot(now).2 += 1;
        self.consecutive = self.consecutive.saturating_add(1);
        match self.state {
            BreakerState::HalfOpen => Some(self.go(BreakerState::Open, now)),
            BreakerState::Open => t,
            BreakerState::Closed => {
                let (ok, bad) = self.window_counts(now);
                let total = ok + bad;
                let ratio_trips = total >= self.config.min_throughput
                    && f64::from(bad) >= self.config.failure_ratio * f64::from(total);
                if self.consecutive >= self.config.consecutive_failures || ratio_trips {
                    Some(self.go(BreakerState::Open, now))
                } else {
                    t
                }
            }
        }
    }

    /// While open: until when (before half-open probes).
    pub fn open_until(&self) -> Option<Duration> {
        (self.state == BreakerState::Open).then_some(self.reopen_at)
    }

    /// Open (or keep open) until `until`, as another engine of a fleet found it should be; a
    /// breaker already open longer stays as it is. None if nothing changed.
    pub fn open_until_at_least(&mut self, now: Duration, until: Duration) -> Option<Transition> {
        self.tick(now);
        if until <= now || self.open_until().is_some_and(|t| t >= until) {
            return None;
        }
        let t = self.go(BreakerState::Open, now);
        self.reopen_at = until;
        Some(t)
    }

    /// When may a retry proposed for `at` run? `reserve` grants a half-open probe slot (a real
    /// decision); a preview passes false and changes nothing.
    pub fn admit(&mut self, now: Duration, at: Duration, reserve: bool) -> Admission {
        self.tick(now);
        if self.state == BreakerState::Closed {
            return Admission {
                not_before: at,
                probe: false,
            };
        }
        let window_start = if self.state == BreakerState::Open {
            self.reopen_at
        } else {
            now
        };
        if self.probes_granted < self.config.half_open_probes {
            if reserve {
                self.probes_granted += 1;
            }
            Admission {
                not_before: at.max(window_start),
                probe: true,
            }
        } else {
            // Probes are spoken for: wait until a further open period has passed.
            Admission {
                not_before: at.max(window_start + self.config.open_for),
                probe: false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: u64) -> Duration {
        Duration::from_secs(x)
    }

    #[test]
    fn opens_on_consecutive_failures_and_probes() {
        let mut b = CircuitBreaker::new(BreakerConfig::default());
        for i in 0..4 {
            assert_eq!(b.on_failure(s(100 + i)), None);
        }
        let t = b.on_failure(s(104)).unwrap();
        assert_eq!((t.from, t.to), (BreakerState::Closed, BreakerState::Open));
        let a = b.admit(s(105), s(106), true);
        assert_eq!(
            a,
            Admission {
                not_before: s(134),
                probe: true
            }
        );
        let a2 = b.admit(s(105), s(106), true);
        assert_eq!(a2.not_before, s(164), "second waits a further period");
        assert!(!a2.probe);
        assert_eq!(b.state(s(134)), BreakerState::HalfOpen);
        let t = b.on_failure(s(135)).unwrap();
        assert_eq!(t.to, BreakerState::Open);
        assert_eq!(b.state(s(165)), BreakerState::HalfOpen);
        let t = b.on_success(s(166)).unwrap();
        assert_eq!(t.to, BreakerState::Closed);
        assert_eq!(b.admit(s(167), s(168), true).not_before, s(168));
    }

    #[test]
    fn opens_on_failure_ratio_with_min_throughput() {
        let cfg = BreakerConfig {
            consecutive_failures: 100,
            ..BreakerConfig::default()
        };
        let mut b = CircuitBreaker::new(cfg);
        // alternate: 50% failures, but only after 10 attempts in the window
        let mut opened_at = None;
        for i in 0..20u64 {
            let now = s(1000 + i);
            let t = if i % 2 == 0 {
                b.on_success(now)
            } else {
                b.on_failure(now)
            };
            if t.is_some() && opened_at.is_none() {
                opened_at = Some(i);
            }
        }
        assert_eq!(opened_at, Some(9), "trips at the 10th attempt");
        // old attempts slide out of the window
        let mut b = CircuitBreaker::new(BreakerConfig {
            consecutive_failures: 100,
            ..BreakerConfig::default()
        });
        for i in 0..9u64 {
            b.on_failure(s(1000 + i));
            b.on_success(s(1000 + i));
        }
        assert_eq!(
            b.on_failure(s(2000)),
            None,
            "window expired: below min throughput"
        );
    }

    #[test]
    fn preview_does_not_reserve() {
        let mut b = CircuitBreaker::new(BreakerConfig {
            consecutive_failures: 1,
            ..BreakerConfig::default()
        });
        b.on_failure(s(10));
        for _ in 0..3 {
            assert!(b.admit(s(10), s(11), false).probe);
        }
        assert!(BreakerConfig {
            failure_ratio: 0.0,
            ..BreakerConfig::default()
        }
        .validate()
        .is_err());
    }
}
