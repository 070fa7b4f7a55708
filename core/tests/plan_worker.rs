//! The background plan worker: an engine on a running clock learns without rebuilding plans on
//! its callers' threads, and its worker thread stops with the engine. One test in its own binary,
//! because it counts the process's threads by name (Linux: /proc/self/task).

use smartretry::learn::worker::THREAD_NAME;
use smartretry::*;
use std::time::Duration;

// The benchmarks' clock that runs like a system clock (not manual) but that the test moves.
#[path = "../benches/support.rs"]
mod support;

/// Threads of this process named like the plan worker, once it is `expected` or after five
/// seconds, whichever comes first. A thread just joined can stay listed in /proc/self/task for a
/// moment (the join returns when the thread's id is cleared, before the kernel releases its
/// task), which a loaded machine makes long enough to see; a worker that really outlived its
/// engine is still counted after the wait.
fn plan_threads(expected: usize) -> usize {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let n = plan_threads_now();
        if n == expected || std::time::Instant::now() >= deadline {
            return n;
        }
        std::thread::yield_now();
    }
}

/// Threads of this process named like the plan worker, as listed now.
fn plan_threads_now() -> usize {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        panic!("this test reads /proc/self/task (Linux)");
    };
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.trim_end() == THREAD_NAME)
        .count()
}

fn policy() -> Policy {
    let mut p = Policy::default();
    p.learning.portfolio = false;
    p
}

/// Episodes on a few keys whose outages last about 8 s: the first attempt fails, a retry 8.5 s
/// later succeeds.
fn train(engine: &Engine, advance: impl Fn(Duration)) {
    for i in 0..200 {
        let mut ep = engine.begin(&format!("q{}", i % 4), None).unwrap();
        engine.on_failure(&mut ep, &Failure::http(503)).unwrap();
        advance(Duration::from_millis(8_500));
        engine.on_success(&mut ep).unwrap();
    }
}

#[test]
fn plans_are_rebuilt_in_the_background_and_the_worker_stops_with_the_engine() {
    // A manual clock rebuilds inline: no thread is ever started.
    let manual = ManualClock::shared(Duration::from_secs(1_700_000_000));
    let engine = Engine::with_clock(policy(), manual.clone()).unwrap();
    train(&engine, |d| manual.advance(d));
    assert_eq!(plan_threads(0), 0, "a manual-clock engine started a worker");
    drop(engine);

    let clock = support::SteppedClock::shared();
    let engine = Engine::with_clock(policy(), clock.clone()).unwrap();
    train(&engine, |d| clock.advance(d));
    assert!(
        engine.flush_plans(Duration::from_secs(30)),
        "rebuilds did not finish"
    );
    assert_eq!(plan_threads(1), 1, "one worker per engine");

    // The published plan decides: the next failure is retried by the learned tier.
    let mut ep = engine.begin("q1", None).unwrap();
    engine.record_failure(&mut ep, &Failure::http(503)).unwrap();
    let rec = engine.recommend(&ep, &Failure::http(503)).unwrap();
    assert_eq!(rec.tier, Tier::Bayesian, "{rec}");
    assert!(rec.delay > Duration::from_secs(4), "{rec}");

    // Clones share the worker; it stops when the last one is dropped (episodes may outlive it).
    let clone = engine.clone();
    drop(engine);
    assert_eq!(plan_threads_now(), 1);
    drop(clone);
    assert_eq!(plan_threads(0), 0, "the worker outlived its engine");
    drop(ep);
}
