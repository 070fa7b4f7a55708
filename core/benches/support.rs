//! Shared set-up for the benchmarks: an engine with a warm store of learned models.

use smartretry::learn::hazard::Interval;
use smartretry::learn::portfolio::Portfolio;
use smartretry::learn::ModelSnapshot;
use smartretry::{Engine, ErrorClass, Failure, ManualClock, Policy, Snapshot};
use std::sync::Arc;
use std::time::Duration;

pub const MODELS: usize = 10_000;

/// An engine whose store holds `MODELS` learned models (keys `q0..`), each past its warm-up,
/// with its plan built.
pub fn warm_engine() -> (Engine, Arc<ManualClock>) {
    let clock = ManualClock::shared(Duration::from_secs(1_700_000_000));
    let mut policy = Policy::default();
    policy.learning.max_models = MODELS * 2;
    let engine = Engine::with_clock(policy, clock.clone()).expect("default policy is valid");
    let mut survived = vec![0.0; smartretry::learn::grid::BUCKETS];
    survived.iter_mut().take(30).for_each(|v| *v = 80.0);
    let template = |i: usize| ModelSnapshot {
        key: format!("q{i}"),
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
        models: (0..MODELS).map(template).collect(),
    });
    // Build every plan once, as a live engine would have.
    for i in 0..MODELS {
        let _ = engine.preview(&format!("q{i}"), None, &Failure::http(503), 1);
    }
    (engine, clock)
}
