//! The learned tiers: convergence on known recovery distributions, tenant isolation, drift,
//! snapshots through the engine, concurrency.

mod common;

use common::episode;
use smartretry::*;
use std::sync::Arc;
use std::time::Duration;

fn s(x: f64) -> Duration {
    Duration::from_secs_f64(x)
}

/// Deterministic uniform draws in [0, 1).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn learning_engine() -> (Engine, Arc<ManualClock>) {
    engine_pricing_failures_at(
        r#"{"classes":{"unavailable":{"max_attempts":20,"max_delay":120}},"deadline":900}"#,
        5.0,
    )
}

/// An engine on a manual clock with `policy`, a failed attempt priced at `cost` seconds and the
/// learned plan always in charge (no portfolio).
fn engine_pricing_failures_at(policy: &str, cost: f64) -> (Engine, Arc<ManualClock>) {
    let clock = ManualClock::shared(s(1_700_000_000.0));
    let mut p = Policy::from_json(policy).unwrap();
    p.learning.failure_cost = Some(s(cost));
    p.learning.portfolio = false;
    (Engine::with_clock(p, clock.clone()).unwrap(), clock)
}

/// 300 episodes on `key` whose outages last `lo` to `lo + width` seconds (uniform, drawn from
/// `seed`), `gap` seconds apart.
fn learn_outages(
    e: &Engine,
    clock: &ManualClock,
    key: &str,
    seed: u64,
    lo: f64,
    width: f64,
    gap: f64,
) {
    let mut rng = Lcg(seed);
    for _ in 0..300 {
        episode(e, clock, key, None, lo + width * rng.next());
        clock.advance(s(gap));
    }
}

#[test]
fn converges_near_the_optimum_on_a_known_distribution() {
    // Outages last 6-12 s. With a failed attempt worth 5 s the optimum retries once at ~12 s
    // (cost ~12) or at ~10 s then ~12 s (cost ~12.4); anything near is fine, blind backoff is not.
    let (e, clock) = learning_engine();
    let mut rng = Lcg(7);
    for _ in 0..300 {
        episode(&e, &clock, "pay", None, 6.0 + 6.0 * rng.next());
        clock.advance(s(100.0));
    }
    let mut cost = 0.0;
    for _ in 0..200 {
        let (attempts, t) = episode(&e, &clock, "pay", None, 6.0 + 6.0 * rng.next());
        cost += t + 5.0 * f64::from(attempts - 2);
        clock.advance(s(100.0));
    }
    let mean = cost / 200.0;
    assert!(mean < 14.0, "mean cost {mean}");
    let first = e.preview("pay", None, &Failure::http(503), 1).unwrap();
    assert_eq!(first[0].tier, Tier::Bayesian);
    let d = first[0].delay.as_secs_f64();
    assert!((9.0..=14.6).contains(&d), "first retry at {d}");
    let p = first[0].success_probability.unwrap();
    assert!(p > 0.5, "{p}");
    assert!(first[0].confidence.unwrap() > 0.5);
}

#[test]
fn polls_against_outages_of_minutes_when_attempts_are_cheap() {
    // Outages of 10-30 minutes, a failed attempt worth 0.5 s: one attempt per bucket of the
    // plan's grid (190 s apart at 1,000 s) finds the recovery too late, so the plan polls.
    let (e, clock) = engine_pricing_failures_at(
        r#"{"classes":{"unavailable":{"max_attempts":400,"max_delay":3600}},"deadline":7200}"#,
        0.5,
    );
    learn_outages(&e, &clock, "etl", 11, 600.0, 1200.0, 3600.0);
    // An outage that outlasts the deadline: every decision between 15 and 25 minutes in.
    let mut ep = e.begin("etl", None).unwrap();
    let start = clock.now();
    let mut polls = 0;
    loop {
        let r = e.on_failure(&mut ep, &Failure::http(503)).unwrap();
        if !r.should_retry() {
            break;
        }
        let elapsed = (clock.now() - start).as_secs_f64();
        if (900.0..1500.0).contains(&elapsed) {
            assert_eq!(r.tier, Tier::Bayesian, "{r}");
            if r.to_string().contains("polls about every") {
                polls += 1;
                // Well under half a bucket of the grid here (about 95 s at 1,000 s).
                assert!(r.delay < s(95.0), "{r}");
            }
        }
        clock.advance(r.delay);
    }
    assert!(
        polls >= 5,
        "{polls} polled decisions between 15 and 25 minutes"
    );
}

