//! The learned tier in an engine: context in the history, decisions and their explanations,
//! the degradation chain, and rollout (shadow evidence, automatic rollback of a bad model).

use smartretry::history::{read_history, HistoryOptions};
use smartretry::learned::features::TOD0;
use smartretry::learned::trees::{Tree, Trees};
use smartretry::learned::{FeatureSchema, LogisticModel, Metrics, TrainingInfo};
use smartretry::{
    AttemptContext, Clock, Engine, Event, Failure, JsonlHistory, ManualClock, ModelFile, Policy,
    RolloutConfig, RolloutMode, Tier,
};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// 2023-11-14 (a Tuesday) at `h` hours UTC.
fn at_hour(h: f64) -> Duration {
    Duration::from_secs_f64(1_699_920_000.0 + h * 3600.0)
}

fn model(weights: impl FnOnce(&mut Vec<f64>)) -> ModelFile {
    let schema = FeatureSchema::new(vec![], vec![]);
    let n = schema.len();
    let mut w = vec![0.0; n];
    weights(&mut w);
    // Training means: attempts spread evenly over the day and the week.
    let mut means = vec![0.0; n];
    means[TOD0..TOD0 + 288].fill(1.0 / 288.0);
    means[TOD0 + 288..TOD0 + 295].fill(1.0 / 7.0);
    ModelFile {
        model: LogisticModel::new(schema, w, means).unwrap(),
        training: TrainingInfo::default(),
        metrics: Metrics::default(),
    }
}

/// Knows the nightly window: attempts between 02:00 and 02:20 fail, others mostly succeed.
fn window_model() -> ModelFile {
    model(|w| {
        w[0] = 2.0;
        for b in 24..28 {
            w[TOD0 + b] = -12.0;
        }
    })
}

/// The window model, boosted by one tree that knows deep queues recover slowly: above 500 jobs
/// waiting (at the decision), the intercept drops and longer waits gain (a steeper `log_delay`).
fn boosted_model() -> ModelFile {
    let mut f = window_model();
    let tree = Tree {
        features: vec![3],
        thresholds: vec![501f64.ln()],
        leaves: vec![[0.0; 3], [-9.0, 0.0, 1.5]],
    };
    f.model = f.model.with_trees(Trees::new(&[tree], -1.0).unwrap());
    f
}

/// Deliberately bad: believes only waits of about an hour succeed.
fn bad_model() -> ModelFile {
    model(|w| {
        w[0] = -30.0;
        w[2] = 3.7; // log_delay: p reaches 1/2 near e^(30/3.7) s, about 55 min
    })
}

/// The default policy with waits of up to an hour (the window is 20 minutes long).
fn long_waits() -> Policy {
    let mut policy = Policy::default();
    for cp in policy.classes.values_mut() {
        cp.max_delay = Duration::from_secs(3600);
    }
    policy
}

