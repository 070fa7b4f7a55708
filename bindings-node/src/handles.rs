//! Episodes kept on the native side and named by a number, for `retry()`'s hot path. A native
//! `Episode` object costs a class instance, a wrap, a weak reference and a finalizer (about
//! 2 µs, most of a fail-once retry's overhead); a handle is a JS number. `retry()` opens one at
//! the first failure (in the same call that records it) and closes it at the outcome, and turns
//! it into an `Episode` object (`takeEpisode`) only when someone asks for the episode.
//!
//! The caller names the handle (`lib/engine.cjs` counts them, never reusing a number), so that
//! the call that opens it can answer the first failure's delay instead of the handle. A number
//! already open is refused, and one that was closed is no longer known: a handle used after its
//! episode was closed is `INVALID_STATE`, never another episode.

use crate::engine::{Engine, EpisodeLimits};
use crate::episode::Episode;
use crate::error::{coded, OrJs};
use crate::failure::FailureInput;
use crate::learned::AttemptContext;
use napi_derive::napi;
use std::collections::HashMap;

/// Open handles per engine at most: a caller that never closes its handles gets an error, not
/// unbounded memory.
const MAX_OPEN: usize = 1 << 20;
/// Handles are whole numbers from 1 below this (exact JS numbers).
const MAX_HANDLE: f64 = 9_007_199_254_740_992.0;

/// The open episodes of one engine, by handle.
#[derive(Default)]
pub(crate) struct Handles {
    open: HashMap<u64, Episode, foldhash::fast::FixedState>,
}

fn stale(handle: f64) -> napi::Error {
    coded(
        "INVALID_STATE",
        format!("no open episode has handle {handle} (closed, taken, or not from this engine)"),
    )
}

fn key_of(handle: f64) -> Option<u64> {
    (handle.fract() == 0.0 && (1.0..MAX_HANDLE).contains(&handle)).then_some(handle as u64)
}

impl Handles {
    /// Check that `handle` can be opened: a whole number from 1, not open, room left.
    fn check_new(&self, handle: f64) -> napi::Result<u64> {
        let Some(k) = key_of(handle) else {
            return Err(crate::error::invalid_argument(format!(
                "an episode handle is a whole number from 1 below 2^53, not {handle}"
            )));
        };
        if self.open.contains_key(&k) {
            return Err(coded(
                "INVALID_STATE",
                format!("handle {handle} is already open"),
            ));
        }
        if self.open.len() >= MAX_OPEN {
            return Err(coded(
                "INVALID_STATE",
                format!("{MAX_OPEN} episode handles are open: close them (success, abandon)"),
            ));
        }
        Ok(k)
    }

    /// Open `handle` on the episode `make` starts (checked first: nothing is started for a
    /// handle that cannot open); answers what `make` answers beside the episode.
    pub(crate) fn open_with<T>(
        &mut self,
        handle: f64,
        make: impl FnOnce() -> napi::Result<(Episode, T)>,
    ) -> napi::Result<T> {
        let k = self.check_new(handle)?;
        let (episode, out) = make()?;
        self.open.insert(k, episode);
        Ok(out)
    }

    pub(crate) fn get(&mut self, handle: f64) -> napi::Result<&mut Episode> {
        key_of(handle)
            .and_then(|k| self.open.get_mut(&k))
            .ok_or_else(|| stale(handle))
    }

    pub(crate) fn remove(&mut self, handle: f64) -> napi::Result<Episode> {
        key_of(handle)
            .and_then(|k| self.open.remove(&k))
            .ok_or_else(|| stale(handle))
    }
}

#[napi]
impl Engine {
    /// `begin`, opening the episode under the caller's `handle` instead of answering an
    /// `Episode` object (see `takeEpisode`).
    #[napi]
    pub fn begin_handle(
        &self,
        handle: f64,
        key: String,
        tenant: Option<String>,
        limits: Option<EpisodeLimits>,
        context: Option<AttemptContext>,
    ) -> napi::Result<()> {
        self.handles.lock().open_with(handle, || {
            let episode =
                crate::engine::start(&self.inner, &key, tenant.as_deref(), limits, context)?;
            Ok((episode, ()))
        })
    }

