//! Node binding of the smartretry engine (napi-rs v3): translation of types only, no engine
//! logic. Hot-path calls (`onFailure`, `recommend`, `record`, `onSuccess`) are synchronous.

mod admin;
mod clock;
mod engine;
mod episode;
mod error;
mod events;
mod failure;
mod fleet;
mod handles;
mod learned;
mod ops;
mod recommendation;
pub mod registry;
mod schedule;

use napi_derive::napi;

/// The engine version this binding was built with.
#[napi]
pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// How many causes the core reads in one failure's chain (`smartretry::failure::MAX_CAUSES`):
/// the JS layer collects `err.cause` chains up to this, never beyond what the core accepts.
#[napi]
pub fn max_causes() -> u32 {
    smartretry::failure::MAX_CAUSES as u32
}
