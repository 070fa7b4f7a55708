//! The attempt history carries the features learning will use: calendar, payload size,
//! attempt number, worker version and the caller's downstream latency.

use smartretry::history::{read_history, HistoryOptions};
use smartretry::{Engine, EpisodeMeta, Failure, JsonlHistory, ManualClock, Policy};
use std::sync::Arc;
use std::time::Duration;

#[test]
fn records_carry_the_feature_fields() {
    // 2023-11-14 13:00:00 UTC, a Tuesday.
    let clock = ManualClock::shared(Duration::from_secs(1_699_966_800));
    let engine = Engine::with_clock(Policy::default(), clock.clone()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.jsonl");
    let opts = HistoryOptions {
        worker_version: Some("worker-1.4".into()),
        ..Default::default()
    };
    let sink = Arc::new(JsonlHistory::open(&path, opts).unwrap());
    engine.set_history(Some(sink.clone()));

    let mut ep = engine
        .begin("payments", Some("acme"))
        .unwrap()
        .with_meta(EpisodeMeta {
            payload_size: Some(2048),
            downstream_latency: Some(Duration::from_millis(250)),
            ..Default::default()
        });
    let rec = engine.on_failure(&mut ep, &Failure::http(503)).unwrap();
    clock.advance(rec.delay);
    let mut meta = ep.meta().clone();
    meta.downstream_latency = Some(Duration::from_millis(40));
    ep.set_meta(meta);
    engine.on_success(&mut ep).unwrap();
    engine.flush_history().unwrap();

    let records = read_history(&path).unwrap();
    assert_eq!(records.len(), 2);
    let (first, last) = (&records[0], &records[1]);
    assert_eq!((first.attempt, last.attempt), (1, 2));
    assert_eq!(first.hour_of_day, Some(13));
    assert_eq!(first.day_of_week, Some(1));
    assert_eq!(first.payload_size, Some(2048));
    assert_eq!(first.worker_version.as_deref(), Some("worker-1.4"));
    assert_eq!(first.downstream_latency, Some(0.25));
    assert_eq!(last.downstream_latency, Some(0.04));
    assert_eq!(last.outcome, "success");
}
