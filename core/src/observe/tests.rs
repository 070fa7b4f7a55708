//! The event and stats schema, checked on events from a real engine.

use super::*;
use crate::{Engine, Failure, ManualClock, Policy};
use parking_lot::Mutex;
use serde_json::Value;
use std::sync::Arc;

fn events_of(run: impl FnOnce(&Engine)) -> Vec<Value> {
    let clock = ManualClock::shared(Duration::from_secs(1_700_000_000));
    let engine = Engine::with_clock(Policy::default(), clock).unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    engine.add_observer(Arc::new(move |e: &Event<'_>| {
        let v = e.to_json_value();
        assert_eq!(v["type"], e.event_type());
        sink.lock().push(v)
    }));
    run(&engine);
    let out = seen.lock().clone();
    out
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

#[test]
fn events_have_one_schema() {
    let events = events_of(|e| {
        let mut ep = e.begin("payments", None).unwrap();
        e.on_failure(&mut ep, &Failure::http(503)).unwrap();
        e.on_success(&mut ep).unwrap();
        let mut ep = e.begin("payments", Some("acme")).unwrap();
        e.on_failure(&mut ep, &Failure::http(401)).unwrap();
    });
    let types: Vec<&str> = events.iter().map(|v| v["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "attempt",
            "decision",
            "success",
            "attempt",
            "decision",
            "exhausted"
        ]
    );
    assert_eq!(
        keys(&events[0]),
        ["attempt", "class", "elapsed", "key", "tenant", "type"]
    );
    assert_eq!(events[0]["tenant"], Value::Null, "tenant is always present");
    assert_eq!(events[0]["class"], "unavailable");
    assert_eq!(
        keys(&events[1]),
        [
            "attempt",
            "class",
            "elapsed",
            "key",
            "recommendation",
            "tenant",
            "type"
        ]
    );
    assert_eq!(events[1]["recommendation"]["action"], "retry");
    assert_eq!(
        keys(&events[2]),
        ["attempt", "elapsed", "key", "tenant", "type"]
    );
    assert_eq!(events[4]["tenant"], "acme");
    assert_eq!(events[5]["recommendation"]["action"], "give_up");
    for v in &events {
        let back: EventRecord = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(&back.to_json_value(), v, "round trip");
    }
}

#[test]
fn breaker_and_clamp_records() {
    let b = EventRecord::Breaker {
        dependency: "db".into(),
        from: "closed".into(),
        to: "open".into(),
    };
    let json = b.to_json();
    assert_eq!(
        json,
        r#"{"type":"breaker","dependency":"db","from":"closed","to":"open"}"#
    );
    let c: EventRecord = serde_json::from_str(
        r#"{"type":"clamp","key":"q","clamp":{"guardrail":"max_delay","from":90.0,"to":60.0}}"#,
    )
    .unwrap();
    assert_eq!(c.event_type(), "clamp");
    // old binding spellings are not the schema
    assert!(serde_json::from_str::<EventRecord>(
        r#"{"type":"attempt","key":"q","tenant":null,"error_class":"timeout","attempt":1,"elapsed":0}"#
    )
    .is_err());
}

#[test]
fn stats_round_trip() {
    let s = Stats {
        episodes: 3,
        retries: 2,
        models: 1,
        ..Stats::default()
    };
    let v = s.to_json_value();
    assert_eq!(v["episodes"], 3);
    assert_eq!(v.as_object().unwrap().len(), 18);
    assert_eq!(serde_json::from_value::<Stats>(v).unwrap(), s);
}
