//! Classification and the decision that follows, on failures built from arbitrary fields (any
//! status, code, errno name, exception type, message, Retry-After, class and dependency), with
//! the default rules and with arbitrary extra rules. Nothing may panic.
//!
//! The default classifier and the engine are built once (compiling the default rules' regular
//! expressions per input would cost 99% of the time); the engine's state carries over between
//! inputs, bounded by its own limits.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use smartretry::{Classifier, Engine, ErrorClass, Failure, ManualClock, Matcher, Policy, Rule};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

static DEFAULT: LazyLock<Option<Classifier>> =
    LazyLock::new(|| Classifier::new(Classifier::default_rules()).ok());

static ENGINE: LazyLock<Option<(Engine, Arc<ManualClock>)>> = LazyLock::new(|| {
    let mut policy = Policy::default();
    policy.breaker = Some(Default::default());
    let clock = ManualClock::shared(Duration::from_secs(1_700_000_000));
    Engine::with_clock(policy, clock.clone())
        .ok()
        .map(|e| (e, clock))
});

#[derive(Arbitrary, Debug)]
struct FuzzFailure {
    http_status: Option<u16>,
    grpc_code: Option<u32>,
    error_code: Option<String>,
    exception: Option<String>,
    message: Option<String>,
    retry_after: Option<(u64, u32)>,
    class: Option<u8>,
    dependency: Option<String>,
}

#[derive(Arbitrary, Debug)]
enum FuzzMatcher {
    Http(u16, u16),
    Grpc(Vec<u32>),
    Errno(Vec<String>),
    Exception(Vec<String>),
    Message(String),
}

#[derive(Arbitrary, Debug)]
struct Input {
    failure: FuzzFailure,
    rules: Vec<(FuzzMatcher, u8)>,
    breaker: bool,
}

fn class(code: u8) -> ErrorClass {
    ErrorClass::ALL[usize::from(code) % ErrorClass::ALL.len()]
}

fuzz_target!(|input: Input| {
    let f = input.failure;
    let failure = Failure {
        http_status: f.http_status,
        grpc_code: f.grpc_code,
        error_code: f.error_code,
        exception: f.exception,
        message: f.message,
        retry_after: f
            .retry_after
            .map(|(s, n)| Duration::new(s % (1 << 40), n % 1_000_000_000)),
        class: f.class.map(class),
        dependency: f.dependency,
        causes: Vec::new(),
    };
    if let Some(c) = DEFAULT.as_ref() {
        let _ = c.classify(&failure);
    }
    if !input.rules.is_empty() {
        let rules: Vec<Rule> = input
            .rules
            .into_iter()
            .take(8)
            .map(|(m, c)| {
                let matcher = match m {
                    FuzzMatcher::Http(from, to) => Matcher::HttpStatus { from, to },
                    FuzzMatcher::Grpc(codes) => Matcher::GrpcCode { codes },
                    FuzzMatcher::Errno(names) => Matcher::ErrorCode { names },
                    FuzzMatcher::Exception(contains) => Matcher::Exception { contains },
                    FuzzMatcher::Message(pattern) => Matcher::Message { pattern },
                };
                Rule::new("fuzz", matcher, class(c))
            })
            .collect();
        if let Ok(c) = Classifier::new(rules) {
            let _ = c.classify(&failure);
        }
        return;
    }
    let Some((engine, clock)) = ENGINE.as_ref() else {
        return;
    };
    let _ = engine.classify(&failure);
    let tenant = if input.breaker { Some("t") } else { None };
    let Ok(mut ep) = engine.begin("q", tenant) else {
        return;
    };
    let _ = engine.recommend(&ep, &failure);
    // A failure the core refuses is a typed error, and exactly the one `validate` refuses.
    let rec = match engine.on_failure(&mut ep, &failure) {
        Ok(rec) => rec,
        Err(e) => {
            assert!(failure.validate().is_err(), "refused a valid failure: {e}");
            return;
        }
    };
    if rec.should_retry() {
        clock.advance(rec.delay.min(Duration::from_secs(1 << 32)));
        let _ = engine.on_success(&mut ep);
    }
    let _ = rec.to_string();
});
