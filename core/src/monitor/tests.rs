use super::*;
use crate::clock::Clock;
use crate::{Failure, ManualClock, Policy, PolicyPatch, Scope};
use std::time::Duration;

fn engine() -> (Engine, Arc<ManualClock>) {
    let clock = ManualClock::shared(Duration::from_secs(1_700_000_000));
    let mut p = Policy::from_json(
        r#"{"classes":{"unavailable":{"max_attempts":20,"max_delay":120}},"deadline":900}"#,
    )
    .unwrap();
    p.learning.failure_cost = Some(Duration::from_secs(5));
    p.learning.portfolio = false;
    p.seed = Some(7);
    (Engine::with_clock(p, clock.clone()).unwrap(), clock)
}

/// One episode on `key` whose dependency is down for `outage` seconds.
fn episode(e: &Engine, clock: &ManualClock, key: &str, outage: f64) {
    let mut ep = e.begin(key, None).unwrap();
    let start = clock.now();
    loop {
        let rec = e.on_failure(&mut ep, &Failure::http(503)).unwrap();
        if !rec.should_retry() {
            return;
        }
        clock.advance(rec.delay);
        if (clock.now() - start).as_secs_f64() >= outage {
            e.on_success(&mut ep).unwrap();
            return;
        }
    }
}

fn metric(text: &str, line_start: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(line_start))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {line_start} in\n{text}"))
}

#[test]
fn keeps_recent_decisions_newest_first_and_bounded() {
    let (e, clock) = engine();
    let m = Monitor::attach(&e, 3);
    for _ in 0..4 {
        episode(&e, &clock, "payments", 2.0);
    }
    let recent = m.recent(10);
    assert_eq!(recent.len(), 3);
    assert!(recent[0].time >= recent[2].time);
    assert_eq!(recent[0].key, "payments");
    assert!(!recent[0].recommendation.reason_text().is_empty());
}

