//! The adaptive rate limiter through the engine: off until configured and until the first
//! throttle, then bounding every call; a retry's delay is the larger of the decision's and the
//! limiter's (named in a clamp), and a Retry-After still sets its floor.

use smartretry::{Engine, ErrorClass, Failure, Guardrail, ManualClock, Policy, RateLimitConfig};
use std::time::Duration;

const KEY: &str = "api";

fn engine(rate_limit: Option<RateLimitConfig>) -> (Engine, std::sync::Arc<ManualClock>) {
    let clock = ManualClock::shared(Duration::from_secs(1_700_000_000));
    let policy = Policy {
        rate_limit,
        seed: Some(7),
        ..Policy::default()
    };
    (Engine::with_clock(policy, clock.clone()).unwrap(), clock)
}

/// Successful calls at `per_sec` for `secs` seconds, each taking its token first.
fn steady(engine: &Engine, clock: &ManualClock, per_sec: u32, secs: u32) {
    for _ in 0..per_sec * secs {
        clock.advance(engine.acquire(KEY).unwrap());
        engine.record_first_success(KEY, None).unwrap();
        clock.advance(Duration::from_secs_f64(1.0 / f64::from(per_sec)));
    }
}

fn throttle(engine: &Engine) -> smartretry::Recommendation {
    let mut ep = engine.begin(KEY, None).unwrap();
    engine.on_failure(&mut ep, &Failure::http(429)).unwrap()
}

#[test]
fn off_without_a_rate_limit_section() {
    let (engine, clock) = engine(None);
    steady(&engine, &clock, 20, 2);
    throttle(&engine);
    assert_eq!(engine.acquire(KEY).unwrap(), Duration::ZERO);
    assert!(engine.rate_limit_state(KEY, None).is_none());
    assert!(!engine.rate_limit_on());
}

#[test]
fn the_on_flag_follows_the_policy() {
    let (engine, _clock) = engine(None);
    assert!(!engine.rate_limit_on());
    let mut p = Policy::clone(&engine.policy());
    p.rate_limit = Some(RateLimitConfig::default());
    engine.set_policy(p.clone()).unwrap();
    assert!(engine.rate_limit_on());
    p.rate_limit = None;
    engine.set_policy(p).unwrap();
    assert!(!engine.rate_limit_on());
    let (on, _) = self::engine(Some(RateLimitConfig::default()));
    assert!(on.rate_limit_on());
}

