//! Tail latency with learning on, two-thread scaling and memory per model, which criterion does
//! not report. `cargo bench -p smartretry --bench latency`
//!
//! The engine runs on a clock that is not manual (plans are rebuilt the production way) and that
//! the benchmark advances, so models learn and plans are rebuilt while calls are timed.
//!
//! Beside each tail, its anchor: a loop of pure arithmetic as long as the call's median, timed
//! the same number of times the same way. A call's p99.9 near the loop's is the machine's
//! interruptions, not the call's own work.

use smartretry::{Engine, ErrorClass, Failure, Policy};
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[path = "support.rs"]
mod support;
use support::{Histogram, Lcg};

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

/// `recommend` on the warm store of 10k models, one call at a time (timer included); then the
/// same on a store of 100 models, which stay in the CPU's caches: the difference is what the
/// first touches of an episode, its model and its plan cost when they are not cached. Beside
/// each, the anchor: one load at a random place in as many bytes as the store and its episodes
/// hold, each load waiting for the one before (what a cold episode -> model -> plan chain pays
/// per link on this machine).
fn recommend_latency() {
    for models in [support::MODELS, 100] {
        let before = LIVE.load(Ordering::Relaxed);
        let (engine, _clock) = support::warm_engine_of(models);
        let failure = Failure::http(503);
        let episodes = support::open_episodes_of(&engine, models);
        let bytes = LIVE.load(Ordering::Relaxed).saturating_sub(before);
        let h = time_over_keys(models, |k| {
            black_box(engine.recommend(&episodes[k], &failure).unwrap());
        });
        println!("recommend (warm {models} models): {}", h.summary());
        println!("  {}", h.quiet_anchor());
        let load = dependent_load_ns(bytes);
        println!(
            "  anchor: a dependent load at random over {:.1} MB (the store and its episodes): {load:.1} ns; recommend p50 = {:.1} such loads",
            bytes as f64 / 1e6,
            h.percentile(0.5) as f64 / load
        );
    }
}

/// Nanoseconds per load when walking `bytes` of memory one 64-byte line at a time in a random
/// cycle, each load's address read by the load before it: the machine's price of a cold access
/// (cache and TLB misses included) for a working set of that size.
fn dependent_load_ns(bytes: usize) -> f64 {
    let lines = (bytes / 64).max(2);
    // Sattolo's shuffle: a single cycle through every line, stored as each line's successor.
    let mut order: Vec<usize> = (0..lines).collect();
    let mut rng = Lcg(7);
    for i in (1..lines).rev() {
        let j = (rng.unit() * i as f64) as usize;
        order.swap(i, j);
    }
    let mut next = vec![[0u64; 8]; lines];
    for (i, &to) in order.iter().enumerate() {
        next[i][0] = to as u64;
    }
    let steps = 2_000_000;
    let mut at = 0usize;
    for _ in 0..lines.min(steps) {
        at = next[at][0] as usize;
    }
    let t = Instant::now();
    for _ in 0..steps {
        at = next[at][0] as usize;
    }
    let ns = t.elapsed().as_nanos() as f64 / steps as f64;
    black_box(at);
    ns
}

/// Time `call(k)` one call at a time over the warm store's keys in a scattered order: 400k
/// calls of warm-up, then 400k timed (timer included).
fn time_over_keys(models: usize, mut call: impl FnMut(usize)) -> Histogram {
    let mut h = Histogram::default();
    let mut k = 0usize;
    for round in 0..2 {
        for _ in 0..400_000 {
            k = (k + 7919) % models;
            let t = Instant::now();
            call(k);
            if round == 1 {
                h.record(t.elapsed().as_nanos() as u64);
            }
        }
    }
    h
}

/// A first-attempt success (`record_first_success`: what a binding's "the call worked" costs)
/// on the warm store's keys, one call at a time (timer included).
fn first_success_latency() {
    let (engine, _clock) = support::warm_engine();
    let keys = support::keys_of(support::MODELS);
    let h = time_over_keys(support::MODELS, |k| {
        engine.record_first_success(&keys[k], None).unwrap()
    });
    println!("first-attempt success (warm 10k keys): {}", h.summary());
}