#[test]
fn context_is_recorded_in_the_history() {
    let clock = ManualClock::shared(at_hour(13.0));
    let engine = Engine::with_clock(Policy::default(), clock.clone()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.jsonl");
    let sink = Arc::new(JsonlHistory::open(&path, HistoryOptions::default()).unwrap());
    engine.set_history(Some(sink));
    let ctx = AttemptContext {
        queue_depth: Some(120),
        payload_size: Some(4096),
        downstream_latency: Some(Duration::from_millis(350)),
        worker_version: Some("w-2".into()),
        ..Default::default()
    };
    let mut ep = engine
        .begin_with_context("reports", None, ctx.clone())
        .unwrap();
    let rec = engine.on_failure(&mut ep, &Failure::http(503)).unwrap();
    clock.advance(rec.delay);
    ep.set_context(AttemptContext {
        queue_depth: Some(80),
        ..ctx
    })
    .unwrap();
    engine.on_success(&mut ep).unwrap();
    engine.flush_history().unwrap();
    let r = read_history(&path).unwrap();
    assert_eq!((r[0].queue_depth, r[1].queue_depth), (Some(120), Some(80)));
    assert_eq!(r[0].payload_size, Some(4096));
    assert_eq!(r[0].downstream_latency, Some(0.35));
    assert_eq!(r[0].worker_version.as_deref(), Some("w-2"));
    // A bad context is refused.
    let bad = AttemptContext {
        day_of_week: Some(9),
        ..Default::default()
    };
    assert!(engine.begin_with_context("reports", None, bad).is_err());
}

#[test]
fn the_learned_tier_waits_out_the_window_and_says_why() {
    let clock = ManualClock::shared(at_hour(2.0 + 5.0 / 60.0));
    let policy = long_waits();
    let engine = Engine::with_clock(policy, clock.clone()).unwrap();
    // Without a model loaded, no queue can be switched on.
    assert!(engine.set_rollout("db", RolloutMode::Full).is_err());
    engine.set_learned_model("db", &window_model()).unwrap();
    engine.set_rollout("db", RolloutMode::Full).unwrap();
    let mut ep = engine.begin("db", None).unwrap();
    let rec = engine.on_failure(&mut ep, &Failure::http(503)).unwrap();
    assert_eq!(rec.tier, Tier::Learned, "{rec}");
    // 02:05 -> just after 02:20.
    assert!((rec.delay.as_secs_f64() - 900.0).abs() < 0.01, "{rec}");
    let text = rec.to_string();
    assert!(text.contains("time_of_day=02:20"), "{text}");
    assert!(text.contains("moved most by"), "{text}");
    assert_eq!(engine.learned_stats().decisions, 1);
    // Another queue is untouched.
    let mut other = engine.begin("other", None).unwrap();
    let rec = engine.on_failure(&mut other, &Failure::http(503)).unwrap();
    assert_ne!(rec.tier, Tier::Learned);
}

/// The model decides only where the class learns: not for conflicts (their pacing is the class
/// schedule's), not for a class whose `learn` is off, not with learning off; and such episodes
/// give the rollout no evidence.
#[test]
fn the_learned_tier_keeps_out_of_classes_that_do_not_learn() {
    let clock = ManualClock::shared(at_hour(2.0 + 5.0 / 60.0));
    let policy = long_waits();
    let mut no_timeouts = policy.clone();
    if let Some(cp) = no_timeouts
        .classes
        .get_mut(&smartretry::ErrorClass::Timeout)
    {
        cp.learn = false;
    }
    let mut off = policy.clone();
    off.learning.enabled = false;
    let cases = [
        (policy, Failure::http(409)),
        (no_timeouts, Failure::error_code("ETIMEDOUT")),
        (off, Failure::http(503)),
    ];
    for (policy, failure) in cases {
        let engine = Engine::with_clock(policy, clock.clone()).unwrap();
        engine.set_learned_model("db", &window_model()).unwrap();
        engine.set_rollout("db", RolloutMode::Full).unwrap();
        let mut ep = engine.begin("db", None).unwrap();
        let rec = engine.on_failure(&mut ep, &failure).unwrap();
        assert_ne!(rec.tier, Tier::Learned, "{failure:?}: {rec}");
        engine.on_success(&mut ep).unwrap();
        assert_eq!(engine.learned_stats().decisions, 0, "{failure:?}");
        let evidence = engine.rollout_status("db").unwrap().evidence;
        assert_eq!(evidence.learned.n + evidence.live.n, 0, "{failure:?}");
    }
}

/// A boosted model's trees read the decision's context: a deep queue makes the learned tier
/// wait longer, and its reason names the trees.
#[test]
fn a_boosted_model_reads_the_load_through_its_trees() {
    let clock = ManualClock::shared(at_hour(13.0));
    let policy = long_waits();
    let engine = Engine::with_clock(policy, clock).unwrap();
    let file = ModelFile::from_bytes(&boosted_model().to_bytes()).unwrap();
    engine.set_learned_model("db", &file).unwrap();
    engine.set_rollout("db", RolloutMode::Full).unwrap();
    let delay_at = |depth: u64| {
        let ctx = AttemptContext {
            queue_depth: Some(depth),
            ..Default::default()
        };
        let mut ep = engine.begin_with_context("db", None, ctx).unwrap();
        let rec = engine.on_failure(&mut ep, &Failure::http(503)).unwrap();
        assert_eq!(rec.tier, Tier::Learned, "{rec}");
        (rec.delay.as_secs_f64(), rec.to_string())
    };
    let (shallow, _) = delay_at(20);
    let (deep, text) = delay_at(5000);
    assert!(shallow < 1.0, "{shallow}");
    assert!(deep > 30.0 * shallow.max(0.01), "{deep} vs {shallow}");
    assert!(text.contains("trees"), "{text}");
}

#[test]
fn a_model_failure_falls_back_with_an_event_and_a_metric() {
    let clock = ManualClock::shared(at_hour(12.0));
    let engine = Engine::with_clock(Policy::default(), clock.clone()).unwrap();
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    engine.add_observer(Arc::new(move |e: &Event<'_>| {
        if let Event::Learned { change, to, .. } = e {
            sink.lock().unwrap().push(format!("{change}: {to}"));
        }
    }));
    engine.set_learned_model("db", &window_model()).unwrap();
    engine.set_rollout("db", RolloutMode::Full).unwrap();
    engine.unload_learned_model("db");
    let mut ep = engine.begin("db", None).unwrap();
    let rec = engine.on_failure(&mut ep, &Failure::http(503)).unwrap();
    assert_eq!(rec.tier, Tier::Heuristic, "{rec}");
    assert_eq!(engine.learned_stats().fallbacks, 1);
    let seen = events.lock().unwrap().clone();
    assert!(
        seen.iter().any(|e| e == "fallback: no model loaded"),
        "{seen:?}"
    );
    // A damaged file is refused with INVALID_MODEL and changes nothing.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.srm");
    let mut bytes = window_model().to_bytes();
    let n = bytes.len();
    bytes[n - 3] ^= 1;
    std::fs::write(&path, bytes).unwrap();
    let err = engine.load_learned_model("db", &path).unwrap_err();
    assert_eq!(err.code(), "INVALID_MODEL");
}

