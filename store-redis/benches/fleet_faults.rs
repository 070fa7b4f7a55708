//! Engine call latency with a fleet store attached while Redis is up, killed, restarted, flushed
//! and paused, against the same engine with no store (the anchor), measured side by side; and
//! the fault figures: calls over 5 ms, faults survived, deltas lost. Both engines are warmed up
//! (one untimed phase each) before they are measured.
//! `cargo bench -p smartretry-redis --bench fleet_faults` (needs redis-server on PATH).

#[path = "../tests/common/mod.rs"]
mod common;

use common::RedisServer;
use smartretry::{Engine, ErrorClass, Failure, ManualClock, Policy};
use smartretry_redis::{FleetConfig, FleetStore};
use std::sync::Arc;
use std::time::{Duration, Instant};

const KEYS: usize = 200;
/// Engine calls per phase (each episode is three calls: begin, failure, success).
const CALLS_PER_PHASE: usize = 170_000;

fn engine(clock: &Arc<ManualClock>) -> Engine {
    let policy = Policy::from_json(r#"{"learning":{"half_life_episodes":1e9}}"#).expect("policy");
    Engine::with_clock(policy, clock.clone()).expect("engine")
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    sorted[((sorted.len() - 1) as f64 * p) as usize]
}

/// Run episodes until `calls` engine calls are timed; returns the per-call nanoseconds.
fn drive(e: &Engine, clock: &ManualClock, calls: usize, k: &mut usize) -> Vec<u64> {
    let mut samples = Vec::with_capacity(calls + 3);
    let failure = Failure::http(503);
    while samples.len() < calls {
        *k = (*k + 7919) % KEYS;
        let key = format!("q{k}");
        let t = Instant::now();
        let mut ep = e.begin(&key, None).expect("begin");
        samples.push(t.elapsed().as_nanos() as u64);
        let t = Instant::now();
        let r = e.on_failure(&mut ep, &failure).expect("failure");
        samples.push(t.elapsed().as_nanos() as u64);
        clock.advance(r.delay);
        let t = Instant::now();
        e.on_success(&mut ep).expect("success");
        samples.push(t.elapsed().as_nanos() as u64);
    }
    samples
}

fn report(name: &str, mut samples: Vec<u64>) {
    samples.sort_unstable();
    let over = samples.iter().filter(|s| **s > 5_000_000).count();
    println!(
        "{name:<34} calls {:>8}  p50 {:>6.2} µs  p99 {:>7.2} µs  p99.9 {:>8.2} µs  max {:>9.1} µs  >5ms {over}",
        samples.len(),
        percentile(&samples, 0.5) as f64 / 1e3,
        percentile(&samples, 0.99) as f64 / 1e3,
        percentile(&samples, 0.999) as f64 / 1e3,
        *samples.last().unwrap_or(&0) as f64 / 1e3,
    );
}

fn total_episodes(e: &Engine) -> f64 {
    e.snapshot()
        .models
        .iter()
        .filter(|m| m.class == ErrorClass::Unavailable)
        .map(|m| m.episodes)
        .sum()
}

fn main() {
    let mut server = RedisServer::start();
    let clock = ManualClock::shared(Duration::from_secs(1_700_000_000));
    let mut k = 0;

    // Anchor: no store. Every engine is warmed up first (untimed): a new engine's first
    // episodes create its 200 models and build their learned plans inline (a manual clock),
    // milliseconds each, which would otherwise fill the first phase's tail whatever it measures.
    let alone = engine(&clock);
    drive(&alone, &clock, CALLS_PER_PHASE, &mut k);
    let anchor = drive(&alone, &clock, CALLS_PER_PHASE, &mut k);

    // The engine under test syncs in the background every 10 ms (or after 64 episodes); a peer
    // syncs by hand at the end to count what reached the fleet.
    let e = engine(&clock);
    let mut config = FleetConfig::new(&server.url()).namespace("bench");
    config.sync_interval = Duration::from_millis(10);
    config.sync_after_episodes = 64;
    config.io_timeout = Duration::from_millis(50);
    let store = FleetStore::attach(&e, config.clone()).expect("store");
    drive(&e, &clock, CALLS_PER_PHASE, &mut k);
    let mut all = Vec::new();
    let mut phase = |name: &str, e: &Engine, all: &mut Vec<u64>| {
        let s = drive(e, &clock, CALLS_PER_PHASE, &mut k);
        report(name, s.clone());
        all.extend(s);
    };
    report("no store (anchor)", anchor);
    phase("store, redis up", &e, &mut all);
    server.kill();
    phase("store, redis killed", &e, &mut all);
    server.restart();
    phase("store, redis restarted empty", &e, &mut all);
    server.flush();
    phase("store, redis flushed", &e, &mut all);
    server.pause(600_000);
    phase("store, redis paused (writes held)", &e, &mut all);
    server.unpause();
    phase("store, redis back", &e, &mut all);
    report("store, all phases", all);

    // Faults survived and deltas lost: after Redis is back, a newcomer must receive every
    // episode the engine recorded (its own evidence is cumulative, so nothing can be dropped).
    store.sync_now().expect("sync after the faults");
    let stats = store.stats();
    drop(store);
    let peer = engine(&clock);
    let peer_store = FleetStore::attach_manual(&peer, config).expect("peer");
    peer_store.sync_now().expect("peer sync");
    let (own, received) = (total_episodes(&e), total_episodes(&peer));
    println!(
        "faults survived: 4 (kill, restart, flush, pause); syncs {} ok, {} failed; episodes recorded {own:.0}, received by a newcomer {received:.0}, lost {:.0}",
        stats.syncs,
        stats.failures,
        (own - received).max(0.0)
    );
}
