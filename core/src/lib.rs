//! # smartretry: a retry engine that learns
//!
//! Classifies each failure, learns per (queue, error class) how long the dependency takes to
//! recover, and recommends the next delay (or says stop) with the reason, bounded by guardrails.
//! Pure Rust: bindings live in their own crates and only translate types.

pub mod class;
pub mod clock;
pub mod error;
pub mod strategy;
pub mod time;

pub use class::{Disposition, ErrorClass};
pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use error::{Error, Result};
pub use strategy::Strategy;