/// Jobs whose dependency recovers 2 s after the first failure, every 10 minutes.
fn run_jobs(engine: &Engine, clock: &ManualClock, queue: &str, jobs: usize) -> Vec<Duration> {
    let mut delays = Vec::new();
    for _ in 0..jobs {
        clock.advance(Duration::from_secs(600));
        let start = clock.now();
        let mut ep = engine.begin(queue, None).unwrap();
        loop {
            let up = clock.now().saturating_sub(start) >= Duration::from_secs(2);
            if up && ep.attempts() > 0 {
                engine.on_success(&mut ep).unwrap();
                break;
            }
            let rec = engine.on_failure(&mut ep, &Failure::http(503)).unwrap();
            if !rec.should_retry() {
                break;
            }
            delays.push(rec.delay);
            clock.advance(rec.delay);
        }
    }
    delays
}

/// An engine (seeded with `seed`) running the bad model on queue "q" in `mode`, with rollback
/// bounds a test can reach: 20 episodes a side, 20% regression, `holdout` of full kept live.
fn bad_model_rolled_out(
    seed: u64,
    mode: RolloutMode,
    holdout: f64,
) -> (Engine, std::sync::Arc<ManualClock>) {
    let clock = ManualClock::shared(at_hour(9.0));
    let policy = Policy {
        seed: Some(seed),
        ..Default::default()
    };
    let engine = Engine::with_clock(policy, clock.clone()).unwrap();
    let cfg = RolloutConfig {
        min_episodes: 20,
        rollback_regression: 0.2,
        full_holdout: holdout,
        ..Default::default()
    };
    engine.set_rollout_config("q", cfg).unwrap();
    engine.set_learned_model("q", &bad_model()).unwrap();
    engine.set_rollout("q", mode).unwrap();
    (engine, clock)
}

#[test]
fn a_bad_model_is_rolled_back_automatically_within_the_bound() {
    let (engine, clock) = bad_model_rolled_out(7, RolloutMode::Canary { weight: 0.5 }, 0.0);
    let mut rolled_back_after = None;
    for round in 1..=40 {
        run_jobs(&engine, &clock, "q", 5);
        if engine.rollout_status("q").unwrap().mode == RolloutMode::Off {
            rolled_back_after = Some(round * 5);
            break;
        }
    }
    let jobs = rolled_back_after.expect("the bad canary was never rolled back");
    let status = engine.rollout_status("q").unwrap();
    assert_eq!(status.last_change, "automatic rollback");
    assert_eq!(engine.learned_stats().rollbacks, 1);
    // The bound: rolled back as soon as both arms had their minimum episodes (with a 50%
    // canary, about 2 x 20 jobs), not after the bad model ran on and on.
    assert!(jobs <= 80, "rolled back only after {jobs} jobs");
    // Off means off: the next episode is decided by the live tiers again.
    let mut ep = engine.begin("q", None).unwrap();
    let rec = engine.on_failure(&mut ep, &Failure::http(503)).unwrap();
    assert_ne!(rec.tier, Tier::Learned);
}

