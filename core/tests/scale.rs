//! One set of defaults from milliseconds to minutes: learning reaches the dependency's own scale
//! within a few dozen episodes whatever the preset, and a class's own schedule is obeyed when
//! nothing beats it.

mod common;

use smartretry::*;
use std::time::Duration;

fn s(x: f64) -> Duration {
    Duration::from_secs_f64(x)
}

/// One all-or-nothing outage of `outage` seconds on queue "q"; returns (attempts, time).
fn episode(e: &Engine, clock: &ManualClock, outage: f64) -> (u32, f64) {
    common::episode(e, clock, "q", None, outage)
}

fn engine(json: &str) -> (Engine, std::sync::Arc<ManualClock>) {
    let clock = ManualClock::shared(s(1_700_000_000.0));
    (Engine::from_json(json, clock.clone()).unwrap(), clock)
}

#[test]
fn background_defaults_learn_a_100_ms_blip_within_a_few_dozen_episodes() {
    let (e, clock) = engine(r#"{"seed": 1}"#);
    for i in 0..60 {
        episode(&e, &clock, 0.08 + 0.04 * f64::from(i % 5) / 4.0);
        clock.advance(s(30.0));
    }
    let mut total = 0.0;
    for i in 0..40 {
        total += episode(&e, &clock, 0.08 + 0.04 * f64::from(i % 5) / 4.0).1;
        clock.advance(s(30.0));
    }
    // The class schedule (full jitter from 5 s) would take seconds; the learned plan ~0.15 s.
    assert!(
        total / 40.0 < 0.5,
        "mean time to success {} s",
        total / 40.0
    );
}

#[test]
fn request_defaults_learn_a_5_s_outage() {
    let (e, clock) = engine(r#"{"preset": "request", "seed": 2}"#);
    let (mut attempts, mut done, mut gave_up) = (0, 0, 0);
    for i in 0..100 {
        let (a, t) = episode(&e, &clock, 4.0 + f64::from(i % 5) / 4.0);
        if i >= 60 {
            if t.is_finite() {
                attempts += a;
                done += 1;
            } else {
                gave_up += 1;
            }
        }
        clock.advance(s(60.0));
    }
    // The class schedule (full jitter from 100 ms, 6 attempts) gives up on every 4-5 s outage;
    // the learned plan waits for it. Only control episodes (2%) still run the class schedule.
    assert!(gave_up <= 3, "{gave_up} of 40 episodes gave up");
    let mean = f64::from(attempts) / f64::from(done);
    assert!(mean < 4.5, "attempts per episode {mean}");
}

#[test]
fn an_immediate_schedule_is_obeyed_when_nothing_beats_it() {
    let (e, clock) = engine(
        r#"{"seed": 3, "classes": {"unavailable": {"strategy": {"kind": "immediate"}, "max_attempts": 5}}}"#,
    );
    let mut waits = 0;
    for _ in 0..200 {
        let mut ep = e.begin("q", None).unwrap();
        let r = e.on_failure(&mut ep, &Failure::http(503)).unwrap();
        assert!(r.should_retry());
        if r.delay > Duration::ZERO {
            waits += 1;
            assert!(r.delay <= s(0.05), "{r}");
        }
        clock.advance(r.delay);
        e.on_success(&mut ep).unwrap();
        clock.advance(s(10.0));
    }
    // Only the control share (and never more than a few) may run the learned plan.
    assert!(waits <= 12, "{waits} of 200 episodes waited");
    let rec = e.preview("q", None, &Failure::http(503), 1).unwrap();
    assert_eq!(rec[0].delay, Duration::ZERO, "{}", rec[0]);
    assert!(rec[0].to_string().contains("immediate"), "{}", rec[0]);
}

#[test]
fn default_engines_draw_different_jitter_and_a_seed_reproduces() {
    let first = |json: &str| {
        let (e, _) = engine(json);
        e.preview("q", None, &Failure::http(503), 1).unwrap()[0].delay
    };
    let drawn: std::collections::HashSet<Duration> = (0..50).map(|_| first("{}")).collect();
    assert_eq!(drawn.len(), 50);
    assert_eq!(first(r#"{"seed": 9}"#), first(r#"{"seed": 9}"#));
}

#[test]
fn clients_failing_together_spread_their_retries_like_full_jitter() {
    // 200 replicas, each with its own default engine, see the same 503 at the same instant.
    let delays: Vec<f64> = (0..200)
        .map(|_| {
            let (e, _) = engine("{}");
            e.preview("q", None, &Failure::http(503), 1).unwrap()[0]
                .delay
                .as_secs_f64()
        })
        .collect();
    let peak = |xs: &[f64]| {
        let mut bins = std::collections::HashMap::new();
        for x in xs {
            *bins.entry((x / 0.25) as i64).or_insert(0u32) += 1;
        }
        bins.into_values().max().unwrap_or(0)
    };
    // Full jitter over the same first window (the background 503 schedule: 0-5 s), from one
    // well-mixed generator: the reference spread.
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let reference: Vec<f64> = (0..200)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            5.0 * (x >> 11) as f64 / (1u64 << 53) as f64
        })
        .collect();
    let (ours, theirs) = (peak(&delays), peak(&reference));
    assert!(
        f64::from(ours) <= 1.6 * f64::from(theirs),
        "peak of {ours} retries per 250 ms against {theirs} for full jitter"
    );
}
