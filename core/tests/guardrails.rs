//! Engine behaviour at the guardrails: permanent errors, attempts, deadline, Retry-After,
//! budgets, breakers, overrides, previews. All on a manual clock.

use smartretry::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

fn s(x: f64) -> Duration {
    Duration::from_secs_f64(x)
}

fn engine(json: &str) -> (Engine, Arc<ManualClock>) {
    let clock = ManualClock::shared(s(1_700_000_000.0));
    (Engine::from_json(json, clock.clone()).unwrap(), clock)
}

#[test]
fn permanent_errors_are_never_retried_and_humans_are_escalated() {
    let (e, _) = engine("{}");
    for f in [
        Failure::http(400),
        Failure::http(401),
        Failure::http(404),
        Failure::grpc(3),
    ] {
        let mut ep = e.begin("q", None).unwrap();
        let r = e.on_failure(&mut ep, &f).unwrap();
        assert_eq!(r.action, Action::GiveUp, "{f:?}");
        assert!(ep.is_finished());
        assert!(r.to_string().contains("permanent"), "{r}");
    }
    let mut ep = e.begin("q", None).unwrap();
    let r = e
        .on_failure(&mut ep, &Failure::message("please complete the captcha"))
        .unwrap();
    assert_eq!(r.action, Action::Escalate);
    assert_eq!(e.stats().retries, 0);
}

