//! The learned tier's inference: one probability, one decision's choice of wait (every candidate
//! priced), and a whole `recommend` through the pipeline with the tier on, beside the same call
//! with the tier off (the anchor, same run); and the same choice under a boosted model (the
//! logistic model plus 32 trees of depth 4, the trainer's most), against the logistic model in
//! the same run. Criterion means, then p50/p99/p99.9 per call.
//! `cargo bench -p smartretry --bench learned`

use criterion::{criterion_group, criterion_main, Criterion};
use smartretry::learned::choose::choose;
use smartretry::learned::features::{DECISION, DOW0, TOD0};
use smartretry::learned::trees::{Tree, Trees};
use smartretry::learned::{FeatureInput, FeatureSchema, LogisticModel, Metrics, TrainingInfo};
use smartretry::{Engine, Failure, ManualClock, ModelFile, Policy, RolloutMode};
use std::hint::black_box;
use std::time::{Duration, Instant};

#[path = "support.rs"]
mod support;
use support::Histogram;

/// A model with every weight set (no zero shortcuts): a window, a load effect, a weekday effect,
/// tenants and worker versions in its vocabulary.
fn model() -> LogisticModel {
    let tenants: Vec<String> = (0..16).map(|i| format!("t{i}")).collect();
    let schema = FeatureSchema::new(tenants, vec!["v1".into(), "v2".into()]);
    let n = schema.len();
    let mut w: Vec<f64> = (0..n)
        .map(|i| ((i * 37) % 17) as f64 / 40.0 - 0.2)
        .collect();
    w[1] = 1.1;
    w[5] = -0.4;
    for b in 24..28 {
        w[TOD0 + b] = -9.0;
    }
    w[DOW0] = -0.8;
    LogisticModel::new(schema, w, vec![0.01; n]).unwrap()
}

/// `model()` boosted by the largest ensemble the trainer emits: 32 oblivious trees of depth 4
/// over every decision-time feature (thresholds spread so that rows take every path). The
/// intercept is moved by the trees' sum at `input()`, so that there both models give the same
/// probabilities and `choose` prices the same waits: the difference is the trees' cost alone.
fn boosted() -> LogisticModel {
    let trees: Vec<Tree> = (0..32)
        .map(|t| Tree {
            features: (0..4).map(|l| (t * 3 + l * 5) % DECISION.len()).collect(),
            thresholds: (0..4).map(|l| ((t + l) % 7) as f64 * 0.8).collect(),
            leaves: (0..16)
                .map(|i| {
                    let v = ((t * 16 + i) % 13) as f64 / 100.0 - 0.06;
                    [v, v / 10.0, -v / 10.0]
                })
                .collect(),
        })
        .collect();
    let trees = Trees::new(&trees, 0.0).unwrap();
    let mut m = model();
    let t = trees.eval(&m.schema.decision(&input()));
    m.weights[0] -= t[0];
    m.weights[1] -= t[1];
    m.weights[2] -= t[2];
    let m = LogisticModel::new(m.schema, m.weights, m.means).unwrap();
    m.with_trees(trees)
}

fn input() -> FeatureInput<'static> {
    FeatureInput {
        elapsed: 12.0,
        delay: 0.0,
        attempt: 3,
        second_of_day: 2.0 * 3600.0 + 420.0,
        day_of_week: 1,
        payload_size: Some(4096),
        queue_depth: Some(250),
        latency_ms: Some(180.0),
        tenant: Some("t7"),
        worker_version: Some("v2"),
        recent_failure_rate: 0.3,
        similar_success_rate: 0.8,
    }
}

fn engine(on: bool) -> Engine {
    let clock = ManualClock::shared(Duration::from_secs(1_699_927_200));
    let engine = Engine::with_clock(Policy::default(), clock).unwrap();
    if on {
        let file = ModelFile {
            model: model(),
            training: TrainingInfo::default(),
            metrics: Metrics::default(),
        };
        engine.set_learned_model("db", &file).unwrap();
        engine.set_rollout("db", RolloutMode::Full).unwrap();
    }
    engine
}

