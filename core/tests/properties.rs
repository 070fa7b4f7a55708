//! Properties over arbitrary inputs: every recommendation respects every guardrail.
//!
//! Long mode: `SMARTRETRY_LONG=1 cargo test -p smartretry --release --test properties` runs
//! 10,000 cases per property instead of 64 (`PROPTEST_CASES=n` sets any other count; it wins
//! over both). Figures in BENCHMARKS.md (fuzzing section).

use proptest::prelude::*;
use smartretry::{Action, Clock, Disposition, Engine, Error, Failure, ManualClock, Snapshot};
use std::time::Duration;

fn failure() -> impl proptest::strategy::Strategy<Value = Failure> {
    (
        prop::option::of(100u16..600),
        prop::option::of(0u32..20),
        prop::option::of(prop::sample::select(vec![
            "ECONNRESET",
            "ETIMEDOUT",
            "EAI_AGAIN",
            "EBOGUS",
        ])),
        prop::option::of(0.0f64..4000.0),
    )
        .prop_map(|(http, grpc, code, ra)| Failure {
            http_status: http,
            grpc_code: grpc,
            error_code: code.map(str::to_string),
            retry_after: ra.map(Duration::from_secs_f64),
            ..Failure::default()
        })
}

/// 64 cases per property, 10,000 with `SMARTRETRY_LONG=1`, or `PROPTEST_CASES`.
fn cases() -> ProptestConfig {
    let long = std::env::var_os("SMARTRETRY_LONG").is_some();
    let default = if long { 10_000 } else { 64 };
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    ProptestConfig::with_cases(cases)
}

proptest! {
    #![proptest_config(cases())]

    #[test]
    fn every_recommendation_respects_every_guardrail(
        failures in prop::collection::vec(failure(), 1..12),
        max_attempts in 1u32..8,
        min_delay in 0.0f64..2.0,
        max_delay in 2.0f64..600.0,
        deadline in 1.0f64..3000.0,
        learn in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let json = format!(
            r#"{{"classes":{{"unavailable":{{"max_attempts":{max_attempts},"min_delay":{min_delay},"max_delay":{max_delay}}},
                 "server_error":{{"max_attempts":{max_attempts},"min_delay":{min_delay},"max_delay":{max_delay}}}}},
                "deadline":{deadline},"seed":{seed},"learning":{{"enabled":{learn},"min_episodes":1}}}}"#
        );
        let clock = ManualClock::shared(Duration::from_secs(1_700_000_000));
        let e = Engine::from_json(&json, clock.clone()).unwrap();
        let policy = e.policy();
        // warm the models a little so the learned tier takes part
        for _ in 0..3 {
            let mut ep = e.begin("q", Some("t")).unwrap();
            let r = e.on_failure(&mut ep, &Failure::http(503)).unwrap();
            if r.should_retry() { clock.advance(r.delay); let _ = e.on_success(&mut ep); }
        }
        let mut ep = e.begin("q", Some("t")).unwrap();
        let start = clock.now();
        for f in &failures {
            let r = match e.on_failure(&mut ep, f) {
                Ok(r) => r,
                // Refused input is a typed error for exactly the failures that do not validate.
                Err(err) => { prop_assert!(f.validate().is_err(), "{err}"); continue; }
            };
            let cp = policy.class(r.class);
            let elapsed = clock.now() - ep.first_failure_at().unwrap();
            match r.action {
                Action::Retry => {
                    prop_assert!(cp.disposition == Disposition::Retry);
                    prop_assert!(r.attempt < cp.max_attempts);
                    let floor = cp.min_delay.max(f.retry_after.unwrap_or_default());
                    prop_assert!(r.delay >= floor, "{r} below floor {floor:?}");
                    if f.retry_after.is_none_or(|ra| ra <= cp.max_delay) {
                        prop_assert!(r.delay <= cp.max_delay.max(cp.min_delay), "{r} above max");
                    }
                    prop_assert!(elapsed + r.delay <= Duration::from_secs_f64(deadline), "past deadline: {r}");
                    if let Some(p) = r.success_probability { prop_assert!((0.0..=1.0).contains(&p)); }
                    if let Some(c) = r.confidence { prop_assert!((0.0..=1.0).contains(&c)); }
                    clock.advance(r.delay);
                }
                _ => { prop_assert!(ep.is_finished()); break; }
            }
        }
        prop_assert!(clock.now() - start <= Duration::from_secs_f64(deadline));
    }

    #[test]
    fn arbitrary_bytes_never_load_as_a_snapshot_silently(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        match Snapshot::decode(&bytes) {
            Ok(s) => prop_assert!(s.models.is_empty() || !s.models[0].key.is_empty()),
            Err(e) => {
                let expected = matches!(e, Error::SnapshotCorrupt(_) | Error::SnapshotVersion { .. });
                prop_assert!(expected, "unexpected error {:?}", e);
            }
        }
    }

    #[test]
    fn arbitrary_seconds_are_validated(v in any::<f64>()) {
        let ok = v.is_finite() && (0.0..=smartretry::time::MAX_SECONDS).contains(&v);
        prop_assert_eq!(smartretry::time::secs("delay", v).is_ok(), ok);
    }
}
