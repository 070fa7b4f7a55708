//! One job's retry episode, owned by JS and passed back to the engine on each outcome.

use napi_derive::napi;

/// A job's attempts from the first to success or give-up. Create it with `engine.begin()`.
#[napi]
pub struct Episode {
    pub(crate) inner: smartretry::Episode,
    /// The recommendation that stopped the episode, kept by `onFailureDelayMs` (which answers
    /// only -1) for a caller that must attach it to the error it rethrows.
    pub(crate) stopped_by: Option<Box<smartretry::Recommendation>>,
}

#[napi]
impl Episode {
    #[napi(getter)]
    pub fn key(&self) -> String {
        self.inner.key().to_string()
    }

    #[napi(getter)]
    pub fn tenant(&self) -> Option<String> {
        self.inner.tenant().map(str::to_string)
    }

    /// Attempts so far (failed ones, plus the successful one once recorded).
    #[napi(getter)]
    pub fn attempts(&self) -> u32 {
        self.inner.attempts()
    }

    #[napi(getter)]
    pub fn failures(&self) -> u32 {
        self.inner.failures()
    }

    /// The class of the first failure, if any.
    #[napi(getter)]
    pub fn class(&self) -> Option<&'static str> {
        self.inner.class().map(|c| c.as_str())
    }

    /// Whether the episode ended (success, give-up, escalation or abandon).
    #[napi(getter)]
    pub fn finished(&self) -> bool {
        self.inner.is_finished()
    }

    /// The recommendation that stopped the episode when `onFailureDelayMs` answered -1 (taken:
    /// a second call gives null). Null otherwise.
    #[napi]
    pub fn take_stop_recommendation(&mut self) -> Option<crate::recommendation::Recommendation> {
        self.stopped_by.take().map(|r| (*r).into())
    }

    /// Engine-clock time of the first failure (Unix seconds), if any.
    #[napi(getter)]
    pub fn first_failure_at(&self) -> Option<f64> {
        self.inner.first_failure_at().map(|d| d.as_secs_f64())
    }
}