#[test]
fn a_plan_that_waits_past_max_delay_keeps_its_retries_apart() {
    // Outages of about 100 s against a 10 s cap: the plan wants longer waits than the cap
    // allows. Clamped to the cap itself, every client would retry at the same moments.
    let (e, clock) = engine_pricing_failures_at(
        r#"{"classes":{"unavailable":{"max_attempts":100,"max_delay":10}},"deadline":900}"#,
        5.0,
    );
    learn_outages(&e, &clock, "slow", 3, 80.0, 40.0, 1000.0);
    let mut at_cap = Vec::new();
    for _ in 0..50 {
        let mut ep = e.begin("slow", None).unwrap();
        for _ in 0..4 {
            let r = e.on_failure(&mut ep, &Failure::http(503)).unwrap();
            assert!(r.delay <= s(10.0), "{r}");
            if r.clamps.iter().any(|c| c.guardrail == Guardrail::MaxDelay) {
                assert!(r.delay >= s(8.0), "{r}");
                at_cap.push(r.delay);
            }
            clock.advance(r.delay);
        }
        e.abandon(&mut ep);
    }
    assert!(
        at_cap.len() > 50,
        "the plan should want more than the cap: {}",
        at_cap.len()
    );
    at_cap.sort();
    at_cap.dedup();
    assert!(
        at_cap.len() > 50,
        "distinct delays at the cap: {}",
        at_cap.len()
    );
}

#[test]
fn falls_back_to_heuristics_until_it_has_evidence() {
    let (e, clock) = learning_engine();
    let (_, _) = episode(&e, &clock, "new", None, 3.0);
    let r = e.preview("new", None, &Failure::http(503), 1).unwrap();
    assert_eq!(r[0].tier, Tier::Heuristic);
    assert!(r[0].to_string().contains("while learning"), "{}", r[0]);
    assert!(e.stats().fallbacks > 0);
}

#[test]
fn a_noisy_tenant_does_not_move_another_tenants_model() {
    let (e, clock) = learning_engine();
    let mut rng = Lcg(11);
    for _ in 0..200 {
        episode(&e, &clock, "q", Some("calm"), 2.0 + rng.next());
        clock.advance(s(50.0));
    }
    let before = e
        .preview("q", Some("calm"), &Failure::http(503), 1)
        .unwrap()[0]
        .delay;
    for _ in 0..200 {
        episode(&e, &clock, "q", Some("noisy"), 300.0 + 100.0 * rng.next());
        clock.advance(s(50.0));
    }
    let after = e
        .preview("q", Some("calm"), &Failure::http(503), 1)
        .unwrap()[0]
        .delay;
    // The same planned bucket (delays are jittered within it, about 19% wide).
    let ratio = after.as_secs_f64() / before.as_secs_f64();
    assert!(
        (0.8..=1.25).contains(&ratio),
        "the calm tenant's schedule is its own: {before:?} then {after:?}"
    );
    let noisy = e
        .preview("q", Some("noisy"), &Failure::http(503), 1)
        .unwrap()[0]
        .delay;
    assert!(noisy > after);
}

#[test]
fn follows_drift() {
    let (e, clock) = learning_engine();
    let mut p = Policy::clone(&e.policy());
    p.learning.half_life_episodes = 50.0;
    e.set_policy(p).unwrap();
    for _ in 0..300 {
        episode(&e, &clock, "d", None, 2.0);
        clock.advance(s(50.0));
    }
    let early = e.preview("d", None, &Failure::http(503), 1).unwrap()[0]
        .delay
        .as_secs_f64();
    for _ in 0..300 {
        episode(&e, &clock, "d", None, 20.0);
        clock.advance(s(50.0));
    }
    let late = e.preview("d", None, &Failure::http(503), 1).unwrap()[0]
        .delay
        .as_secs_f64();
    assert!(early < 3.0 && late > 15.0, "early {early} late {late}");
}

