//! Rust-native side of the C-overhead benchmark (ffi-c/bench/run.sh): the median cost of
//! `Engine::recommend` in the same setup as ffi-c/bench/bench_recommend.c.

use smartretry::{Engine, Failure, ManualClock, Policy};
use std::hint::black_box;
use std::time::{Duration, Instant};

const BATCH: u32 = 10_000;
const BATCHES: usize = 51;

fn main() -> Result<(), smartretry::Error> {
    let clock = ManualClock::shared(Duration::from_secs(1_700_000_000));
    let engine = Engine::with_clock(Policy::default(), clock)?;
    let mut episode = engine.begin("bench", None)?;
    let failure = Failure::http(503);
    let _ = engine.on_failure(&mut episode, &failure).unwrap();
    for _ in 0..BATCH {
        black_box(
            engine
                .recommend(black_box(&episode), black_box(&failure))
                .unwrap(),
        );
    }
    let mut per_call: Vec<f64> = (0..BATCHES)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..BATCH {
                black_box(
                    engine
                        .recommend(black_box(&episode), black_box(&failure))
                        .unwrap(),
                );
            }
            t.elapsed().as_nanos() as f64 / f64::from(BATCH)
        })
        .collect();
    per_call.sort_by(f64::total_cmp);
    println!(
        "native recommend median: {:.1} ns/call",
        per_call[BATCHES / 2]
    );
    Ok(())
}
