#[path = "../benches/support.rs"]
mod support;
use smartretry::{Engine, Failure, Policy};
use std::hint::black_box;
use std::time::Duration;

#[inline(never)]
fn measured_loop(engine: &Engine, clock: &support::SteppedClock, f: &Failure, n: usize) {
    for _ in 0..n {
        let mut ep = engine.begin("bench", None).unwrap();
        black_box(engine.on_failure(&mut ep, f).unwrap());
        clock.advance(Duration::from_millis(1));
        engine.on_success(&mut ep).unwrap();
    }
}

fn main() {
    let clock = support::SteppedClock::shared();
    let engine = Engine::with_clock(Policy::default(), clock.clone()).unwrap();
    let failure = Failure::error_code("ETIMEDOUT").with_message("timed out");
    for _ in 0..30_000 {
        let mut ep = engine.begin("bench", None).unwrap();
        black_box(engine.on_failure(&mut ep, &failure).unwrap());
        clock.advance(Duration::from_millis(1));
        engine.on_success(&mut ep).unwrap();
    }
    support::settle(&engine);
    measured_loop(&engine, &clock, &failure, 30_000);
}