    /// `onPlainFailureDelayMs` on a handle: milliseconds, or -1 when the engine says stop (then
    /// `takeEpisode(handle).takeStopRecommendation()` has the recommendation).
    #[napi]
    pub fn on_plain_failure_delay_ms_handle(
        &self,
        handle: f64,
        status: Option<f64>,
        code: Option<String>,
        exception: Option<String>,
        message: Option<String>,
        dependency: Option<String>,
    ) -> napi::Result<f64> {
        let failure = FailureInput::plain(status, code, exception, message, dependency);
        self.on_failure_delay_ms_handle(handle, failure)
    }

    /// `onFailureDelayMs` on a handle.
    #[napi]
    pub fn on_failure_delay_ms_handle(
        &self,
        handle: f64,
        failure: FailureInput,
    ) -> napi::Result<f64> {
        fail_handle(&self.inner, &self.handles, handle, failure)
    }

    /// `onSuccess` on a handle, which it closes.
    #[napi]
    pub fn on_success_handle(&self, handle: f64, dependency: Option<String>) -> napi::Result<()> {
        succeed_handle(&self.inner, &self.handles, handle, dependency.as_deref())
    }

    /// `abandon` on a handle, which it closes; false (and nothing done) if it was not open.
    #[napi]
    pub fn abandon_handle(&self, handle: f64) -> bool {
        match self.handles.lock().remove(handle) {
            Ok(mut episode) => {
                self.inner.abandon(&mut episode.inner);
                true
            }
            Err(_) => false,
        }
    }

    /// `episode.setContext` on a handle.
    #[napi]
    pub fn set_context_handle(&self, handle: f64, context: AttemptContext) -> napi::Result<()> {
        let context = context.into_core()?;
        let mut handles = self.handles.lock();
        handles.get(handle)?.inner.set_context(context).or_js()
    }

    /// The handle's episode as an `Episode` object; the handle is closed (use the object from
    /// now on).
    #[napi]
    pub fn take_episode(&self, handle: f64) -> napi::Result<Episode> {
        self.handles.lock().remove(handle)
    }

    /// Handles open now (tests: `retry()` leaves none behind).
    #[napi]
    pub fn open_handles(&self) -> u32 {
        self.handles.lock().open.len() as u32
    }
}

/// A failure on an open handle: the wait in milliseconds, or -1 to stop (by method or by the
/// engine's number).
pub(crate) fn fail_handle(
    engine: &smartretry::Engine,
    handles: &parking_lot::Mutex<Handles>,
    handle: f64,
    failure: FailureInput,
) -> napi::Result<f64> {
    let mut handles = handles.lock();
    crate::engine::fail_delay_ms(engine, handles.get(handle)?, failure)
}

/// Open `handle` on `key` and record its first failure, a plain one: the wait in milliseconds,
/// or -1 to stop (`retry()`'s first failure, one call instead of two). Nothing is opened when
/// the failure or the handle is refused.
pub(crate) fn begin_fail_handle(
    engine: &smartretry::Engine,
    handles: &parking_lot::Mutex<Handles>,
    handle: f64,
    key: &str,
    failure: FailureInput,
) -> napi::Result<f64> {
    let failure = crate::failure::to_failure(failure, &|| engine.now())?;
    handles.lock().open_with(handle, || {
        let mut episode = crate::engine::start(engine, key, None, None, None)?;
        let rec = engine.on_failure(&mut episode.inner, &failure).or_js()?;
        let ms = crate::engine::delay_or_stop(&mut episode, rec);
        Ok((episode, ms))
    })
}

/// A success on an open handle, which it closes.
pub(crate) fn succeed_handle(
    engine: &smartretry::Engine,
    handles: &parking_lot::Mutex<Handles>,
    handle: f64,
    dependency: Option<&str>,
) -> napi::Result<()> {
    crate::engine::check_dependency(dependency)?;
    let mut episode = handles.lock().remove(handle)?;
    engine
        .on_success_from(&mut episode.inner, dependency)
        .or_js()
}
