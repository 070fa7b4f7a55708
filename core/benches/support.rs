//! Shared set-up for the benchmarks: a clock the benchmark moves, an engine with a warm store of
//! learned models, and latency percentiles.

#![allow(dead_code)]

use smartretry::learn::hazard::Interval;
use smartretry::learn::portfolio::Portfolio;
use smartretry::learn::ModelSnapshot;
use smartretry::{Clock, Engine, ErrorClass, Policy, Snapshot};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub const MODELS: usize = 10_000;

/// A clock that runs as a system clock does for the engine (not manual: plans are rebuilt by the
/// background worker, as in production), but that the benchmark moves, so that models learn
/// from outages of real length without sleeping.
#[derive(Debug)]
pub struct SteppedClock(AtomicU64);

impl SteppedClock {
    pub fn shared() -> Arc<SteppedClock> {
        Arc::new(SteppedClock(AtomicU64::new(1_700_000_000_000_000_000)))
    }

    pub fn advance(&self, d: Duration) {
        self.0.fetch_add(d.as_nanos() as u64, Ordering::SeqCst);
    }
}

impl Clock for SteppedClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.0.load(Ordering::SeqCst))
    }
    fn sleep(&self, d: Duration) {
        self.advance(d);
    }
}

/// Wait for the engine's background rebuilds (none to wait for on an engine without a worker).
pub fn settle(engine: &Engine) {
    engine.flush_plans(Duration::from_secs(60));
}

/// The warm store's key number `i`.
pub fn key_of(i: usize) -> String {
    format!("q{i}")
}

/// The warm store's first `models` keys, in order.
pub fn keys_of(models: usize) -> Vec<String> {
    (0..models).map(key_of).collect()
}

/// An engine whose store holds `MODELS` learned models (keys `key_of(0..)`), each past its
/// warm-up, with its plan built.
pub fn warm_engine() -> (Engine, Arc<SteppedClock>) {
    warm_engine_of(MODELS)
}

/// `warm_engine` with `models` models.
pub fn warm_engine_of(models: usize) -> (Engine, Arc<SteppedClock>) {
    let clock = SteppedClock::shared();
    let mut policy = Policy::default();
    policy.learning.max_models = models * 2;
    let engine = Engine::with_clock(policy, clock.clone()).expect("default policy is valid");
    let mut survived = vec![0.0; smartretry::learn::grid::BUCKETS];
    survived.iter_mut().take(30).for_each(|v| *v = 80.0);
    let template = |i: usize| ModelSnapshot {
        key: key_of(i),
        tenant: None,
        class: ErrorClass::Unavailable,
        episodes: 100.0,
        survived: survived.clone(),
        intervals: vec![
            Interval {
                from: 30,
                to: 36,
                weight: 60.0,
            },
            Interval {
                from: 0,
                to: 40,
                weight: 40.0,
            },
        ],
        retry_failures: 0.0,
        expected_failures: 0.0,
        portfolio: Portfolio::default(),
    };
    engine.merge(&Snapshot {
        models: (0..models).map(template).collect(),
    });
    // Build every plan once, as a live engine would have.
    for i in 0..models {
        let _ = engine.model_report(&key_of(i), None, ErrorClass::Unavailable);
    }
    settle(&engine);
    (engine, clock)
}

/// One open episode per model of the warm store, each past its first failure (HTTP 503).
pub fn open_episodes(engine: &Engine) -> Vec<smartretry::Episode> {
    open_episodes_of(engine, MODELS)
}

/// `open_episodes` for a store of `models` models.
pub fn open_episodes_of(engine: &Engine, models: usize) -> Vec<smartretry::Episode> {
    (0..models)
        .map(|i| {
            let mut ep = engine.begin(&key_of(i), None).expect("valid key");
            engine
                .record_failure(&mut ep, &smartretry::Failure::http(503))
                .expect("open episode");
            ep
        })
        .collect()
}

/// Deterministic uniform draws in [0, 1).
pub struct Lcg(pub u64);

