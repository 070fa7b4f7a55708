//! Sustained load: two threads paced to a combined `RATE` decisions (`on_failure` calls) a second
//! across 10,000 keys, learning on, on the system clock (plans are rebuilt by the engine's
//! background worker, as in production), for `SECONDS` (default 60). Reports the rate held each
//! second, the resident set size (flat within a band after the warm-up?) and `on_failure`'s
//! latency percentiles.
//!
//! `cargo bench -p smartretry --bench sustained -- [seconds] [rate]`

use smartretry::{Engine, Failure, Policy};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[path = "support.rs"]
mod support;
use support::{Histogram, Lcg};

const KEYS: usize = 10_000;
const THREADS: usize = 2;
/// Calls between two looks at the pace (and updates of the shared counter).
const BATCH: u64 = 256;

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// One load thread: episodes on random keys, each failing 1-3 times, then succeeding.
fn load(
    engine: &Engine,
    keys: &[String],
    seed: u64,
    per_second: f64,
    done: &AtomicU64,
    stop: &AtomicBool,
) -> Histogram {
    let failure = Failure::http(503);
    let mut rng = Lcg(seed);
    let mut h = Histogram::default();
    let start = Instant::now();
    let mut calls = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let key = &keys[(rng.unit() * keys.len() as f64) as usize];
        let mut ep = engine.begin(key, None).expect("valid key");
        let failures = 1 + (rng.unit() * 3.0) as usize;
        for _ in 0..failures {
            let t = Instant::now();
            let rec = engine.on_failure(&mut ep, &failure).expect("open episode");
            h.record(t.elapsed().as_nanos() as u64);
            calls += 1;
            if calls % BATCH == 0 {
                done.fetch_add(BATCH, Ordering::Relaxed);
                // Paced: ahead of schedule, yield until on it.
                while (calls as f64) > start.elapsed().as_secs_f64() * per_second
                    && !stop.load(Ordering::Relaxed)
                {
                    std::thread::yield_now();
                }
            }
            if !black_box(rec).should_retry() {
                break;
            }
        }
        if !ep.is_finished() {
            engine.on_success(&mut ep).expect("open episode");
        }
    }
    h
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let seconds: u64 = args.first().and_then(|s| s.parse().ok()).unwrap_or(60);
    let rate: f64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1e6);
    let warm_up = (seconds / 6).max(1);
    let mut policy = Policy::default();
    policy.learning.max_models = KEYS * 2;
    let engine = Engine::new(policy).expect("valid policy");
    let keys: Vec<String> = (0..KEYS).map(|i| format!("queue-{i}")).collect();
    let done = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    println!(
        "sustained: {THREADS} threads, target {:.2} M decisions/s, {KEYS} keys, {seconds} s (warm-up {warm_up} s), learning on, system clock; {} cores",
        rate / 1e6,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let mut rates = Vec::new();
    let mut rss_after_warmup = Vec::new();
    let hist = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let (engine, keys, done, stop) = (&engine, &keys, &done, &stop);
                s.spawn(move || {
                    load(
                        engine,
                        keys,
                        17 + t as u64,
                        rate / THREADS as f64,
                        done,
                        stop,
                    )
                })
            })
            .collect();
        let start = Instant::now();
        let mut last = 0u64;
        for sec in 1..=seconds {
            let target = start + Duration::from_secs(sec);
            std::thread::sleep(target.saturating_duration_since(Instant::now()));
            let now = done.load(Ordering::Relaxed);
            let per_sec = (now - last) as f64;
            last = now;
            let rss = rss_bytes();
            if sec > warm_up {
                rates.push(per_sec);
                rss_after_warmup.push(rss);
            }
            if sec % 5 == 0 || sec == 1 {
                println!(
                    "  t={sec:>3} s  {:.3} M decisions/s  RSS {:.1} MiB  models {}",
                    per_sec / 1e6,
                    rss as f64 / (1 << 20) as f64,
                    engine.stats().models
                );
            }
        }
        stop.store(true, Ordering::Relaxed);
        let mut all = Histogram::default();
        for h in handles {
            all.merge(&h.join().expect("load thread"));
        }
        all
    });
    let mean = rates.iter().sum::<f64>() / rates.len().max(1) as f64;
    let min = rates.iter().cloned().fold(f64::INFINITY, f64::min);
    let held = rates.iter().filter(|r| **r >= 0.95 * rate).count();
    let (lo, hi) = (
        rss_after_warmup.iter().copied().min().unwrap_or(0),
        rss_after_warmup.iter().copied().max().unwrap_or(0),
    );
    println!(
        "after warm-up: mean {:.3} M decisions/s, slowest second {:.3} M/s, {held} of {} seconds at >= 95% of target",
        mean / 1e6,
        min / 1e6,
        rates.len()
    );
    println!(
        "RSS after warm-up: {:.1}-{:.1} MiB, band {:.1}% of the lowest",
        lo as f64 / (1 << 20) as f64,
        hi as f64 / (1 << 20) as f64,
        (hi - lo) as f64 * 100.0 / lo.max(1) as f64
    );
    println!("on_failure: {}", hist.summary());
}
