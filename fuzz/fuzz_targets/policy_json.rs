//! Policy JSON, as an operator or a binding would pass it. Structure-aware: most inputs are JSON
//! documents built from the policy's own vocabulary (so the deserialiser and the validators are
//! reached, not just the tokenizer), the rest raw text. A policy that parses must also build an
//! engine or fail with a typed error, and that engine must decide without panicking.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Number, Value};
use smartretry::{Engine, Failure, ManualClock, Policy};
use std::time::Duration;

/// Keys and string values a policy uses.
const WORDS: &[&str] = &[
    "classes",
    "deadline",
    "rules",
    "learning",
    "budget",
    "tenant_budget",
    "breaker",
    "seed",
    "timeout",
    "connection",
    "rate_limited",
    "unavailable",
    "server_error",
    "client_error",
    "auth",
    "not_found",
    "validation",
    "conflict",
    "needs_human",
    "cancelled",
    "unknown",
    "max_attempts",
    "min_delay",
    "max_delay",
    "strategy",
    "kind",
    "base",
    "factor",
    "delay",
    "delays",
    "cap",
    "exponential",
    "full_jitter",
    "equal_jitter",
    "decorrelated_jitter",
    "constant",
    "linear",
    "immediate",
    "schedule",
    "disposition",
    "retry",
    "give_up",
    "escalate",
    "honor_retry_after",
    "first_retry_immediate",
    "learn",
    "enabled",
    "min_episodes",
    "max_models",
    "exploration",
    "portfolio",
    "per_tenant",
    "half_life_episodes",
    "prior_strength",
    "failure_cost",
    "horizon",
    "grpc",
    "aws_standard",
    "ratio",
    "max_tokens",
    "token_ratio",
    "capacity",
    "retry_cost",
    "timeout_cost",
    "throttling_cost",
    "no_retry_increment",
    "min_per_sec",
    "consecutive_failures",
    "failure_ratio",
    "window",
    "min_throughput",
    "open_for",
    "half_open_probes",
    "name",
    "class",
    "http_status",
    "from",
    "to",
    "grpc_code",
    "codes",
    "error_code",
    "names",
    "exception",
    "contains",
    "message",
    "pattern",
    "ECONNRESET",
    "(?i)timeout",
    "[",
    "",
];

#[derive(Arbitrary, Debug)]
enum Num {
    Small(u8),
    Int(i64),
    Float(f64),
    Edge(u8),
}

#[derive(Arbitrary, Debug)]
enum Text {
    Word(u8),
    Raw(String),
}

#[derive(Arbitrary, Debug)]
enum Json {
    Null,
    Bool(bool),
    Num(Num),
    Str(Text),
    Arr(Vec<Json>),
    Obj(Vec<(Text, Json)>),
}

#[derive(Arbitrary, Debug)]
enum Input {
    Structured(Vec<(Text, Json)>),
    Raw(String),
}

const EDGES: [f64; 12] = [
    0.0,
    -1.0,
    0.5,
    1.0,
    2.0,
    1000.0,
    1001.0,
    1e9,
    1e12,
    1e13,
    1e308,
    f64::MIN_POSITIVE,
];

fn text(t: Text) -> String {
    match t {
        Text::Word(i) => WORDS[usize::from(i) % WORDS.len()].to_string(),
        Text::Raw(s) => s,
    }
}

fn num(n: Num) -> Value {
    let f = match n {
        Num::Small(v) => return Value::Number(Number::from(v)),
        Num::Int(v) => return Value::Number(Number::from(v)),
        Num::Float(f) => f,
        Num::Edge(i) => EDGES[usize::from(i) % EDGES.len()],
    };
    Number::from_f64(f).map_or(Value::Null, Value::Number)
}

fn value(j: Json, depth: u32) -> Value {
    if depth > 12 {
        return Value::Null;
    }
    match j {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(b),
        Json::Num(n) => num(n),
        Json::Str(t) => Value::String(text(t)),
        Json::Arr(items) => Value::Array(items.into_iter().map(|v| value(v, depth + 1)).collect()),
        Json::Obj(fields) => object(fields, depth + 1),
    }
}

fn object(fields: Vec<(Text, Json)>, depth: u32) -> Value {
    let mut map = Map::new();
    for (k, v) in fields {
        map.insert(text(k), value(v, depth));
    }
    Value::Object(map)
}

fuzz_target!(|input: Input| {
    let json = match input {
        Input::Structured(fields) => object(fields, 0).to_string(),
        Input::Raw(s) => s,
    };
    let Ok(policy) = Policy::from_json(&json) else {
        return;
    };
    let clock = ManualClock::shared(Duration::from_secs(1_700_000_000));
    let Ok(engine) = Engine::with_clock(policy, clock.clone()) else {
        return;
    };
    for f in [
        Failure::http(503),
        Failure::error_code("ETIMEDOUT"),
        Failure::http(429),
    ] {
        let Ok(mut ep) = engine.begin("q", Some("t")) else {
            return;
        };
        let _ = engine.preview("q", Some("t"), &f, 4);
        let Ok(rec) = engine.on_failure(&mut ep, &f) else {
            continue;
        };
        if rec.should_retry() {
            clock.advance(rec.delay.min(Duration::from_secs(1 << 32)));
            let _ = engine.on_success(&mut ep);
        }
    }
});
