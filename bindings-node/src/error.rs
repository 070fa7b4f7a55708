//! Engine errors for JS. napi-rs return values carry a fixed `Status`, so the engine's stable
//! code travels as a `[CODE] ` prefix of the message; the JS layer turns it into a
//! `SmartRetryError` whose `code` is that code (INVALID_KEY, INVALID_STATE, ...).

pub(crate) fn coded(code: &str, message: impl std::fmt::Display) -> napi::Error {
    napi::Error::new(napi::Status::InvalidArg, format!("[{code}] {message}"))
}

/// The engine's error with its code.
pub fn engine_error(err: smartretry::Error) -> napi::Error {
    coded(err.code(), err)
}

/// An argument the engine never sees because it cannot be translated.
pub fn invalid_argument(message: impl std::fmt::Display) -> napi::Error {
    coded("INVALID_ARGUMENT", message)
}

/// Converts engine results into binding results.
pub trait OrJs<T> {
    fn or_js(self) -> napi::Result<T>;
}

impl<T> OrJs<T> for smartretry::Result<T> {
    fn or_js(self) -> napi::Result<T> {
        self.map_err(engine_error)
    }
}

/// Seconds (a JS number) as a Duration, validated by the engine's rule.
pub fn seconds(what: &'static str, value: f64) -> napi::Result<std::time::Duration> {
    smartretry::time::secs(what, value).or_js()
}