#[test]
fn max_attempts_and_first_retry_immediate() {
    let (e, clock) = engine(r#"{"learning":{"enabled":false}}"#);
    let mut ep = e.begin("q", None).unwrap();
    let first = e
        .on_failure(&mut ep, &Failure::error_code("ETIMEDOUT"))
        .unwrap();
    assert_eq!((first.action, first.delay), (Action::Retry, Duration::ZERO));
    clock.advance(first.delay);
    let second = e
        .on_failure(&mut ep, &Failure::error_code("ETIMEDOUT"))
        .unwrap();
    assert!(second.should_retry());
    clock.advance(second.delay);
    let third = e
        .on_failure(&mut ep, &Failure::error_code("ETIMEDOUT"))
        .unwrap();
    assert_eq!(third.action, Action::GiveUp);
    assert_eq!(third.tier, Tier::Guardrail);
    assert!(third.to_string().contains("after 3 attempts"), "{third}");
}

#[test]
fn retry_after_is_a_floor_and_max_delay_a_ceiling() {
    let (e, _) =
        engine(r#"{"learning":{"enabled":false},"classes":{"unavailable":{"max_delay":2}}}"#);
    let mut ep = e.begin("q", None).unwrap();
    let r = e
        .on_failure(&mut ep, &Failure::http(429).with_retry_after(s(42.0)))
        .unwrap();
    // never earlier than asked; spread over up to a tenth more so clients do not retry together
    assert!(r.delay >= s(42.0) && r.delay <= s(46.2), "{:?}", r.delay);
    assert!(r.to_string().contains("Retry-After"));
    let mut ep = e.begin("q", None).unwrap();
    for _ in 0..3 {
        let r = e.on_failure(&mut ep, &Failure::http(503)).unwrap();
        assert!(r.delay <= s(2.0));
    }
    // a server asking for longer than max_delay still wins, and both clamps are reported
    let mut ep = e.begin("q", None).unwrap();
    let r = e
        .on_failure(&mut ep, &Failure::http(503).with_retry_after(s(30.0)))
        .unwrap();
    assert_eq!(r.delay, s(30.0));
    let names: Vec<_> = r.clamps.iter().map(|c| c.guardrail).collect();
    assert_eq!(names, vec![Guardrail::MaxDelay, Guardrail::RetryAfter]);
}

#[test]
fn a_retry_after_that_keeps_failing_is_spread_wider() {
    // "Retry-After: 1" again and again (a window that reopens every half second, a header in
    // whole seconds): never earlier than asked, but each failure widens the spread after the
    // asked-for moment, up to the wait again, so retries stop landing in the same phase.
    let (e, _) =
        engine(r#"{"learning":{"enabled":false},"classes":{"rate_limited":{"max_attempts":20}}}"#);
    let mut widest = [0.0f64; 6];
    for _ in 0..200 {
        let mut ep = e.begin("q", None).unwrap();
        for (i, w) in widest.iter_mut().enumerate() {
            let r = e
                .on_failure(&mut ep, &Failure::http(429).with_retry_after(s(1.0)))
                .unwrap();
            let d = r.delay.as_secs_f64();
            let most = 1.0 + (0.1 * 2f64.powi(i as i32)).min(1.0);
            assert!((1.0..=most + 1e-9).contains(&d), "failure {}: {d}", i + 1);
            *w = w.max(d - 1.0);
        }
    }
    assert!(widest[0] <= 0.1 && widest[0] > 0.09, "{widest:?}");
    assert!(widest[2] > 0.3 && widest[5] > 0.9, "{widest:?}");
}

#[test]
fn deadline_stops_retries_that_would_land_after_it() {
    let (e, clock) = engine(r#"{"deadline":10,"learning":{"enabled":false}}"#);
    let mut ep = e.begin("q", None).unwrap();
    e.on_failure(&mut ep, &Failure::http(503)).unwrap();
    clock.advance(s(9.5));
    let r = e
        .on_failure(&mut ep, &Failure::http(429).with_retry_after(s(5.0)))
        .unwrap();
    assert_eq!(r.action, Action::GiveUp);
    assert_eq!(r.clamps[r.clamps.len() - 1].guardrail, Guardrail::Deadline);
}

#[test]
fn grpc_budget_stops_a_retry_storm() {
    let (e, _) = engine(
        r#"{"budget":{"kind":"grpc","max_tokens":10,"token_ratio":0.1},"learning":{"enabled":false},
            "classes":{"unavailable":{"max_attempts":100}}}"#,
    );
    let mut granted = 0;
    let mut denied = 0;
    for _ in 0..20 {
        let mut ep = e.begin("q", None).unwrap();
        let r = e.on_failure(&mut ep, &Failure::http(503)).unwrap();
        if r.should_retry() {
            granted += 1;
        } else {
            denied += 1;
            assert_eq!(r.clamps[0].guardrail, Guardrail::Budget);
        }
    }
    // tokens start at 10; each failure costs 1; retries stop at or below 5 tokens
    assert_eq!((granted, denied), (4, 16));
    assert_eq!(e.stats().budget_denials, 16);
}

#[test]
fn tenant_budget_isolates_a_noisy_tenant() {
    let (e, _) = engine(
        r#"{"tenant_budget":{"kind":"aws_standard","capacity":20,"retry_cost":5,"timeout_cost":10,"no_retry_increment":1},
            "learning":{"enabled":false}}"#,
    );
    let mut noisy_denied = 0;
    for _ in 0..10 {
        let mut ep = e.begin("q", Some("noisy")).unwrap();
        if !e
            .on_failure(&mut ep, &Failure::http(503))
            .unwrap()
            .should_retry()
        {
            noisy_denied += 1;
        }
    }
    assert_eq!(noisy_denied, 6, "20 tokens / cost 5 = 4 retries");
    let mut ep = e.begin("q", Some("quiet")).unwrap();
    assert!(e
        .on_failure(&mut ep, &Failure::http(503))
        .unwrap()
        .should_retry());
}

#[test]
fn open_breaker_pushes_retries_to_the_probe_window() {
    let (e, clock) = engine(
        r#"{"breaker":{"consecutive_failures":3,"open_for":30},"learning":{"enabled":false},
            "classes":{"unavailable":{"max_attempts":10}}}"#,
    );
    let transitions = Arc::new(AtomicUsize::new(0));
    let t = transitions.clone();
    e.add_observer(Arc::new(move |ev: &Event<'_>| {
        if let Event::Breaker { to, .. } = ev {
            assert_eq!(*to, BreakerState::Open);
            t.fetch_add(1, Ordering::SeqCst);
        }
    }));
    let mut last = None;
    for _ in 0..3 {
        let mut ep = e.begin("payments", None).unwrap();
        last = Some(e.on_failure(&mut ep, &Failure::http(503)).unwrap());
    }
    let r = last.unwrap();
    assert_eq!(transitions.load(Ordering::SeqCst), 1);
    assert_eq!(r.delay, s(30.0));
    assert_eq!(
        r.clamps.last().unwrap().guardrail,
        Guardrail::CircuitBreaker
    );
    clock.advance(s(1.0));
    let mut ep = e.begin("payments", None).unwrap();
    let r = e.on_failure(&mut ep, &Failure::http(503)).unwrap();
    assert_eq!(
        r.delay,
        s(59.0),
        "the probe slot is taken: wait a further period"
    );
}

