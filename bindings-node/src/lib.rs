//! Node binding of the smartretry engine (napi-rs v3): translation of types only, no engine
//! logic. Hot-path calls (`onFailure`, `recommend`, `record`, `onSuccess`) are synchronous.

mod admin;
mod clock;
mod engine;
mod episode;
mod error;
mod events;
mod failure;
mod recommendation;

use napi_derive::napi;

/// The engine version this binding was built with.
#[napi]
pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}
