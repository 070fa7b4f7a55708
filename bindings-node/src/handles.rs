//! Episodes kept on the native side and named by a number, for `retry()`'s hot path. A native
//! `Episode` object costs a class instance, a wrap, a weak reference and a finalizer (about
//! 2 µs, most of a fail-once retry's overhead); a handle is a JS number. `retry()` opens one at
//! the first failure and closes it at the outcome, and turns it into an `Episode` object
//! (`takeEpisode`) only when someone asks for the episode.
//!
//! A handle is its slot's index and the slot's generation, so that a handle used after its
//! episode was closed is `INVALID_STATE`, never another episode.

use crate::engine::{Engine, EpisodeLimits};
use crate::episode::Episode;
use crate::error::{coded, OrJs};
use crate::failure::FailureInput;
use crate::learned::AttemptContext;
use napi_derive::napi;

/// Open handles per engine at most: a caller that never closes its handles gets an error, not
/// unbounded memory.
const MAX_OPEN: usize = 1 << 20;
/// Generations wrap here, so that a handle (generation × 2³² + index) stays an exact JS number.
const GENERATIONS: u32 = 1 << 20;
const INDEX: f64 = 4_294_967_296.0;

#[derive(Default)]
struct Slot {
    generation: u32,
    episode: Option<Episode>,
}

/// The open episodes of one engine.
#[derive(Default)]
pub(crate) struct Handles {
    slots: Vec<Slot>,
    free: Vec<u32>,
}

fn stale(handle: f64) -> napi::Error {
    coded(
        "INVALID_STATE",
        format!("no open episode has handle {handle} (closed, taken, or not from this engine)"),
    )
}

impl Handles {
    pub(crate) fn insert(&mut self, episode: Episode) -> napi::Result<f64> {
        let index = match self.free.pop() {
            Some(i) => i,
            None if self.slots.len() < MAX_OPEN => {
                self.slots.push(Slot::default());
                (self.slots.len() - 1) as u32
            }
            None => {
                return Err(coded(
                    "INVALID_STATE",
                    format!("{MAX_OPEN} episode handles are open: close them (success, abandon)"),
                ))
            }
        };
        let slot = &mut self.slots[index as usize];
        slot.episode = Some(episode);
        Ok(f64::from(slot.generation) * INDEX + f64::from(index))
    }

    fn index(&self, handle: f64) -> napi::Result<usize> {
        if !(handle.is_finite() && handle >= 0.0 && handle.fract() == 0.0) {
            return Err(stale(handle));
        }
        let generation = (handle / INDEX).floor();
        let index = handle - generation * INDEX;
        let slot = self
            .slots
            .get(index as usize)
            .ok_or_else(|| stale(handle))?;
        if f64::from(slot.generation) != generation || slot.episode.is_none() {
            return Err(stale(handle));
        }
        Ok(index as usize)
    }

    pub(crate) fn get(&mut self, handle: f64) -> napi::Result<&mut Episode> {
        let i = self.index(handle)?;
        self.slots[i].episode.as_mut().ok_or_else(|| stale(handle))
    }

    pub(crate) fn remove(&mut self, handle: f64) -> napi::Result<Episode> {
        let i = self.index(handle)?;
        let slot = &mut self.slots[i];
        let episode = slot.episode.take().ok_or_else(|| stale(handle))?;
        slot.generation = (slot.generation + 1) % GENERATIONS;
        self.free.push(i as u32);
        Ok(episode)
    }
}

#[napi]
impl Engine {
    /// `begin`, answering a handle instead of an `Episode` object (see `takeEpisode`).
    #[napi]
    pub fn begin_handle(
        &self,
        key: String,
        tenant: Option<String>,
        limits: Option<EpisodeLimits>,
        context: Option<AttemptContext>,
    ) -> napi::Result<f64> {
        let episode = crate::engine::start(&self.inner, &key, tenant.as_deref(), limits, context)?;
        self.handles.lock().insert(episode)
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
        let h = self.handles.lock();
        (h.slots.len() - h.free.len()) as u32
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
