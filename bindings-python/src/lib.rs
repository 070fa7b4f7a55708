//! Language binding of the smartretry engine: translation of types only, no engine logic.

/// The engine version this binding was built with.
pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}
