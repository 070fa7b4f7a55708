//! Engine events delivered to a JS callback through a ThreadsafeFunction (queued onto the event
//! loop, never blocking the deciding call), and the breaker states the events report.

use napi::bindgen_prelude::Function;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;
use napi_derive::napi;
use parking_lot::Mutex;
use smartretry::{BreakerState, Event, Observer};
use std::collections::HashMap;

/// One engine event. `kind` is "attempt", "decision", "success", "exhausted", "breaker" or
/// "clamp"; the other fields are set when they apply.
#[napi(object)]
#[derive(Default)]
pub struct EngineEvent {
    pub kind: String,
    pub key: Option<String>,
    pub tenant: Option<String>,
    pub class: Option<String>,
    pub attempt: Option<u32>,
    /// Seconds since the episode's first failure.
    pub elapsed: Option<f64>,
    /// The recommendation as JSON (decision, exhausted).
    pub recommendation: Option<serde_json::Value>,
    pub dependency: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub guardrail: Option<String>,
}

fn translate(event: &Event<'_>) -> EngineEvent {
    let s = |v: &str| Some(v.to_string());
    let rec = |r: &smartretry::Recommendation| serde_json::to_value(r).ok();
    match *event {
        Event::Attempt {
            key,
            tenant,
            class,
            attempt,
            elapsed,
        } => EngineEvent {
            kind: "attempt".into(),
            key: s(key),
            tenant: tenant.and_then(s),
            class: s(class.as_str()),
            attempt: Some(attempt),
            elapsed: Some(elapsed.as_secs_f64()),
            ..Default::default()
        },
        Event::Decision {
            key,
            tenant,
            recommendation,
        } => EngineEvent {
            kind: "decision".into(),
            key: s(key),
            tenant: tenant.and_then(s),
            class: s(recommendation.class.as_str()),
            attempt: Some(recommendation.attempt),
            recommendation: rec(recommendation),
            ..Default::default()
        },
        Event::Success {
            key,
            tenant,
            attempts,
            elapsed,
        } => EngineEvent {
            kind: "success".into(),
            key: s(key),
            tenant: tenant.and_then(s),
            attempt: Some(attempts),
            elapsed: Some(elapsed.as_secs_f64()),
            ..Default::default()
        },
        Event::Exhausted {
            key,
            tenant,
            recommendation,
        } => EngineEvent {
            kind: "exhausted".into(),
            key: s(key),
            tenant: tenant.and_then(s),
            class: s(recommendation.class.as_str()),
            attempt: Some(recommendation.attempt),
            recommendation: rec(recommendation),
            ..Default::default()
        },
        Event::Breaker {
            dependency,
            from,
            to,
        } => EngineEvent {
            kind: "breaker".into(),
            dependency: s(dependency),
            from: s(from.as_str()),
            to: s(to.as_str()),
            ..Default::default()
        },
        Event::Clamp { key, clamp } => EngineEvent {
            kind: "clamp".into(),
            key: s(key),
            guardrail: s(clamp.guardrail.as_str()),
            ..Default::default()
        },
    }
}

type EventFn = ThreadsafeFunction<EngineEvent, (), EngineEvent, Status, false, true>;

/// Forwards events to a JS function; weak, so it never keeps the process alive.
pub(crate) struct JsObserver {
    tsfn: EventFn,
}

impl JsObserver {
    pub(crate) fn new(callback: Function<EngineEvent, ()>) -> napi::Result<JsObserver> {
        let tsfn = callback
            .build_threadsafe_function::<EngineEvent>()
            .callee_handled::<false>()
            .weak::<true>()
            .build()?;
        Ok(JsObserver { tsfn })
    }
}

impl Observer for JsObserver {
    fn on_event(&self, event: &Event<'_>) {
        // A full or closing queue drops the event: observing must never stall a decision.
        let _ = self
            .tsfn
            .call(translate(event), ThreadsafeFunctionCallMode::NonBlocking);
    }
}

/// The last state each dependency's breaker reported through its transition events.
#[derive(Default)]
pub(crate) struct BreakerStates {
    states: Mutex<HashMap<String, BreakerState>>,
}

impl BreakerStates {
    pub(crate) fn get(&self, dependency: &str) -> BreakerState {
        self.states
            .lock()
            .get(dependency)
            .copied()
            .unwrap_or(BreakerState::Closed)
    }
}

impl Observer for BreakerStates {
    fn on_event(&self, event: &Event<'_>) {
        if let Event::Breaker { dependency, to, .. } = *event {
            self.states.lock().insert(dependency.to_string(), to);
        }
    }
}
