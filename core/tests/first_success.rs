//! `record_first_success_from` skips making an episode; it must leave the engine exactly as
//! `begin` followed by `on_success_from` would: counters, both budgets, the breaker, the rate
//! limiter, and the seeds later episodes draw their jitter from.

use smartretry::{Engine, Failure, ManualClock, Policy};
use std::sync::Arc;
use std::time::Duration;

const POLICY: &str = r#"{
    "seed": 7,
    "budget": {"kind": "aws_standard", "capacity": 6},
    "tenant_budget": {"kind": "ratio", "ratio": 0.2, "min_per_sec": 0, "capacity": 4},
    "breaker": {},
    "rate_limit": {}
}"#;

fn engine() -> (Engine, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(Duration::from_secs(1_000)));
    let policy = Policy::from_json(POLICY).unwrap();
    (Engine::with_clock(policy, clock.clone()).unwrap(), clock)
}

/// Everything a first-attempt success can change, as text.
fn state(e: &Engine) -> String {
    let mut out = format!("{:?}\n", e.stats());
    // Budgets come in the map's order, which differs between engines: sorted.
    let mut budgets = Vec::new();
    e.for_each_budget(|scope, name, b| budgets.push(format!("{scope:?} {name} {b:?}\n")));
    budgets.sort();
    out.extend(budgets);
    for dep in ["q", "db"] {
        out.push_str(&format!("{dep}: {:?}\n", e.breaker_state(dep).unwrap()));
        for d in [None, Some("db")] {
            out.push_str(&format!("{:?}\n", e.rate_limit_state(dep, d)));
        }
    }
    out
}

/// The same script on two engines: one uses the fused call, the other begin + on_success.
fn run(fused: bool) -> Vec<String> {
    let (e, clock) = engine();
    let first_success = |key: &str, tenant: Option<&str>, dep: Option<&str>| {
        if fused {
            e.record_first_success_from(key, tenant, dep).unwrap();
        } else {
            let mut ep = e.begin(key, tenant).unwrap();
            e.on_success_from(&mut ep, dep).unwrap();
        }
    };
    let mut seen = Vec::new();
    for round in 0..40u32 {
        first_success("q", None, None);
        first_success("q", Some("t1"), Some("db"));
        // Failures in between: throttles, outages, budgets spent, the breaker opening.
        let mut ep = e.begin("q", Some("t1")).unwrap();
        let failure = if round % 3 == 0 {
            Failure::http(429)
        } else {
            Failure::http(503).on_dependency("db")
        };
        let r = e.on_failure(&mut ep, &failure).unwrap();
        // The recommendation (its jitter included) shows the episodes' seeds agree.
        seen.push(format!("{r:?}"));
        if round % 2 == 0 && r.should_retry() {
            e.on_success(&mut ep).unwrap();
        }
        clock.advance(Duration::from_millis(150 * u64::from(round % 4)));
        seen.push(state(&e));
    }
    seen
}

#[test]
fn a_fused_first_success_changes_what_begin_and_on_success_change() {
    let (fused, general) = (run(true), run(false));
    assert_eq!(fused.len(), general.len());
    for (i, (a, b)) in fused.iter().zip(&general).enumerate() {
        assert_eq!(a, b, "step {i}");
    }
}

#[test]
fn a_fused_first_success_checks_its_names() {
    let (e, _) = engine();
    let code = |r: smartretry::Result<()>| r.unwrap_err().code();
    assert_eq!(
        code(e.record_first_success_from("", None, None)),
        "INVALID_KEY"
    );
    assert_eq!(
        code(e.record_first_success_from("q", Some("bad\0"), None)),
        "INVALID_KEY"
    );
    assert_eq!(
        code(e.record_first_success_from("q", None, Some(""))),
        "INVALID_KEY"
    );
    assert_eq!(e.stats().successes, 0);
}