#[test]
fn overrides_apply_at_run_time_per_queue_and_tenant() {
    let (e, _) = engine(r#"{"learning":{"enabled":false}}"#);
    e.set_override(
        Scope::Queue("q".into()),
        Some(ErrorClass::Unavailable),
        PolicyPatch {
            fixed_delay: Some(s(7.0)),
            ..Default::default()
        },
    )
    .unwrap();
    e.set_override(
        Scope::Tenant("vip".into()),
        None,
        PolicyPatch {
            max_attempts: Some(1),
            ..Default::default()
        },
    )
    .unwrap();
    let mut ep = e.begin("q", None).unwrap();
    let r = e.on_failure(&mut ep, &Failure::http(503)).unwrap();
    assert_eq!((r.delay, r.tier), (s(7.0), Tier::Operator));
    let mut ep = e.begin("q", Some("vip")).unwrap();
    assert_eq!(
        e.on_failure(&mut ep, &Failure::http(503)).unwrap().action,
        Action::GiveUp
    );
    e.clear_override(&Scope::Queue("q".into()), None);
    let mut ep = e.begin("q", None).unwrap();
    assert_eq!(
        e.on_failure(&mut ep, &Failure::http(503)).unwrap().tier,
        Tier::Heuristic
    );
    assert!(e
        .set_override(Scope::Queue(String::new()), None, PolicyPatch::default())
        .is_err());
    assert!(e
        .set_override(
            Scope::Queue("q".into()),
            None,
            PolicyPatch {
                max_attempts: Some(0),
                ..Default::default()
            }
        )
        .is_err());
}

#[test]
fn preview_shows_the_schedule_and_changes_nothing() {
    let (e, _) = engine(r#"{"budget":{"kind":"grpc","max_tokens":10,"token_ratio":0.1}}"#);
    let steps = e.preview("q", Some("t"), &Failure::http(503), 10).unwrap();
    assert_eq!(steps.len(), 4, "3 retries then give up (max 4 attempts)");
    assert!(steps[..3].iter().all(|r| r.should_retry()));
    assert_eq!(steps[3].action, Action::GiveUp);
    assert_eq!(e.stats(), Stats::default());
    assert_eq!(e.snapshot().models.len(), 0, "a preview creates no model");
    assert!(e.preview("", None, &Failure::http(503), 3).is_err());
}

#[test]
fn bad_input_is_a_typed_error() {
    let (e, _) = engine("{}");
    assert!(matches!(e.begin("", None), Err(Error::InvalidKey(_))));
    assert!(matches!(e.begin("q", Some("")), Err(Error::InvalidKey(_))));
    assert!(matches!(
        e.begin(&"x".repeat(600), None),
        Err(Error::InvalidKey(_))
    ));
    assert!(matches!(
        e.begin("a\u{0}b", None),
        Err(Error::InvalidKey(_))
    ));
    let mut ep = e.begin("q", None).unwrap();
    e.on_success(&mut ep).unwrap();
    assert!(matches!(e.on_success(&mut ep), Err(Error::InvalidState(_))));
    assert!(Failure::default()
        .with_retry_after_header("tomorrow-ish", e.now())
        .is_err());
    assert!(matches!(
        Engine::from_json(r#"{"deadline":"soon"}"#, SystemClock::shared()),
        Err(Error::InvalidPolicy { path, .. }) if path == "deadline"
    ));
    assert!(matches!(
        Policy::from_json(r#"{"classes":{"timeout":{"max_delay":1e309}}}"#),
        Err(Error::InvalidJson(_))
    ));
}

#[test]
fn retrier_runs_the_loop_on_the_engine_clock() {
    let (e, clock) = engine(r#"{"learning":{"enabled":false}}"#);
    let start = clock.now();
    let mut calls = 0;
    let out = Retrier::new(&e, "q").tenant("t").run(
        |attempt| {
            calls += 1;
            assert_eq!(attempt, calls);
            if attempt < 3 {
                Err(503u16)
            } else {
                Ok("done")
            }
        },
        |status| Failure::http(*status),
    );
    assert_eq!(out.unwrap(), "done");
    assert!(
        clock.now() > start,
        "waited on the manual clock, not in real time"
    );
    assert_eq!(e.stats().successes, 1);
    let err = Retrier::new(&e, "q")
        .run(|_| Err::<(), _>(404u16), |s| Failure::http(*s))
        .unwrap_err();
    match err {
        RetryError::Exhausted {
            last_error,
            recommendation,
        } => {
            assert_eq!(last_error, 404);
            assert_eq!(recommendation.action, Action::GiveUp);
        }
        RetryError::Engine(e) => panic!("unexpected {e}"),
    }
    assert!(matches!(
        Retrier::new(&e, "").run(|_| Ok::<_, u16>(()), |s| Failure::http(*s)),
        Err(RetryError::Engine(Error::InvalidKey(_)))
    ));
}