fn learned(c: &mut Criterion) {
    let m = model();
    let x = input();
    c.bench_function("learned: one probability", |b| {
        b.iter(|| black_box(m.predict(black_box(&x))))
    });
    c.bench_function("learned: choose the wait (one decision's inference)", |b| {
        b.iter(|| black_box(choose(&m, black_box(&x), 10.0, 3600.0)))
    });
    // Outside the window, where a short wait is best and the search stops early.
    let day = FeatureInput {
        second_of_day: 14.0 * 3600.0,
        ..x
    };
    c.bench_function("learned: choose the wait, outside the window", |b| {
        b.iter(|| black_box(choose(&m, black_box(&day), 10.0, 3600.0)))
    });
    let boosted = boosted();
    let dx = boosted.schema.decision(&x);
    c.bench_function("learned: the trees alone (32 trees)", |b| {
        b.iter(|| black_box(boosted.trees.eval(black_box(&dx))))
    });
    c.bench_function("learned: decision features alone", |b| {
        b.iter(|| black_box(boosted.schema.decision(black_box(&x))))
    });
    c.bench_function("learned: the trees of one decision (32 trees)", |b| {
        b.iter(|| {
            let x = black_box(&x);
            black_box(boosted.trees.eval(&boosted.schema.decision(x)))
        })
    });
    c.bench_function("learned: choose the wait, boosted (32 trees)", |b| {
        b.iter(|| black_box(choose(&boosted, black_box(&x), 10.0, 3600.0)))
    });
    c.bench_function(
        "learned: choose the wait, boosted, outside the window",
        |b| b.iter(|| black_box(choose(&boosted, black_box(&day), 10.0, 3600.0))),
    );
    for (name, on) in [
        (
            "recommend, learned tier full (pipeline + explanation)",
            true,
        ),
        ("recommend, learned tier off (anchor)", false),
    ] {
        let e = engine(on);
        let mut ep = e.begin("db", Some("t7")).unwrap();
        e.record_failure(&mut ep, &Failure::http(503)).unwrap();
        let f = Failure::http(503);
        c.bench_function(name, |b| {
            b.iter(|| black_box(e.recommend(black_box(&ep), &f).unwrap()))
        });
    }
    percentiles(&m, &x);
    boosted_percentiles(&m, &boosted, &x);
}

/// The boosted model's choice and the logistic model's (the anchor), interleaved in one run.
fn boosted_percentiles(m: &LogisticModel, boosted: &LogisticModel, x: &FeatureInput<'_>) {
    let day = FeatureInput {
        second_of_day: 14.0 * 3600.0,
        ..*x
    };
    for (name, input) in [("in the window", x), ("outside the window", &day)] {
        let (mut hb, mut hl) = (Histogram::default(), Histogram::default());
        for _ in 0..200_000 {
            let t = Instant::now();
            black_box(choose(boosted, black_box(input), 10.0, 3600.0));
            hb.record(t.elapsed().as_nanos() as u64);
            let t = Instant::now();
            black_box(choose(m, black_box(input), 10.0, 3600.0));
            hl.record(t.elapsed().as_nanos() as u64);
        }
        println!(
            "choose the wait ({name}), boosted (32 trees), per call: {}",
            hb.summary()
        );
        println!(
            "choose the wait ({name}), logistic (anchor), per call: {}",
            hl.summary()
        );
    }
}

/// Per-call latency percentiles (timer included), the inference and the anchor in one run.
fn percentiles(m: &LogisticModel, x: &FeatureInput<'_>) {
    let mut h = Histogram::default();
    for round in 0..2 {
        for _ in 0..200_000 {
            let t = Instant::now();
            black_box(choose(m, black_box(x), 10.0, 3600.0));
            if round == 1 {
                h.record(t.elapsed().as_nanos() as u64);
            }
        }
    }
    println!("choose the wait (in the window), per call: {}", h.summary());
    let day = FeatureInput {
        second_of_day: 14.0 * 3600.0,
        ..*x
    };
    let mut h = Histogram::default();
    for _ in 0..200_000 {
        let t = Instant::now();
        black_box(choose(m, black_box(&day), 10.0, 3600.0));
        h.record(t.elapsed().as_nanos() as u64);
    }
    println!(
        "choose the wait (outside the window), per call: {}",
        h.summary()
    );
    for (name, on) in [("learned full", true), ("learned off (anchor)", false)] {
        let e = engine(on);
        let mut ep = e.begin("db", Some("t7")).unwrap();
        e.record_failure(&mut ep, &Failure::http(503)).unwrap();
        let f = Failure::http(503);
        let mut h = Histogram::default();
        for _ in 0..200_000 {
            let t = Instant::now();
            black_box(e.recommend(&ep, &f).unwrap());
            h.record(t.elapsed().as_nanos() as u64);
        }
        println!("recommend, {name}, per call: {}", h.summary());
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50).measurement_time(Duration::from_secs(3));
    targets = learned
}
criterion_main!(benches);
