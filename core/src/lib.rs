//! # smartretry: a retry engine that learns
//!
//! Classifies each failure, learns per (queue, error class[, tenant]) how long the dependency
//! takes to recover, and recommends the next delay (or says stop) with the reason, bounded by
//! guardrails (attempts, delays, deadline, Retry-After, retry budgets, circuit breakers).
//! Pure Rust: bindings live in their own crates and only translate types.
//!
//! ```
//! use smartretry::{Engine, Failure, ManualClock, Policy};
//! use std::time::Duration;
//!
//! let clock = ManualClock::shared(Duration::from_secs(1_700_000_000));
//! let engine = Engine::with_clock(Policy::default(), clock.clone()).unwrap();
//! let mut episode = engine.begin("payments", Some("acme")).unwrap();
//! let rec = engine.on_failure(&mut episode, &Failure::http(503)).unwrap();
//! assert!(rec.should_retry());
//! println!("{rec}"); // retry in 3.1 s [heuristic] unavailable: full jitter backoff ...
//! clock.advance(rec.delay);
//! engine.on_success(&mut episode).unwrap();
//! ```

#![warn(missing_docs)]

mod alternatives;
pub mod breaker;
mod breaker_api;
pub mod budget;
pub mod class;
pub mod classify;
pub mod clock;
mod contention;
mod decide;
pub mod engine;
pub mod episode;
pub mod error;
pub mod failure;
pub mod history;
pub mod learn;
pub mod learned;
pub mod monitor;
pub mod names;
pub mod observe;
pub mod overrides;
mod persist;
mod plans;
pub mod policy;
pub mod policy_layers;
pub mod preset;
pub mod ratelimit;
pub mod recommendation;
mod record;
pub mod retrier;
mod rules;
mod settings;
mod sharded;
pub mod snapshot;
pub mod strategy;
pub mod time;

pub use breaker::{BreakerConfig, BreakerState};
pub use budget::BudgetConfig;
pub use class::{Disposition, ErrorClass};
pub use classify::{Classification, Classifier, Matcher, Rule};
pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use engine::Engine;
pub use episode::{Episode, EpisodeLimits, EpisodeMeta};
pub use error::{Error, Result};
pub use failure::{
    check_grpc_code, check_http_status, parse_retry_after, retry_after_secs, Failure,
    MAX_RETRY_AFTER,
};
pub use history::{AttemptRecord, HistorySink, JsonlHistory};
pub use learn::fork;
pub use learned::{AttemptContext, ModelFile, RolloutConfig, RolloutMode};
pub use observe::{ClampRecord, Event, EventRecord, Observer, Stats};
pub use overrides::Scope;
pub use policy::{ClassPolicy, LearningConfig, Policy, PolicyPatch};
pub use preset::Preset;
pub use ratelimit::{RateLimitConfig, RateLimitState};
pub use recommendation::{
    Action, Alternative, Alternatives, Clamp, Guardrail, Reason, Recommendation, Tier,
};
pub use retrier::{Retrier, RetryError};
pub use snapshot::Snapshot;
pub use strategy::Strategy;

/// The repository README, so that its Rust example is compiled with the doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
