//! Criterion benchmarks of the hot path on a warm store of 10,000 learned models, on a clock that
//! is not manual (plans are rebuilt the production way) and that the benchmark advances.
//! Also the plan rebuild the worker runs off the hot path, and an engine's creation.
//! `cargo bench -p smartretry --bench engine`

use criterion::{criterion_group, criterion_main, Criterion};
use smartretry::{Clock, Failure};
use std::hint::black_box;
use std::time::Duration;

#[path = "support.rs"]
mod support;

fn hot_path(c: &mut Criterion) {
    let (engine, clock) = support::warm_engine();
    let failure = Failure::http(503);
    // One open episode per model, each past its first failure.
    let mut episodes = support::open_episodes(&engine);
    // Untouched copies: every on_failure below starts from an episode with exactly one failure.
    let pristine = episodes.clone();
    let mut i = 0usize;
    c.bench_function("recommend (dry run, warm 10k models)", |b| {
        b.iter(|| {
            i = (i + 7919) % support::MODELS;
            black_box(engine.recommend(&episodes[i], black_box(&failure)).unwrap())
        })
    });
    let mut j = 0usize;
    c.bench_function("record failure (warm 10k models)", |b| {
        b.iter(|| {
            j = (j + 7919) % support::MODELS;
            clock.advance(Duration::from_millis(1));
            black_box(
                engine
                    .record_failure(&mut episodes[j], black_box(&failure))
                    .unwrap(),
            )
        })
    });
    // The clock advances 1 ms a call: every call teaches its model, and plans are rebuilt (by the
    // engine's background worker) during the run.
    c.bench_function(
        "on_failure: record + decide, learning (warm 10k models)",
        |b| {
            b.iter(|| {
                j = (j + 7919) % support::MODELS;
                clock.advance(Duration::from_millis(1));
                let mut ep = pristine[j].clone();
                black_box(engine.on_failure(&mut ep, black_box(&failure)).unwrap())
            })
        },
    );
    c.bench_function("classify http 503", |b| {
        b.iter(|| black_box(engine.classify(black_box(&failure))))
    });
    let _ = clock.now();
}

/// A plan rebuilt as the engine's worker rebuilds it (warm-started from the previous fit), from
/// the evidence of 2,000 episodes: recovery log-normal around 10 s, retried every bucket.
fn plan_rebuild(c: &mut Criterion) {
    use smartretry::learn::grid::{buckets_passed, edge, last_possible_bucket};
    use smartretry::learn::hazard::Hazard;
    use smartretry::learn::{planner, Prior};
    let prior = Prior::log_logistic(10.0, 0.5);
    let mut hazard = Hazard::new(200.0);
    for n in 0..2000u32 {
        // A spread of recovery times from a fixed sequence (no randomness needed).
        let recovery = 10.0 * (0.8 * (f64::from(n % 97) / 97.0 - 0.5) * 4.0).exp();
        hazard.begin_episode();
        let (mut passed, mut b) = (0, 1);
        while edge(b) < recovery {
            let now = buckets_passed(edge(b));
            if now > passed {
                hazard.survived(passed, now);
                passed = now;
            }
            b += 1;
        }
        hazard.recovered(passed, last_possible_bucket(edge(b)));
    }
    let warm = planner::build(&hazard, &prior, 2.0, 3600.0, None);
    c.bench_function("plan rebuild (2,000 episodes, warm start)", |b| {
        b.iter(|| {
            black_box(planner::build(
                &hazard,
                &prior,
                2.0,
                3600.0,
                Some(&warm.fit),
            ))
        })
    });
}

/// An engine made and dropped on the default policy: its classifier, stores and plan worker;
/// alone in the process, and beside another engine (whose compiled patterns it shares).
fn engine_create(c: &mut Criterion) {
    use smartretry::{Engine, Policy};
    c.bench_function("engine create and drop (default policy, alone)", |b| {
        b.iter(|| black_box(Engine::new(Policy::default()).unwrap()))
    });
    let other = Engine::new(Policy::default()).unwrap();
    c.bench_function(
        "engine create and drop (default policy, another engine alive)",
        |b| b.iter(|| black_box(Engine::new(Policy::default()).unwrap())),
    );
    drop(other);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50).measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = hot_path, plan_rebuild, engine_create
}
criterion_main!(benches);
