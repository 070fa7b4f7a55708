//! The trainer on a history written by a real engine: a nightly window (02:00-02:20 UTC) during
//! which every attempt fails, and short outages (2 s) at other hours.

use smartretry::history::{read_history, HistoryOptions};
use smartretry::learned::features::{FeatureInput, TOD0};
use smartretry::{Clock, Engine, Failure, JsonlHistory, ManualClock, Policy};
use smartretry_train::{train, train_report, Algo, TrainError, TrainOptions};
use std::sync::Arc;
use std::time::Duration;

/// Midnight UTC, 2023-11-14 (a Tuesday).
const DAY0: f64 = 1_699_920_000.0;

fn history(dir: &std::path::Path, jobs: u32) -> std::path::PathBuf {
    let clock = ManualClock::shared(Duration::from_secs_f64(DAY0));
    let mut policy = Policy {
        seed: Some(11),
        deadline: Some(Duration::from_secs(10_800)),
        ..Default::default()
    };
    // Retry until the deadline, as the simulator's engine does.
    for cp in policy.classes.values_mut() {
        cp.max_attempts = u32::MAX;
    }
    let engine = Engine::with_clock(policy, clock.clone()).unwrap();
    let path = dir.join("h.jsonl");
    let sink = Arc::new(JsonlHistory::open(&path, HistoryOptions::default()).unwrap());
    engine.set_history(Some(sink));
    for i in 0..jobs {
        // Every other job starts inside the window, on successive days.
        let day = DAY0 + f64::from(i / 2) * 86_400.0;
        let start = if i % 2 == 0 {
            day + 2.0 * 3600.0 + f64::from(i % 19) * 60.0
        } else {
            day + 9.0 * 3600.0 + f64::from(i % 7) * 600.0
        };
        clock.set(Duration::from_secs_f64(start));
        let window_end = day + 2.0 * 3600.0 + 1200.0;
        let up_at = if i % 2 == 0 { window_end } else { start + 2.0 };
        let mut ep = engine.begin("db", None).unwrap();
        loop {
            let now = clock.now().as_secs_f64();
            if ep.attempts() > 0 && now >= up_at {
                engine.on_success(&mut ep).unwrap();
                break;
            }
            let rec = engine.on_failure(&mut ep, &Failure::http(503)).unwrap();
            if !rec.should_retry() {
                break;
            }
            clock.advance(rec.delay);
        }
    }
    engine.flush_history().unwrap();
    path
}

#[test]
fn a_history_trains_a_model_that_knows_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let records = read_history(&history(dir.path(), 160)).unwrap();
    let opts = TrainOptions {
        failure_cost: 10.0,
        horizon: 10_800.0,
        folds: 2,
        ..Default::default()
    };
    // `auto` (the default): both algorithms evaluated alike, one kept.
    let report = train_report(records, &opts);
    let algos: Vec<Algo> = report.candidates.iter().map(|c| c.algo).collect();
    assert_eq!(algos, [Algo::Logistic, Algo::Boosted]);
    for c in &report.candidates {
        assert!(
            c.metrics.cv_auc > 0.5 && c.metrics.holdout_log_loss > 0.0,
            "{c:?}"
        );
        assert!(c.algo == Algo::Boosted || !c.model.is_boosted());
    }
    let file = match report.result {
        Ok(f) => f,
        Err(TrainError::Refused(m)) => panic!("refused: {m:?}"),
        Err(e) => panic!("{e}"),
    };
    let kept = report
        .candidates
        .iter()
        .find(|c| Some(c.algo) == report.chosen)
        .unwrap();
    assert_eq!(kept.metrics, file.metrics);
    assert_eq!(kept.model, file.model);
    // The trees ship only when they win the holdout clearly.
    if file.model.is_boosted() {
        let logistic = &report.candidates[0].metrics;
        assert!(
            file.metrics.holdout_j_learned
                < (1.0 - smartretry_train::BOOST_MARGIN) * logistic.holdout_j_learned
        );
    }
    let m = &file.metrics;
    assert!(m.cv_auc > 0.9 && m.holdout_auc > 0.9, "{m:?}");
    assert!(m.cv_brier < 0.1, "{m:?}");
    assert!(m.holdout_j_learned <= m.holdout_j_baseline, "{m:?}");
    // In the window the model expects failure; after it, success.
    let w = &file.model.weights;
    assert!(
        w[TOD0 + 25] < w[TOD0 + 28],
        "02:05 {} vs 02:20 {}",
        w[TOD0 + 25],
        w[TOD0 + 28]
    );
    let at = |sod: f64| FeatureInput {
        elapsed: 300.0,
        delay: 60.0,
        attempt: 4,
        second_of_day: sod,
        day_of_week: 2,
        ..Default::default()
    };
    let (inside, after) = (
        file.model.predict(&at(2.0 * 3600.0 + 600.0)),
        file.model.predict(&at(2.0 * 3600.0 + 1500.0)),
    );
    assert!(inside < after, "02:10 {inside} vs 02:25 {after}");
    // The file round-trips through its bytes.
    let back = smartretry::ModelFile::from_bytes(&file.to_bytes()).unwrap();
    assert_eq!(back.model.weights, file.model.weights);
    assert_eq!(back.model.trees, file.model.trees);
}

#[test]
fn too_little_history_is_an_error_not_a_model() {
    let dir = tempfile::tempdir().unwrap();
    let records = read_history(&history(dir.path(), 4)).unwrap();
    assert!(matches!(
        train(records, &TrainOptions::default()),
        Err(TrainError::Data(_))
    ));
}