impl Lcg {
    pub fn unit(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Log-uniform between `lo` and `hi`.
    pub fn log_uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo * (hi / lo).powf(self.unit())
    }
}

/// Latency samples in nanoseconds, as a log-linear histogram (1/64 of a power of two per bin:
/// under 2% error), so that millions of calls cost a few KB.
pub struct Histogram {
    bins: Vec<u64>,
    count: u64,
    max: u64,
}

const SUB: u32 = 64;

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            bins: vec![0; (64 * SUB) as usize],
            count: 0,
            max: 0,
        }
    }
}

impl Histogram {
    fn bin(ns: u64) -> usize {
        if ns < u64::from(SUB) {
            return ns as usize;
        }
        let log = 63 - ns.leading_zeros();
        let shift = log - SUB.trailing_zeros();
        ((log - SUB.trailing_zeros() + 1) * SUB + ((ns >> shift) as u32 - SUB)) as usize
    }

    fn value(bin: usize) -> u64 {
        let bin = bin as u32;
        if bin < SUB {
            return u64::from(bin);
        }
        let shift = bin / SUB - 1;
        (u64::from(SUB + bin % SUB) << shift) + (1u64 << shift) / 2
    }

    pub fn record(&mut self, ns: u64) {
        self.bins[Self::bin(ns)] += 1;
        self.count += 1;
        self.max = self.max.max(ns);
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.bins.iter_mut().zip(&other.bins) {
            *a += b;
        }
        self.count += other.count;
        self.max = self.max.max(other.max);
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    pub fn percentile(&self, p: f64) -> u64 {
        let target = ((self.count as f64) * p).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, n) in self.bins.iter().enumerate() {
            seen += n;
            if seen >= target {
                return Self::value(i).min(self.max);
            }
        }
        self.max
    }

    /// "p50 a ns, p99 b ns, p99.9 c ns, max d ns (n calls)".
    pub fn summary(&self) -> String {
        format!(
            "p50 {} ns, p99 {} ns, p99.9 {} ns, max {} ns ({} calls)",
            self.percentile(0.5),
            self.percentile(0.99),
            self.percentile(0.999),
            self.max,
            self.count
        )
    }

    /// "anchor: a loop of pure arithmetic lasting this p50 (m ns), timed the same way: p99 a ns,
    /// p99.9 b ns": `quiet_window` at this histogram's p50, over as many windows as it holds calls.
    pub fn quiet_anchor(&self) -> String {
        let quiet = quiet_window(self.percentile(0.5), self.count as usize);
        format!(
            "anchor: a loop of pure arithmetic lasting this p50 ({} ns), timed the same way: p99 {} ns, p99.9 {} ns",
            quiet.percentile(0.5),
            quiet.percentile(0.99),
            quiet.percentile(0.999)
        )
    }
}

/// The machine's own tail for a window of `ns` nanoseconds: a loop of pure arithmetic (no memory
/// traffic, no lock, no system call) sized to last `ns`, timed `calls` times the way the
/// benchmarks time a call (timer included). Its p99 and p99.9 are what interrupts, the host and
/// the timer cost a window of that length here, so a call's tail is read beside it.
pub fn quiet_window(ns: u64, calls: usize) -> Histogram {
    let spin = |iters: u64| {
        let mut draws = Lcg(1);
        (0..iters).fold(0.0, |sum, _| sum + std::hint::black_box(draws.unit()))
    };
    // Calibrate: the median of a few thousand windows of a trial length, scaled to `ns`.
    let trial = 1_000u64;
    let mut probe = Histogram::default();
    for _ in 0..5_000 {
        let t = std::time::Instant::now();
        std::hint::black_box(spin(trial));
        probe.record(t.elapsed().as_nanos() as u64);
    }
    let iters = (trial * ns / probe.percentile(0.5).max(1)).max(1);
    let mut h = Histogram::default();
    for _ in 0..calls {
        let t = std::time::Instant::now();
        std::hint::black_box(spin(iters));
        h.record(t.elapsed().as_nanos() as u64);
    }
    h
}