/// `on_failure` over 200k episodes on 100 keys, the clock advanced by each recommended delay:
/// outages log-uniform in 0.2-60 s, so models learn and plans are rebuilt during the run.
fn on_failure_with_learning() {
    let clock = support::SteppedClock::shared();
    let engine = Engine::with_clock(Policy::default(), clock.clone()).expect("valid policy");
    let keys: Vec<String> = (0..100).map(|i| format!("k{i}")).collect();
    let failure = Failure::http(503);
    let mut rng = Lcg(7);
    let (mut warm, mut steady) = (Histogram::default(), Histogram::default());
    let episodes = 200_000;
    for e in 0..episodes {
        let h = if e < episodes / 4 {
            &mut warm
        } else {
            &mut steady
        };
        let mut ep = engine.begin(&keys[e % keys.len()], None).unwrap();
        let outage = Duration::from_secs_f64(rng.log_uniform(0.2, 60.0));
        let mut down = Duration::ZERO;
        loop {
            let t = Instant::now();
            let rec = engine.on_failure(&mut ep, &failure).unwrap();
            h.record(t.elapsed().as_nanos() as u64);
            if !rec.should_retry() {
                break;
            }
            clock.advance(rec.delay);
            down += rec.delay;
            if down >= outage {
                engine.on_success(&mut ep).unwrap();
                break;
            }
        }
    }
    println!(
        "on_failure with learning, first 50k episodes (models warming up): {}",
        warm.summary()
    );
    println!(
        "on_failure with learning, last 150k episodes (steady state): {}",
        steady.summary()
    );
    println!("  {}", steady.quiet_anchor());
}

/// What a binding's fail-once retry asks of the core (`begin`, a failure of a Node-style timeout
/// error, `on_success`) on one key, with learning on, as the bindings' benches run it: the model
/// learns from every episode and its plan is rebuilt by the worker. The clock moves 1 ms from
/// the failure to the success and 10 ms between episodes, so that what the model learns does not
/// depend on how fast the machine is. 300k episodes of warm-up, then 300k timed (timer included).
fn fail_once() {
    let clock = support::SteppedClock::shared();
    let engine = Engine::with_clock(Policy::default(), clock.clone()).expect("valid policy");
    let failure = Failure::error_code("ETIMEDOUT").with_message("timed out");
    let h = time_fail_once(&engine, &clock, &failure);
    println!(
        "fail once (begin, timeout failure, success; learning on): {}",
        h.summary()
    );
    // The same episode across the warm store's 10,000 keys in a scattered order: each episode's
    // model, plan and map entry are cold in the cache, as on a service with many queues.
    let (engine, clock) = support::warm_engine_of(support::MODELS);
    let keys = support::keys_of(support::MODELS);
    let unavailable = Failure::http(503);
    let h = time_over_keys(support::MODELS, |k| {
        let mut ep = engine.begin(&keys[k], None).unwrap();
        black_box(engine.on_failure(&mut ep, &unavailable).unwrap());
        clock.advance(Duration::from_micros(100));
        engine.on_success(&mut ep).unwrap();
    });
    println!(
        "fail once across {} warm keys (begin, 503, success; learning on): {}",
        support::MODELS,
        h.summary()
    );
    println!("  {}", h.quiet_anchor());
    // A conflict's class does not learn a recovery time; with learning on its retries are paced
    // (`contention`: the key's pace read at the decision, moved at the outcome). The anchor is
    // the same engine with learning off, where the class schedule runs alone.
    let conflict = Failure::http(409);
    let mut off = Policy::default();
    off.learning.enabled = false;
    for (label, policy) in [
        ("learning on, paced", Policy::default()),
        ("learning off", off),
    ] {
        let clock = support::SteppedClock::shared();
        let engine = Engine::with_clock(policy, clock.clone()).expect("valid policy");
        let h = time_fail_once(&engine, &clock, &conflict);
        println!(
            "fail once (begin, 409 conflict, success; {label}): {}",
            h.summary()
        );
        println!("  {}", h.quiet_anchor());
    }
}

/// 300k fail-once episodes of warm-up, then 300k timed.
fn time_fail_once(engine: &Engine, clock: &support::SteppedClock, failure: &Failure) -> Histogram {
    let mut h = Histogram::default();
    for round in 0..2 {
        for _ in 0..300_000 {
            let t = Instant::now();
            let mut ep = engine.begin("bench", None).unwrap();
            black_box(engine.on_failure(&mut ep, failure).unwrap());
            clock.advance(Duration::from_millis(1));
            engine.on_success(&mut ep).unwrap();
            if round == 1 {
                h.record(t.elapsed().as_nanos() as u64);
            }
            clock.advance(Duration::from_millis(10));
        }
    }
    h
}

