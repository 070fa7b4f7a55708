//! Helpers shared by the integration tests.

use smartretry::{Clock, Engine, Failure, ManualClock};

/// Run one all-or-nothing outage of `outage` seconds through the engine (HTTP 503 until then,
/// success after), advancing the manual clock by each recommended delay. Returns the attempts
/// made and the time to success (infinite if the engine gave up).
pub fn episode(
    e: &Engine,
    clock: &ManualClock,
    key: &str,
    tenant: Option<&str>,
    outage: f64,
) -> (u32, f64) {
    let mut ep = e.begin(key, tenant).unwrap();
    let start = clock.now();
    loop {
        if ep.attempts() > 0 && (clock.now() - start).as_secs_f64() >= outage {
            e.on_success(&mut ep).unwrap();
            return (ep.attempts(), (clock.now() - start).as_secs_f64());
        }
        let r = e.on_failure(&mut ep, &Failure::http(503)).unwrap();
        if !r.should_retry() {
            return (ep.attempts(), f64::INFINITY);
        }
        clock.advance(r.delay);
    }
}