#[test]
fn a_bad_model_in_full_is_rolled_back_against_the_episodes_kept_live() {
    let (engine, clock) = bad_model_rolled_out(11, RolloutMode::Full, 0.2);
    let mut live_seen = 0;
    let mut rolled_back_after = None;
    for round in 1..=100 {
        run_jobs(&engine, &clock, "q", 5);
        let status = engine.rollout_status("q").unwrap();
        if status.mode == RolloutMode::Off {
            rolled_back_after = Some(round * 5);
            break;
        }
        live_seen = status.evidence.live.n;
    }
    let jobs = rolled_back_after.expect("the bad model in full was never rolled back");
    assert_eq!(
        engine.rollout_status("q").unwrap().last_change,
        "automatic rollback"
    );
    // A share of full's episodes ran the live tiers (the verdict needs 20 of them; the last
    // count read is from the round before the rollback).
    assert!(
        live_seen >= 10,
        "{live_seen} live episodes before the rollback"
    );
    assert!(jobs <= 250, "rolled back only after {jobs} jobs");
}

#[test]
fn shadow_gathers_evidence_without_changing_decisions_and_promotion_needs_it() {
    let clock = ManualClock::shared(at_hour(9.0));
    let policy = Policy {
        seed: Some(3),
        ..Default::default()
    };
    let engine = Engine::with_clock(policy.clone(), clock.clone()).unwrap();
    let twin_clock = ManualClock::shared(at_hour(9.0));
    let twin = Engine::with_clock(policy, twin_clock.clone()).unwrap();
    engine.set_learned_model("q", &bad_model()).unwrap();
    engine.set_rollout("q", RolloutMode::Shadow).unwrap();
    // No evidence yet: promotion is refused.
    assert!(engine.promote_rollout("q").is_err());
    let shadowed = run_jobs(&engine, &clock, "q", 40);
    // The shadow changed no decision: the same jobs on a twin engine without it get the same
    // delays, to the nanosecond.
    assert_eq!(shadowed, run_jobs(&twin, &twin_clock, "q", 40));
    let s = engine.rollout_status("q").unwrap();
    assert_eq!(s.mode, RolloutMode::Shadow);
    assert_eq!(s.evidence.shadow_diff.n, 40);
    // The bad model's schedule would have cost more: it stays in shadow.
    assert!(s.evidence.shadow_diff.mean > 0.0, "{s:?}");
    assert_eq!(s.verdict, "wait");
    assert!(engine.promote_rollout("q").is_err());
    // Manual rollback.
    engine.rollback_rollout("q").unwrap();
    assert_eq!(engine.rollout_status("q").unwrap().mode, RolloutMode::Off);
}

/// The model files the bindings' tests load (`tests/fixtures/learned/`): the window model, the
/// deliberately bad one, a damaged copy, and the boosted window model (format 2). Regenerate with `SMARTRETRY_WRITE_FIXTURES=1`;
/// otherwise this test fails when they no longer match the code that makes them.
#[test]
fn binding_fixtures_match_the_models_they_stand_for() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/learned");
    let mut damaged = window_model().to_bytes();
    let n = damaged.len();
    damaged[n - 3] ^= 1;
    let files = [
        ("window.srm", window_model().to_bytes()),
        ("bad.srm", bad_model().to_bytes()),
        ("damaged.srm", damaged),
        ("boosted.srm", boosted_model().to_bytes()),
    ];
    for (name, bytes) in files {
        let path = dir.join(name);
        if std::env::var_os("SMARTRETRY_WRITE_FIXTURES").is_some() {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &bytes).unwrap();
        }
        let on_disk = std::fs::read(&path).unwrap_or_default();
        assert!(
            on_disk == bytes,
            "{} is stale: run SMARTRETRY_WRITE_FIXTURES=1 cargo test -p smartretry --test learned_tier",
            path.display()
        );
    }
    assert!(ModelFile::load(&dir.join("window.srm")).is_ok());
    assert!(ModelFile::load(&dir.join("boosted.srm"))
        .unwrap()
        .model
        .is_boosted());
    assert_eq!(
        ModelFile::load(&dir.join("damaged.srm"))
            .unwrap_err()
            .code(),
        "INVALID_MODEL"
    );
}
