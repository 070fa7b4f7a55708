//! The snapshot loader past its checksum. Most inputs are wrapped in a valid envelope (magic,
//! version, CRC-32 and length computed here), so the JSON parser and the range checks are what
//! get exercised; structure-aware inputs build model lists from arbitrary numbers (including
//! 1e308, negatives and subnormals). Whatever loads must merge into an engine, give
//! probabilities in [0, 1], and save into a snapshot that loads again.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Number, Value};
use smartretry::learn::grid::BUCKETS;
use smartretry::{Engine, ErrorClass, Failure, ManualClock, Policy, Snapshot};
use std::time::Duration;

#[derive(Arbitrary, Debug)]
enum Num {
    Small(u16),
    Any(f64),
    Edge(u8),
}

const EDGES: [f64; 12] = [
    0.0,
    -1.0,
    1.0,
    1e9,
    1e12,
    1.000001e12,
    1e30,
    1e308,
    f64::MAX,
    f64::MIN_POSITIVE,
    5e-324,
    -0.0,
];

#[derive(Arbitrary, Debug)]
struct Model {
    key: u8,
    tenant: Option<u8>,
    class: u8,
    episodes: Num,
    survived: Vec<Num>,
    intervals: Vec<(u8, u8, Num)>,
    portfolio: Vec<Num>,
}

#[derive(Arbitrary, Debug)]
enum Input {
    /// Arbitrary bytes as the body of a valid envelope.
    Body(Vec<u8>),
    /// A model list built from arbitrary numbers, in a valid envelope.
    Models(Vec<Model>),
    /// Arbitrary bytes as the whole file (header parsing).
    Whole(Vec<u8>),
}

fn num(n: &Num) -> Value {
    let f = match n {
        Num::Small(v) => f64::from(*v) / 16.0,
        Num::Any(f) => *f,
        Num::Edge(i) => EDGES[usize::from(*i) % EDGES.len()],
    };
    Number::from_f64(f).map_or(Value::Null, Value::Number)
}

fn nums(v: &[Num], len: usize) -> Value {
    let mut out: Vec<Value> = v.iter().take(len).map(num).collect();
    while out.len() < len {
        out.push(json!(0.0));
    }
    Value::Array(out)
}

fn model(m: &Model) -> Value {
    let keys = ["payments", "q", "", "a\u{0}b", "tenant-1"];
    let p = |i: usize| nums(m.portfolio.get(i * 4..).unwrap_or(&[]), 4);
    json!({
        "key": keys[usize::from(m.key) % keys.len()],
        "tenant": m.tenant.map(|t| keys[usize::from(t) % keys.len()]),
        "class": ErrorClass::ALL[usize::from(m.class) % ErrorClass::ALL.len()].as_str(),
        "episodes": num(&m.episodes),
        "survived": nums(&m.survived, BUCKETS),
        "intervals": m.intervals.iter().take(64)
            .map(|(from, to, w)| json!({"from": from, "to": to, "weight": num(w)}))
            .collect::<Vec<_>>(),
        "portfolio": {"n": p(0), "sum": p(1), "sum_sq": p(2), "cost_sum": p(3), "cost_sum_sq": p(4)},
    })
}

fn envelope(body: &[u8]) -> Vec<u8> {
    let crc = crc32fast::hash(body);
    let mut out = format!(
        "smartretry-snapshot v1 crc32={crc:08x} len={}\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

fuzz_target!(|input: Input| {
    let bytes = match &input {
        Input::Body(b) => envelope(b),
        Input::Models(ms) => {
            let models: Vec<Value> = ms.iter().take(8).map(model).collect();
            envelope(json!({ "models": models }).to_string().as_bytes())
        }
        Input::Whole(b) => b.clone(),
    };
    let Ok(snap) = Snapshot::decode(&bytes) else {
        return;
    };
    let clock = ManualClock::shared(Duration::from_secs(1_700_000_000));
    // No classification rules: classes are given, and compiling the default rules' regular
    // expressions per input would dominate the run time.
    let policy = Policy {
        rules: Vec::new(),
        ..Policy::default()
    };
    let Ok(engine) = Engine::with_clock(policy, clock) else {
        return;
    };
    // Twice: the second merge adds to existing models (the range check on merge).
    for _ in 0..2 {
        if engine.try_merge(&snap).is_err() {
            break;
        }
    }
    for m in &snap.models {
        if let Ok(mut ep) = engine.begin(&m.key, m.tenant.as_deref()) {
            let Ok(rec) = engine.on_failure(
                &mut ep,
                &Failure {
                    class: Some(m.class),
                    ..Failure::default()
                },
            ) else {
                continue;
            };
            if let Some(p) = rec.success_probability {
                assert!((0.0..=1.0).contains(&p), "p = {p}");
            }
            if let Some(curve) = engine.recovery_curve(&m.key, m.tenant.as_deref(), m.class) {
                assert!(
                    curve.iter().all(|(_, p)| (0.0..=1.0).contains(p)),
                    "{curve:?}"
                );
            }
        }
    }
    let again = engine.snapshot().encode();
    assert!(
        Snapshot::decode(&again).is_ok(),
        "a merged snapshot must load again"
    );
});