#[test]
fn policy_json_turns_it_on_with_the_sdk_constants() {
    let p = Policy::from_json(r#"{"rate_limit":{}}"#).unwrap();
    assert_eq!(p.rate_limit, Some(RateLimitConfig::default()));
    assert_eq!(Policy::from_json("{}").unwrap().rate_limit, None);
    let back = Policy::from_json(&p.to_json()).unwrap();
    assert_eq!(back, p);
    for bad in [
        r#"{"rate_limit":{"beta":0}}"#,
        r#"{"rate_limit":{"beta":1.5}}"#,
        r#"{"rate_limit":{"smoothing":-1}}"#,
        r#"{"rate_limit":{"min_fill_rate":0}}"#,
        r#"{"rate_limit":{"min_capacity":0.5}}"#,
        r#"{"rate_limit":{"bucket":0}}"#,
        r#"{"rate_limit":{"betta":0.7}}"#,
    ] {
        assert!(Policy::from_json(bad).is_err(), "{bad}");
    }
}

#[test]
fn nothing_waits_before_the_first_throttle() {
    let (engine, clock) = engine(Some(RateLimitConfig::default()));
    for _ in 0..200 {
        assert_eq!(engine.acquire(KEY).unwrap(), Duration::ZERO);
        engine.record_first_success(KEY, None).unwrap();
        clock.advance(Duration::from_millis(10));
    }
    let state = engine.rate_limit_state(KEY, None).unwrap();
    assert!(!state.enabled);
    assert!(state.measured_rate > 50.0, "{state:?}");
}

#[test]
fn a_throttle_bounds_every_later_call() {
    let (engine, clock) = engine(Some(RateLimitConfig::default()));
    steady(&engine, &clock, 20, 3);
    throttle(&engine);
    let state = engine.rate_limit_state(KEY, None).unwrap();
    assert!(state.enabled);
    // Cut to 0.7 of the ~20/s measured.
    assert!(
        (13.0..=15.0).contains(&state.fill_rate),
        "fill rate {}",
        state.fill_rate
    );
    // A burst of first attempts queues behind the bucket: waits grow one token at a time.
    let waits: Vec<Duration> = (0..30).map(|_| engine.acquire(KEY).unwrap()).collect();
    assert!(waits.windows(2).all(|w| w[1] >= w[0]), "{waits:?}");
    let last = waits.last().unwrap().as_secs_f64();
    let expected = 30.0 / state.fill_rate - state.tokens.max(0.0) / state.fill_rate;
    assert!((last - expected).abs() < 0.2, "{last} vs {expected}");
    // Another key is not limited.
    assert_eq!(engine.acquire("other").unwrap(), Duration::ZERO);
}

#[test]
fn the_rate_grows_back_without_throttles() {
    let (engine, clock) = engine(Some(RateLimitConfig::default()));
    steady(&engine, &clock, 20, 3);
    throttle(&engine);
    let cut = engine.rate_limit_state(KEY, None).unwrap().fill_rate;
    steady(&engine, &clock, 20, 10);
    let grown = engine.rate_limit_state(KEY, None).unwrap().fill_rate;
    assert!(grown > cut, "{cut} -> {grown}");
}

#[test]
fn a_retry_waits_for_the_larger_bound_and_the_clamp_names_it() {
    let (engine, clock) = engine(Some(RateLimitConfig::default()));
    steady(&engine, &clock, 20, 3);
    // Empty the bucket so the next token is seconds away.
    throttle(&engine);
    for _ in 0..60 {
        engine.acquire(KEY).unwrap();
    }
    let token_wait = {
        let s = engine.rate_limit_state(KEY, None).unwrap();
        (1.0 - s.tokens) / s.fill_rate
    };
    let mut ep = engine.begin(KEY, None).unwrap();
    // A connection error's schedule (full jitter on 1 s) is shorter than the queue.
    let rec = engine
        .on_failure(&mut ep, &Failure::class(ErrorClass::Connection))
        .unwrap();
    assert!(rec.should_retry());
    let clamp = rec
        .clamps
        .iter()
        .find(|c| c.guardrail == Guardrail::RateLimit)
        .unwrap_or_else(|| panic!("no rate_limit clamp: {rec}"));
    assert!(clamp.from < clamp.to);
    assert!((rec.delay.as_secs_f64() - token_wait).abs() < 0.2, "{rec}");
    assert!(rec.to_string().contains("rate_limit clamped"), "{rec}");
    // The delay is the limiter's wait, not the schedule's plus the limiter's: after it, the
    // token is there.
    clock.advance(rec.delay);
    assert!(engine.acquire(KEY).unwrap() < Duration::from_millis(150));
}

#[test]
fn retry_after_still_sets_the_floor() {
    let (engine, clock) = engine(Some(RateLimitConfig::default()));
    steady(&engine, &clock, 20, 3);
    let mut ep = engine.begin(KEY, None).unwrap();
    let failure = Failure::http(429).with_retry_after(Duration::from_secs(40));
    let rec = engine.on_failure(&mut ep, &failure).unwrap();
    assert!(rec.should_retry());
    assert!(rec.delay >= Duration::from_secs(40), "{rec}");
    // The limiter (a token ~0.1 s away) did not bind.
    assert!(
        !rec.clamps
            .iter()
            .any(|c| c.guardrail == Guardrail::RateLimit),
        "{rec}"
    );
}

#[test]
fn dependencies_have_their_own_limiters() {
    let (engine, clock) = engine(Some(RateLimitConfig::default()));
    steady(&engine, &clock, 20, 2);
    let mut ep = engine.begin(KEY, None).unwrap();
    let failure = Failure::http(429).on_dependency("payments-db");
    engine.on_failure(&mut ep, &failure).unwrap();
    assert!(
        engine
            .rate_limit_state(KEY, Some("payments-db"))
            .unwrap()
            .enabled
    );
    assert!(!engine.rate_limit_state(KEY, None).unwrap().enabled);
    assert!(engine.acquire_for(KEY, Some("bad\nname")).is_err());
    assert!(engine.acquire("").is_err());
}

#[test]
fn a_caller_with_a_deadline_takes_no_token_it_cannot_use() {
    let (engine, clock) = engine(Some(RateLimitConfig::default()));
    steady(&engine, &clock, 20, 3);
    throttle(&engine);
    let before = engine.rate_limit_state(KEY, None).unwrap().tokens;
    // Drain what is there, then ask with a bound shorter than the next token.
    let mut taken = 0;
    while engine
        .acquire_within(KEY, None, Duration::ZERO)
        .unwrap()
        .is_some()
    {
        taken += 1;
        assert!(taken <= 100, "the bucket never ran dry");
    }
    assert_eq!(taken, before.floor() as u32);
    let left = engine.rate_limit_state(KEY, None).unwrap().tokens;
    assert!(engine
        .acquire_within(KEY, None, Duration::from_millis(1))
        .unwrap()
        .is_none());
    assert_eq!(engine.rate_limit_state(KEY, None).unwrap().tokens, left);
    let wait = engine
        .acquire_within(KEY, None, Duration::from_secs(10))
        .unwrap()
        .unwrap();
    assert!(wait > Duration::ZERO);
}

#[test]
fn set_policy_turns_it_off_and_on() {
    let (engine, clock) = engine(Some(RateLimitConfig::default()));
    steady(&engine, &clock, 20, 3);
    throttle(&engine);
    for _ in 0..50 {
        engine.acquire(KEY).unwrap();
    }
    assert!(engine.acquire(KEY).unwrap() > Duration::ZERO);
    let mut off = (*engine.policy()).clone();
    off.rate_limit = None;
    engine.set_policy(off.clone()).unwrap();
    assert_eq!(engine.acquire(KEY).unwrap(), Duration::ZERO);
    off.rate_limit = Some(RateLimitConfig::default());
    engine.set_policy(off).unwrap();
    assert!(engine.acquire(KEY).unwrap() > Duration::ZERO);
}
