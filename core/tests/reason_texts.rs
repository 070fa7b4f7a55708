//! Snapshots of the sentences people read (`Display` of a recommendation): one probability at
//! most, saying what it is of; a server's Retry-After said as the server's; estimates quoted for
//! the plan's step, so jittered retries of the same step agree. Fixed seeds, manual clock.

mod common;

use smartretry::*;
use std::time::Duration;

fn s(x: f64) -> Duration {
    Duration::from_secs_f64(x)
}

fn engine(json: &str) -> (Engine, std::sync::Arc<ManualClock>) {
    let clock = ManualClock::shared(s(1_700_000_000.0));
    (Engine::from_json(json, clock.clone()).unwrap(), clock)
}

/// The texts of an episode failing with `failure` until the engine stops (at most `n`).
fn texts(e: &Engine, clock: &ManualClock, failure: &Failure, n: usize) -> Vec<String> {
    let mut ep = e.begin("payments", None).unwrap();
    let mut out = Vec::new();
    for _ in 0..n {
        let r = e.on_failure(&mut ep, failure).unwrap();
        out.push(r.to_string());
        if !r.should_retry() {
            break;
        }
        clock.advance(r.delay);
    }
    out
}

/// An engine that has learned a dependency that is back 10 s after it fails.
fn trained() -> (Engine, std::sync::Arc<ManualClock>) {
    let (e, clock) = engine(r#"{"seed":7,"learning":{"portfolio":false,"exploration":0}}"#);
    for _ in 0..40 {
        common::episode(&e, &clock, "payments", None, 10.0);
    }
    (e, clock)
}

#[test]
fn static_schedules_say_which_schedule_and_which_retry() {
    let (e, clock) = engine(r#"{"seed":7,"learning":{"enabled":false}}"#);
    assert_eq!(
        texts(&e, &clock, &Failure::http(503), 5),
        [
            "retry in 277 ms [heuristic] unavailable: full jitter backoff, retry 1",
            "retry in 1.7 s [heuristic] unavailable: full jitter backoff, retry 2",
            "retry in 14.4 s [heuristic] unavailable: full jitter backoff, retry 3",
            "give up [guardrail] gave up after 4 attempts: the limit is 4",
        ]
    );
    assert_eq!(
        texts(&e, &clock, &Failure::error_code("ETIMEDOUT"), 2),
        [
            "retry in 0 ms [heuristic] timeout: the first retry goes at once, later ones back off",
            "retry in 1.1 s [heuristic] timeout: full jitter backoff, retry 2",
        ]
    );
    assert_eq!(
        texts(&e, &clock, &Failure::http(404), 1),
        ["give up [heuristic] not_found is permanent (matched http 404/410): retrying cannot help"]
    );
}

#[test]
fn a_server_mandated_wait_says_so_and_quotes_no_estimate() {
    let (e, clock) = trained();
    let failure = Failure::http(429).with_retry_after(s(30.0));
    let mut ep = e.begin("payments", None).unwrap();
    let r = e.on_failure(&mut ep, &failure).unwrap();
    assert_eq!(r.success_probability, None);
    assert_eq!(
        r.to_string(),
        "retry in 30.3 s [heuristic] the server asked to wait 30.0 s (Retry-After): the wait is the server's, not an estimate"
    );
    // An operator's fixed delay raised to the server's wait: no estimate either.
    e.set_override(
        Scope::Queue("payments".into()),
        None,
        PolicyPatch {
            fixed_delay: Some(s(1.0)),
            ..Default::default()
        },
    )
    .unwrap();
    let mut ep = e.begin("payments", None).unwrap();
    let r = e.on_failure(&mut ep, &failure).unwrap();
    assert_eq!(r.success_probability, None);
    assert_eq!(
        r.to_string(),
        "retry in 30.0 s [operator] operator override: fixed delay of 1.0 s; retry_after clamped 1.0 s -> 30.0 s"
    );
    drop(clock);
}

#[test]
fn learned_decisions_quote_one_probability_of_the_next_attempt() {
    let (e, clock) = trained();
    let lines = texts(&e, &clock, &Failure::http(503), 3);
    assert_eq!(
        lines,
        [
            "retry in 10.7 s [bayesian] learned from 40 episodes: the plan puts the next attempt 10.7 s after the failure began; chance the next attempt succeeds: 93%",
            "retry in 4.5 s [bayesian] learned from 40 episodes: the plan puts the next attempt 15.2 s after the failure began; chance the next attempt succeeds: 98%",
            "retry in 4.1 min [bayesian] learned from 40 episodes: the plan puts the next attempt 4.4 min after the failure began; chance the next attempt succeeds: 93%",
        ]
    );
    for line in &lines {
        assert_eq!(line.matches('%').count(), 1, "{line}");
    }
}

#[test]
fn jittered_retries_of_the_same_step_quote_the_same_probability() {
    // Learned plan: the attempt lands anywhere in the planned bucket, the estimate is the step's.
    let (e, _clock) = trained();
    let mut delays = Vec::new();
    let mut probabilities = Vec::new();
    for _ in 0..20 {
        // A dry run on a fresh episode: nothing is learned between the draws.
        let ep = e.begin("payments", None).unwrap();
        let r = e.recommend(&ep, &Failure::http(503)).unwrap();
        delays.push(r.delay);
        probabilities.push(r.success_probability.unwrap());
    }
    assert!(delays.iter().any(|d| *d != delays[0]), "{delays:?}");
    assert!(
        probabilities.iter().all(|p| *p == probabilities[0]),
        "{probabilities:?}"
    );

    // Class schedule while learning: full jitter draws from 0 to the cap, the estimate is the
    // step's (its middle).
    let (e, clock) = engine(r#"{"seed":3}"#);
    for _ in 0..5 {
        common::episode(&e, &clock, "payments", None, 10.0);
    }
    let mut firsts = Vec::new();
    for _ in 0..20 {
        let ep = e.begin("payments", None).unwrap();
        let r = e.recommend(&ep, &Failure::http(503)).unwrap();
        assert!(
            r.to_string()
                .contains("while learning (5 of 20 episodes seen)"),
            "{r}"
        );
        firsts.push((r.delay, r.success_probability.unwrap()));
    }
    assert!(firsts.iter().any(|(d, _)| *d != firsts[0].0));
    assert!(firsts.iter().all(|(_, p)| *p == firsts[0].1), "{firsts:?}");
}

#[test]
fn stops_quote_no_probability() {
    let (e, clock) = engine(r#"{"seed":7,"deadline":5,"learning":{"min_episodes":1}}"#);
    common::episode(&e, &clock, "payments", None, 1.0);
    let lines = texts(&e, &clock, &Failure::http(503), 6);
    let last = lines.last().unwrap();
    assert!(
        last.starts_with(
            "give up [guardrail] gave up: the next attempt would fall after the 5.0 s deadline"
        ),
        "{lines:?}"
    );
    assert!(!last.contains('%'), "{last}");
}
