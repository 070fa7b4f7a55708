//! Injected time. Every decision reads the clock object it was given, so simulations and tests
//! run thousands of "seconds" without sleeping.

use std::fmt::Debug;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A source of time. `now` is time since the Unix epoch (so HTTP-date Retry-After values can be
/// compared with it); it must never go backwards.
pub trait Clock: Send + Sync + Debug {
    /// Current time as a duration since 1970-01-01T00:00:00Z.
    fn now(&self) -> Duration;
    /// Wait for `d`. A manual clock advances itself instead of blocking.
    fn sleep(&self, d: Duration);
    /// Whether time moves only when told to (simulations, tests). An engine on such a clock
    /// rebuilds its plans inline, at the same points of the same calls, so that a run is
    /// reproducible; on any other clock it rebuilds them on a background thread.
    fn is_manual(&self) -> bool {
        false
    }
}

/// Shared handle to a clock, as the engine and the retry loop hold it.
pub type SharedClock = Arc<dyn Clock>;

/// Wall-clock time made monotonic: the Unix time at creation plus a monotonic `Instant`.
#[derive(Debug)]
pub struct SystemClock {
    origin_unix: Duration,
    origin: Instant,
}

impl SystemClock {
    /// A clock reading the current Unix time, then advancing monotonically.
    pub fn new() -> Self {
        SystemClock {
            origin_unix: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default(),
            origin: Instant::now(),
        }
    }

    /// A new system clock as a shared handle.
    pub fn shared() -> SharedClock {
        Arc::new(SystemClock::new())
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.origin_unix + self.origin.elapsed()
    }

    fn sleep(&self, d: Duration) {
        if !d.is_zero() {
            std::thread::sleep(d);
        }
    }
}

/// A clock that only moves when told to (or when something sleeps on it). Thread-safe.
#[derive(Debug, Default)]
pub struct ManualClock {
    nanos: AtomicU64,
}

impl ManualClock {
    /// A manual clock reading `start` (time since the Unix epoch).
    pub fn new(start: Duration) -> Self {
        ManualClock {
            nanos: AtomicU64::new(duration_to_nanos(start)),
        }
    }

    /// A manual clock reading `start`, as a shared handle.
    pub fn shared(start: Duration) -> Arc<ManualClock> {
        Arc::new(ManualClock::new(start))
    }

    /// Move time forward by `d`.
    pub fn advance(&self, d: Duration) {
        self.nanos.fetch_add(duration_to_nanos(d), Ordering::SeqCst);
    }

    /// Jump to `t` if it is later than now (time never goes backwards); returns the new reading.
    pub fn set(&self, t: Duration) -> Duration {
        let target = duration_to_nanos(t);
        let prev = self.nanos.fetch_max(target, Ordering::SeqCst);
        Duration::from_nanos(prev.max(target))
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::SeqCst))
    }

    fn sleep(&self, d: Duration) {
        self.advance(d);
    }

    fn is_manual(&self) -> bool {
        true
    }
}

fn duration_to_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_forward() {
        let c = ManualClock::new(Duration::from_secs(100));
        c.sleep(Duration::from_secs(5));
        assert_eq!(c.now(), Duration::from_secs(105));
        assert_eq!(c.set(Duration::from_secs(50)), Duration::from_secs(105));
        assert_eq!(c.set(Duration::from_secs(200)), Duration::from_secs(200));
    }

    #[test]
    fn system_clock_is_monotonic() {
        let c = SystemClock::new();
        let a = c.now();
        let b = c.now();
        assert!(b >= a);
        assert!(a > Duration::from_secs(1_600_000_000));
    }
}