#[test]
fn snapshots_round_trip_byte_identically_and_merge() {
    let (e, clock) = learning_engine();
    for i in 0..50 {
        episode(
            &e,
            &clock,
            "q",
            Some(if i % 2 == 0 { "a" } else { "b" }),
            4.0,
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let p1 = dir.path().join("one.snap");
    let p2 = dir.path().join("two.snap");
    e.save_snapshot(&p1).unwrap();
    let (f, _) = learning_engine();
    f.load_snapshot(&p1).unwrap();
    f.save_snapshot(&p2).unwrap();
    let (a, b) = (
        std::fs::read_to_string(&p1).unwrap(),
        std::fs::read_to_string(&p2).unwrap(),
    );
    if a != b {
        let (a, b) = (&a[a.find('\n').unwrap()..], &b[b.find('\n').unwrap()..]);
        let at = a
            .bytes()
            .zip(b.bytes())
            .position(|(x, y)| x != y)
            .unwrap_or(0);
        panic!(
            "snapshots differ at byte {at}: {:?} vs {:?}",
            &a[at.saturating_sub(60)..(at + 40).min(a.len())],
            &b[at.saturating_sub(60)..(at + 40).min(b.len())]
        );
    }
    f.merge_snapshot(&p1).unwrap();
    let one = e
        .model_snapshot("q", None, ErrorClass::Unavailable)
        .unwrap();
    let two = f
        .model_snapshot("q", None, ErrorClass::Unavailable)
        .unwrap();
    assert!((two.episodes - 2.0 * one.episodes).abs() < 1e-6);
    // a corrupt file is a typed error and leaves the engine as it was
    std::fs::write(&p2, b"smartretry-snapshot v1 crc32=00000000 len=3\nabc").unwrap();
    let before = f.snapshot();
    assert!(matches!(
        f.load_snapshot(&p2),
        Err(Error::SnapshotCorrupt(_))
    ));
    assert!(matches!(
        f.load_snapshot(&dir.path().join("missing")),
        Err(Error::Io { .. })
    ));
    assert_eq!(f.snapshot(), before);
}

#[test]
fn concurrent_records_lose_no_counts() {
    let (e, _) = learning_engine();
    let threads = 4;
    let per = 500;
    std::thread::scope(|scope| {
        for t in 0..threads {
            let e = e.clone();
            scope.spawn(move || {
                for i in 0..per {
                    let key = format!("k{}", (i + t) % 7);
                    let mut ep = e.begin(&key, None).unwrap();
                    e.on_failure(&mut ep, &Failure::http(503)).unwrap();
                    e.on_success(&mut ep).unwrap();
                }
            });
        }
    });
    let stats = e.stats();
    assert_eq!(stats.episodes, (threads * per) as u64);
    assert_eq!(stats.successes, (threads * per) as u64);
    let total: f64 = e.snapshot().models.iter().map(|m| m.episodes).sum();
    // decayed counts: every episode counted, less what the half-life took
    assert!(total > 7.0 * 200.0, "{total}");
    assert_eq!(stats.models, 7);
}

#[test]
fn history_is_written_as_json_lines() {
    let (e, clock) = learning_engine();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.jsonl");
    let sink = Arc::new(JsonlHistory::append(&path).unwrap());
    e.set_history(Some(sink.clone()));
    episode(&e, &clock, "q", Some("t"), 1.0);
    sink.flush().unwrap();
    let records = smartretry::history::read_history(&path).unwrap();
    assert!(records.len() >= 2);
    assert_eq!(records[0].outcome, "failure");
    assert_eq!(records[0].http_status, Some(503));
    assert_eq!(records[0].error_class.as_deref(), Some("unavailable"));
    let last = records.last().unwrap();
    assert_eq!(last.outcome, "success");
    assert!(last.since_episode_start >= 1.0);
}

#[test]
fn an_episode_that_began_while_the_model_knew_nothing_moves_to_the_learned_plan() {
    // A batch fails at once: its episodes make their first decision before any has finished,
    // so they run the class schedule. Once the portfolio prefers the learned plan, the next
    // failure of each of them runs the plan, not the class schedule for the rest of the episode.
    let clock = ManualClock::shared(s(1_700_000_000.0));
    let mut p = Policy::from_json(r#"{"classes":{"unavailable":{"max_attempts":1000}}}"#).unwrap();
    p.learning.failure_cost = Some(s(5.0));
    let e = Engine::with_clock(p, clock.clone()).unwrap();
    let mut batch: Vec<Episode> = (0..5).map(|_| e.begin("batch", None).unwrap()).collect();
    for ep in &mut batch {
        let r = e.on_failure(ep, &Failure::http(503)).unwrap();
        assert_eq!(r.tier, Tier::Heuristic, "{r}");
    }
    // Outages of 30-40 s: the class schedule (full jitter from 5 s) fails four or five times
    // each, at 5 s a failure; a plan that waits for the recovery fails about once.
    let mut rng = Lcg(3);
    for _ in 0..60 {
        episode(&e, &clock, "batch", None, 30.0 + 10.0 * rng.next());
    }
    let report = e
        .model_report("batch", None, ErrorClass::Unavailable)
        .unwrap();
    assert_eq!(
        report.preferred,
        smartretry::learn::ArmChoice::Learned,
        "{report:?}"
    );
    for ep in &mut batch {
        let r = e.on_failure(ep, &Failure::http(503)).unwrap();
        assert_eq!(r.tier, Tier::Bayesian, "{r}");
        e.on_success(ep).unwrap();
    }
    // The moved episodes are scored on both schedules' counterfactual costs, never as realised
    // costs of the learned plan (which they did not run whole).
    let after = e
        .model_report("batch", None, ErrorClass::Unavailable)
        .unwrap();
    let realised_learned = |r: &smartretry::learn::model::ModelReport| {
        r.portfolio.realised[smartretry::learn::ArmChoice::Learned.index()].n
    };
    assert!(realised_learned(&after) <= realised_learned(&report) + 1e-9);
    assert!(after.portfolio.difference.n > report.portfolio.difference.n);
}
