//! `recommend` is a dry run on a borrowed episode: it changes neither the episode nor the engine,
//! agrees with itself, and its alternatives (priced when read) are the plan's numbers.

use smartretry::*;
use std::time::Duration;

fn trained() -> (Engine, std::sync::Arc<ManualClock>) {
    let clock = ManualClock::shared(Duration::from_secs(1_700_000_000));
    let mut p = Policy {
        seed: Some(7),
        ..Policy::default()
    };
    p.learning.portfolio = false;
    let engine = Engine::with_clock(p, clock.clone()).unwrap();
    for _ in 0..200 {
        let mut ep = engine.begin("q", None).unwrap();
        engine.on_failure(&mut ep, &Failure::http(503)).unwrap();
        clock.advance(Duration::from_millis(8_500));
        engine.on_success(&mut ep).unwrap();
    }
    (engine, clock)
}

#[test]
fn recommend_changes_nothing_and_prices_alternatives_from_the_plan() {
    let (engine, clock) = trained();
    let failure = Failure::http(503);
    let mut ep = engine.begin("q", None).unwrap();
    engine.on_failure(&mut ep, &failure).unwrap();
    clock.advance(Duration::from_millis(200));
    let before = engine.stats();
    let (attempts, failures) = (ep.attempts(), ep.failures());

    let a = engine.recommend(&ep, &failure).unwrap();
    let b = engine.recommend(&ep, &failure).unwrap();
    assert_eq!(a, b, "two dry runs on the same episode differ");
    assert_eq!(a.to_json(), b.to_json());
    assert_eq!((ep.attempts(), ep.failures()), (attempts, failures));
    assert_eq!(engine.stats(), before, "a dry run counted something");
    assert_eq!(a.tier, Tier::Bayesian, "{a}");

    // The alternatives: at most two, later than now, priced consistently however they are read.
    let alts = a.alternatives.to_vec();
    assert!(!alts.is_empty() && alts.len() <= 2, "{alts:?}");
    assert_eq!(a.alternatives.len(), alts.len());
    for (i, alt) in alts.iter().enumerate() {
        assert_eq!(a.alternatives.get(i), Some(*alt));
        assert!((0.0..=1.0).contains(&alt.success_probability), "{alt:?}");
        assert_ne!(alt.delay, a.delay);
    }
    assert_eq!(a.alternatives.get(alts.len()), None);
    let json: serde_json::Value = serde_json::from_str(&a.to_json()).unwrap();
    let listed = json["alternatives"].as_array().unwrap();
    assert_eq!(listed.len(), alts.len());
    assert_eq!(
        listed[0]["success_probability"].as_f64(),
        Some(alts[0].success_probability)
    );

    // The live decision from the same point agrees with the dry run on what it does not draw.
    let live = engine.on_failure(&mut ep, &failure).unwrap();
    assert_eq!(
        (live.tier, live.class, live.attempt),
        (a.tier, a.class, a.attempt)
    );
    assert_eq!(ep.attempts(), attempts + 1);
}

#[test]
fn recommend_before_the_first_failure_creates_no_model() {
    let (engine, _clock) = trained();
    let ep = engine.begin("fresh", None).unwrap();
    let models = engine.stats().models;
    let rec = engine.recommend(&ep, &Failure::http(503)).unwrap();
    assert!(rec.should_retry());
    assert_eq!(engine.stats().models, models, "a dry run created a model");
    assert_eq!(ep.attempts(), 0);
    // A key the engine has learned: the dry run before the first failure reads its model.
    let ep = engine.begin("q", None).unwrap();
    let rec = engine.recommend(&ep, &Failure::http(503)).unwrap();
    assert_eq!(rec.attempt, 1);
    assert_eq!(ep.attempts(), 0);
}
