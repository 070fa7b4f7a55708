//! What watching an engine costs its deciding thread: `on_failure` + `on_success` latency with
//! no monitor (the anchor) and with the admin monitor attached, measured side by side in one
//! run, interleaved in rounds. Reports p50 / p99 / p99.9 per call, in nanoseconds.
//!
//! cargo bench -p smartretry-admin --bench monitor_overhead

use smartretry::monitor::Monitor;
use smartretry::{Engine, Failure, ManualClock, Policy};
use std::time::{Duration, Instant};

const ROUNDS: usize = 20;
const PER_ROUND: usize = 10_000;

fn engine() -> (Engine, std::sync::Arc<ManualClock>) {
    let clock = ManualClock::shared(Duration::from_secs(1_700_000_000));
    let e = Engine::with_clock(Policy::from_json(r#"{"seed":1}"#).unwrap(), clock.clone()).unwrap();
    (e, clock)
}

fn round(e: &Engine, clock: &ManualClock, keys: &[String], out: &mut Vec<u64>) {
    let failure = Failure::http(503);
    for i in 0..PER_ROUND {
        let key = &keys[i % keys.len()];
        let t = Instant::now();
        let mut ep = e.begin(key, None).unwrap();
        let rec = e.on_failure(&mut ep, &failure).unwrap();
        clock.advance(rec.delay);
        e.on_success(&mut ep).unwrap();
        out.push(t.elapsed().as_nanos() as u64);
    }
}

fn pct(v: &mut [u64], q: f64) -> u64 {
    v.sort_unstable();
    v[((v.len() as f64 * q) as usize).min(v.len() - 1)]
}

fn main() {
    let keys: Vec<String> = (0..16).map(|i| format!("queue-{i}")).collect();
    let (plain, plain_clock) = engine();
    let (watched, watched_clock) = engine();
    let _monitor = Monitor::attach(&watched, 256);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        round(&plain, &plain_clock, &keys, &mut a);
        round(&watched, &watched_clock, &keys, &mut b);
    }
    println!(
        "episode (begin + on_failure + on_success), ns, {} calls each",
        a.len()
    );
    println!("{:<22}{:>8}{:>8}{:>8}", "", "p50", "p99", "p99.9");
    for (name, v) in [
        ("no monitor (anchor)", &mut a),
        ("monitor attached", &mut b),
    ] {
        let (p50, p99, p999) = (pct(v, 0.5), pct(v, 0.99), pct(v, 0.999));
        println!("{name:<22}{p50:>8}{p99:>8}{p999:>8}");
    }
}