#[test]
fn counts_tiers_fallbacks_latency_and_time_to_success() {
    let (e, clock) = engine();
    let m = Monitor::attach(&e, DEFAULT_RECENT);
    for _ in 0..60 {
        episode(&e, &clock, "payments", 8.0);
    }
    let text = m.prometheus();
    let decisions = e.stats().retries + e.stats().give_ups + e.stats().escalations;
    let by_tier: f64 = text
        .lines()
        .filter(|l| l.starts_with("smartretry_decisions_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert_eq!(by_tier as u64, decisions);
    assert!(metric(&text, "smartretry_fallbacks_total") >= 1.0);
    assert_eq!(
        metric(&text, "smartretry_recommendation_latency_seconds_count") as u64,
        decisions
    );
    assert_eq!(
        metric(&text, "smartretry_time_to_success_seconds_count"),
        60.0
    );
    // After learning, the learned tier quotes p(success); each retry's outcome scores it.
    assert!(metric(&text, "smartretry_decisions_total{tier=\"bayesian\"}") > 0.0);
    let brier = metric(
        &text,
        "smartretry_model_brier{key=\"payments\",class=\"unavailable\"}",
    );
    assert!((0.0..=1.0).contains(&brier), "{brier}");
    let drift = metric(
        &text,
        "smartretry_model_drift{key=\"payments\",class=\"unavailable\"}",
    );
    assert!((0.0..=1.0).contains(&drift));
    let json = m.metrics_json();
    assert_eq!(json["models"][0]["key"], "payments");
}

#[test]
fn counts_clamps_by_guardrail_and_follows_overrides() {
    let (e, clock) = engine();
    let m = Monitor::attach(&e, DEFAULT_RECENT);
    let patch = PolicyPatch {
        max_attempts: Some(2),
        ..Default::default()
    };
    e.set_override(Scope::Queue("mail".into()), None, patch)
        .unwrap();
    episode(&e, &clock, "mail", 1_000.0);
    let text = m.prometheus();
    assert_eq!(metric(&text, "smartretry_overrides"), 1.0);
    assert!(metric(&text, "smartretry_decisions_total{tier=\"guardrail\"}") >= 1.0);
    let recent = m.recent(1);
    assert!(!recent[0].recommendation.should_retry());
}

#[test]
fn counts_calls_the_static_schedule_would_have_made() {
    let (e, clock) = engine();
    let m = Monitor::attach(&e, DEFAULT_RECENT);
    // A fixed 1 s schedule from the operator: the static schedule (the class's own) retries
    // at its own pace; the comparison uses the overrides in force for both.
    let patch = PolicyPatch {
        fixed_delay: Some(Duration::from_secs(1)),
        ..Default::default()
    };
    e.set_override(Scope::Queue("q".into()), None, patch)
        .unwrap();
    episode(&e, &clock, "q", 5.5);
    let json = m.metrics_json();
    let c = &json["calls_avoided"]["unavailable"];
    // Same schedule on both sides: nothing avoided, nothing extra.
    assert_eq!(
        (c["avoided"].as_u64(), c["extra"].as_u64()),
        (Some(0), Some(0))
    );
}

#[test]
fn label_values_are_escaped() {
    let (e, clock) = engine();
    let m = Monitor::attach(&e, DEFAULT_RECENT);
    for _ in 0..40 {
        episode(&e, &clock, "a\"b", 8.0);
    }
    assert!(m.prometheus().contains("key=\"a\\\"b\""));
}

#[test]
fn model_views_show_curve_plan_and_evidence() {
    let (e, clock) = engine();
    for _ in 0..30 {
        episode(&e, &clock, "payments", 8.0);
    }
    let views = model_views(&e);
    assert_eq!(views.len(), 1);
    let v = &views[0];
    assert_eq!(
        (v.key.as_str(), v.class),
        ("payments", ErrorClass::Unavailable)
    );
    assert!(v.report.episodes > 20.0);
    assert!(!v.curve.is_empty() && v.curve.len() <= 25);
    assert!(v.curve.windows(2).all(|w| w[0].1 <= w[1].1 + 1e-12));
    assert!(v.plan[0].delay.is_some() && !v.plan[0].reason.is_empty());
    assert!(model_view(&e, "nope", None, ErrorClass::Unavailable).is_none());
}

#[test]
fn explain_shows_every_tier_and_the_clamps() {
    let (e, clock) = engine();
    for _ in 0..30 {
        episode(&e, &clock, "payments", 8.0);
    }
    let x = e.explain("payments", None, &Failure::http(503), 2).unwrap();
    let tiers: Vec<_> = x.proposals.iter().map(|p| p.tier).collect();
    assert_eq!(tiers, ["learned", "heuristic"]);
    assert_eq!(x.recommendation.attempt, 2);
    assert_eq!(x.recommendation.tier.as_str(), "bayesian");

    let patch = PolicyPatch {
        fixed_delay: Some(Duration::from_secs(500)),
        ..Default::default()
    };
    e.set_override(Scope::Queue("payments".into()), None, patch)
        .unwrap();
    let slow = Failure::http(503).with_retry_after(Duration::from_secs(30));
    let x = e.explain("payments", None, &slow, 1).unwrap();
    let tiers: Vec<_> = x.proposals.iter().map(|p| p.tier).collect();
    assert_eq!(tiers, ["operator", "retry_after", "learned", "heuristic"]);
    assert_eq!(x.proposals[0].delay, Some(500.0));
    // The class's max_delay (120 s) clamps the operator's 500 s.
    let clamp = &x.recommendation.clamps[0];
    assert_eq!(clamp.guardrail.as_str(), "max_delay");
    assert_eq!(x.recommendation.delay, Duration::from_secs(120));
    assert_eq!(e.stats().episodes, 30);
    assert!(e.explain("bad\nkey", None, &slow, 1).is_err());
}

#[test]
fn dry_runs_and_bare_records_add_no_decision_or_latency() {
    let (e, _) = engine();
    let m = Monitor::attach(&e, DEFAULT_RECENT);
    // Recorded without a decision, then a dry run: neither is a decision.
    let mut quiet = e.begin("quiet", None).unwrap();
    e.record_failure(&mut quiet, &Failure::http(503)).unwrap();
    let mut ep = e.begin("loud", None).unwrap();
    let _ = e.recommend(&ep, &Failure::http(503)).unwrap();
    e.on_failure(&mut ep, &Failure::http(503)).unwrap();
    let json = m.metrics_json();
    assert_eq!(json["recommendation_latency_seconds"]["count"], 1);
    assert_eq!(json["decisions_by_tier"]["heuristic"], 1);
}
