//! `Engine::acquire`, uncontended, on the system clock (what a caller pays before every call):
//! a throttled key (limiter on, a token taken), side by side with its anchors in the same run:
//! a key never throttled (no limiter to find), rate limiting off, and the clock read alone.
//! Criterion gives the means; the percentiles that follow are per call, from batches of 64.
//! `cargo bench -p smartretry --bench ratelimit`

use criterion::{criterion_group, Criterion};
use smartretry::{Engine, Failure, Policy, RateLimitConfig};
use std::hint::black_box;
use std::time::Instant;

fn engine(rate_limit: bool) -> Engine {
    let policy = Policy {
        rate_limit: rate_limit.then(RateLimitConfig::default),
        seed: Some(1),
        ..Policy::default()
    };
    let engine = Engine::new(policy).expect("valid policy");
    for _ in 0..100 {
        engine
            .record_first_success("throttled", None)
            .expect("valid key");
    }
    let mut ep = engine.begin("throttled", None).expect("valid key");
    engine
        .on_failure(&mut ep, &Failure::http(429))
        .expect("valid failure");
    engine
}

type Case = (&'static str, Box<dyn Fn() -> u128>);

fn cases() -> Vec<Case> {
    let on = engine(true);
    let off = engine(false);
    let clock = on.clone();
    let never = on.clone();
    vec![
        (
            "acquire/throttled_key",
            Box::new(move || on.acquire("throttled").expect("valid key").as_nanos()),
        ),
        (
            "acquire/never_throttled_key",
            Box::new(move || never.acquire("quiet").expect("valid key").as_nanos()),
        ),
        (
            "acquire/rate_limit_off",
            Box::new(move || off.acquire("throttled").expect("valid key").as_nanos()),
        ),
        ("clock_now", Box::new(move || clock.now().as_nanos())),
    ]
}

fn bench(c: &mut Criterion) {
    for (name, f) in cases() {
        c.bench_function(name, |b| b.iter(|| black_box(f())));
    }
}

criterion_group!(benches, bench);

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p) as usize]
}

fn percentiles() {
    const BATCH: u32 = 64;
    for (name, f) in cases() {
        let mut per_call: Vec<f64> = (0..20_000)
            .map(|_| {
                let start = Instant::now();
                for _ in 0..BATCH {
                    black_box(f());
                }
                start.elapsed().as_nanos() as f64 / f64::from(BATCH)
            })
            .collect();
        per_call.sort_by(f64::total_cmp);
        println!(
            "{name}: p50 {:.1} ns, p99 {:.1} ns, p99.9 {:.1} ns per call",
            percentile(&per_call, 0.5),
            percentile(&per_call, 0.99),
            percentile(&per_call, 0.999)
        );
    }
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    percentiles();
}
