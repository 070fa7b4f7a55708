//! Tail latency, two-thread scaling and memory per model, which criterion does not report.
//! `cargo bench -p smartretry --bench latency`

use smartretry::Failure;
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

#[path = "support.rs"]
mod support;

/// Counts live heap bytes, to measure what a model costs.
struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: defers to the system allocator; only adds bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn percentile(sorted: &[u64], p: f64) -> u64 {
    sorted[((sorted.len() - 1) as f64 * p) as usize]
}

fn main() {
    let before = LIVE.load(Ordering::Relaxed);
    let (engine, _clock) = support::warm_engine();
    let after = LIVE.load(Ordering::Relaxed);
    println!(
        "memory: {} bytes per learned model ({} models, plans built, store overhead included)",
        (after - before) / support::MODELS,
        support::MODELS
    );
    let failure = Failure::http(503);
    let episodes: Vec<_> = (0..support::MODELS)
        .map(|i| {
            let mut ep = engine.begin(&format!("q{i}"), None).expect("valid key");
            engine.record_failure(&mut ep, &failure).unwrap();
            ep
        })
        .collect();
    // Per-call latency of recommend, timed one call at a time.
    let n = 400_000;
    let mut samples = Vec::with_capacity(n);
    let mut k = 0usize;
    for _ in 0..n {
        k = (k + 7919) % support::MODELS;
        let t = Instant::now();
        black_box(engine.recommend(&episodes[k], &failure).unwrap());
        samples.push(t.elapsed().as_nanos() as u64);
    }
    samples.sort_unstable();
    println!(
        "recommend latency: median {} ns, p99 {} ns, p99.9 {} ns ({} calls, timer included)",
        percentile(&samples, 0.5),
        percentile(&samples, 0.99),
        percentile(&samples, 0.999),
        n
    );
    // Throughput with one and two threads hammering the same store (record + decide).
    let run = |threads: usize| -> f64 {
        let per = 300_000;
        let start = Instant::now();
        std::thread::scope(|s| {
            for t in 0..threads {
                let engine = engine.clone();
                let episodes = &episodes;
                s.spawn(move || {
                    let mut k = t * 4999;
                    for _ in 0..per {
                        k = (k + 7919) % support::MODELS;
                        let mut ep = episodes[k].clone();
                        black_box(engine.on_failure(&mut ep, &Failure::http(503)).unwrap());
                    }
                });
            }
        });
        (threads * per) as f64 / start.elapsed().as_secs_f64()
    };
    let one = run(1);
    let two = run(2);
    println!(
        "on_failure throughput: 1 thread {:.2} M/s, 2 threads {:.2} M/s, scaling {:.2}x",
        one / 1e6,
        two / 1e6,
        two / one
    );
}