/// Throughput with one and two threads hammering the same store (record + decide), the clock
/// advancing 1 ms per call so models keep learning.
fn throughput() {
    let (engine, clock) = support::warm_engine();
    let episodes = support::open_episodes(&engine);
    let [one, two] = [1, 2].map(|threads| {
        per_second(threads, 300_000, |t, i| {
            let k = (t * 4999 + (i + 1) * 7919) % support::MODELS;
            clock.advance(Duration::from_millis(1));
            let mut ep = episodes[k].clone();
            black_box(engine.on_failure(&mut ep, &Failure::http(503)).unwrap());
        })
    });
    print_scaling("on_failure throughput", one, two);
    hot_key_throughput();
}

/// Fail-once episodes (begin, a timeout, success) on one key from one and from two threads, on
/// the system clock (plans rebuilt by the worker): a service whose every thread retries against
/// the same dependency. They share the key's model, budget and breaker.
fn hot_key_throughput() {
    let engine = Engine::new(Policy::default()).expect("valid policy");
    let failure = Failure::error_code("ETIMEDOUT").with_message("timed out");
    let [_warm, one, two] = [1, 1, 2].map(|threads| {
        per_second(threads, 400_000, |_, _| {
            let mut ep = engine.begin("hot", None).unwrap();
            black_box(engine.on_failure(&mut ep, &failure).unwrap());
            engine.on_success(&mut ep).unwrap();
        })
    });
    print_scaling("fail-once throughput on one key", one, two);
}

/// Calls per second of `call(thread, i)`, `per` calls on each of `threads` threads at once.
fn per_second(threads: usize, per: usize, call: impl Fn(usize, usize) + Sync) -> f64 {
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            let call = &call;
            s.spawn(move || (0..per).for_each(|i| call(t, i)));
        }
    });
    (threads * per) as f64 / start.elapsed().as_secs_f64()
}

fn print_scaling(what: &str, one: f64, two: f64) {
    println!(
        "{what}: 1 thread {:.2} M/s, 2 threads {:.2} M/s, scaling {:.2}x",
        one / 1e6,
        two / 1e6,
        two / one
    );
}

/// Heap per model once models hold real evidence: 2,000 models taught 300 episodes each with
/// outages log-uniform in 0.05-600 s and retries at varied times (so their interval lists reach
/// the cap), then loaded from the teaching engine's snapshot into a fresh engine, whose heap
/// growth is the models' alone (the teacher's per-key retry budgets are not counted).
fn memory_per_model() {
    let models = 2_000;
    let clock = support::SteppedClock::shared();
    let mut policy = Policy::default();
    policy.learning.max_models = models * 2;
    let teacher = Engine::with_clock(policy.clone(), clock.clone()).expect("valid policy");
    let failure = Failure::http(503);
    let mut rng = Lcg(11);
    for _ in 0..300 {
        for m in 0..models {
            let mut ep = teacher.begin(&format!("m{m}"), None).unwrap();
            teacher.record_failure(&mut ep, &failure).unwrap();
            let outage = rng.log_uniform(0.05, 600.0);
            let mut t = 0.0;
            loop {
                let wait = rng.log_uniform(0.02, 120.0);
                clock.advance(Duration::from_secs_f64(wait));
                t += wait;
                if t >= outage {
                    teacher.on_success(&mut ep).unwrap();
                    break;
                }
                teacher.record_failure(&mut ep, &failure).unwrap();
            }
        }
    }
    let snapshot = teacher.snapshot();
    drop(teacher);
    let intervals: usize = snapshot.models.iter().map(|m| m.intervals.len()).sum();
    let before = LIVE.load(Ordering::Relaxed);
    let engine = Engine::with_clock(policy, clock.clone()).expect("valid policy");
    engine.merge(&snapshot);
    for m in 0..models {
        let _ = engine.model_report(&format!("m{m}"), None, ErrorClass::Unavailable);
    }
    support::settle(&engine);
    let after = LIVE.load(Ordering::Relaxed);
    println!(
        "memory: {} bytes per model with real evidence ({} models x 300 episodes, {:.1} intervals each, plans built, store overhead included)",
        (after - before) / models,
        models,
        intervals as f64 / models as f64
    );
    drop(engine);
}

fn main() {
    let only = std::env::args().nth(1).filter(|a| !a.starts_with('-'));
    let run = |name: &str| only.as_deref().map_or(true, |o| o == name);
    if run("memory") {
        memory_per_model();
    }
    if run("recommend") {
        recommend_latency();
    }
    if run("succeed") {
        first_success_latency();
    }
    if run("fail_once") {
        fail_once();
    }
    if run("on_failure") {
        on_failure_with_learning();
    }
    if run("throughput") {
        throughput();
    }
}
