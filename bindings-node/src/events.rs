//! Engine events delivered to JS through a bounded ThreadsafeFunction queue. Each event crosses
//! as the core's one event schema (`Event::to_record().to_json_value()`: a `type` tag and
//! snake_case keys), never translated here, so Node logs read like every other language's.
//!
//! The queue is bounded because the engine is usually driven from the JS thread itself: a
//! synchronous loop of a million decisions queues a million events before the event loop can
//! deliver one (900k queued events once took 950 MB). Beyond the bound an event is dropped and
//! counted; observing must never stall or grow a decision.

use napi::bindgen_prelude::Function;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;
use smartretry::{Event, Observer};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Most events waiting for the JS thread at once (documented in the README).
pub(crate) const EVENT_QUEUE_BOUND: usize = 10_000;

type EventFn = ThreadsafeFunction<
    serde_json::Value,
    (),
    serde_json::Value,
    Status,
    false,
    true,
    EVENT_QUEUE_BOUND,
>;

/// Forwards events to one JS dispatcher function; weak, so it never keeps the process alive.
pub(crate) struct JsObserver {
    tsfn: EventFn,
    dropped: Arc<AtomicU64>,
}

impl JsObserver {
    pub(crate) fn new(
        callback: Function<serde_json::Value, ()>,
        dropped: Arc<AtomicU64>,
    ) -> napi::Result<JsObserver> {
        let tsfn = callback
            .build_threadsafe_function::<serde_json::Value>()
            .callee_handled::<false>()
            .weak::<true>()
            .max_queue_size::<EVENT_QUEUE_BOUND>()
            .build()?;
        Ok(JsObserver { tsfn, dropped })
    }
}

impl Observer for JsObserver {
    fn on_event(&self, event: &Event<'_>) {
        let value = event.to_record().to_json_value();
        // NonBlocking: a full queue (or a closing function) answers at once; count the loss.
        if self
            .tsfn
            .call(value, ThreadsafeFunctionCallMode::NonBlocking)
            != Status::Ok
        {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}
