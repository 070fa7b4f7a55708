//! `FleetStore`: an engine joining a fleet through Redis (the `smartretry-redis` crate); this
//! file only translates arguments, results and errors.

use crate::engine::Engine;
use crate::error::{engine_error, seconds};
use napi_derive::napi;
use parking_lot::Mutex;
use smartretry_redis::{FleetConfig, FleetError};

fn fleet_error(err: FleetError) -> napi::Error {
    let coded =
        |code: &str, m: String| napi::Error::new(napi::Status::InvalidArg, format!("[{code}] {m}"));
    match err {
        FleetError::InvalidConfig(_) => coded("INVALID_CONFIG", err.to_string()),
        FleetError::Redis(_) => coded("FLEET_UNAVAILABLE", err.to_string()),
        FleetError::Core(core) => engine_error(core),
    }
}

/// How an engine joins a fleet (durations in seconds).
#[napi(object)]
pub struct FleetOptions {
    pub namespace: Option<String>,
    pub sync_interval: Option<f64>,
    pub sync_after_episodes: Option<u32>,
    pub io_timeout: Option<f64>,
    pub engine_id: Option<String>,
    /// Sync on a background thread (default); false: call `syncNow()`.
    pub background: Option<bool>,
    /// Share the policy's retry budgets with a fleet of about this many processes.
    pub share_budgets: Option<u32>,
    /// Share open circuit breakers with the fleet.
    pub share_breakers: Option<bool>,
}

/// What the store has done so far.
#[napi(object)]
pub struct FleetStats {
    pub syncs: f64,
    pub failures: f64,
    pub pushes: f64,
    pub peers: u32,
    pub rejected: f64,
    /// Leasing rounds of shared budgets answered.
    pub budget_rounds: f64,
    /// Breakers opened here because another engine opened them.
    pub breakers_opened: f64,
    pub last_error: Option<String>,
}

/// An engine's membership in a fleet pooling what it learns through Redis.
#[napi]
pub struct FleetStore {
    inner: Mutex<Option<smartretry_redis::FleetStore>>,
}

impl FleetStore {
    fn with<T>(&self, f: impl FnOnce(&smartretry_redis::FleetStore) -> T) -> napi::Result<T> {
        match self.inner.lock().as_ref() {
            Some(store) => Ok(f(store)),
            None => Err(engine_error(smartretry::Error::InvalidState(
                "the fleet store is closed".into(),
            ))),
        }
    }
}

#[napi]
impl FleetStore {
    /// Join `engine` to the fleet at `url` (`redis://` or `rediss://`, with auth).
    #[napi(constructor)]
    pub fn new(engine: &Engine, url: String, options: Option<FleetOptions>) -> napi::Result<Self> {
        let o = options.unwrap_or(FleetOptions {
            namespace: None,
            sync_interval: None,
            sync_after_episodes: None,
            io_timeout: None,
            engine_id: None,
            background: None,
            share_budgets: None,
            share_breakers: None,
        });
        let mut config = FleetConfig::new(&url);
        if let Some(ns) = o.namespace {
            config.namespace = ns;
        }
        if let Some(s) = o.sync_interval {
            config.sync_interval = seconds("syncInterval", s)?;
        }
        if let Some(n) = o.sync_after_episodes {
            config.sync_after_episodes = u64::from(n);
        }
        if let Some(s) = o.io_timeout {
            config.io_timeout = seconds("ioTimeout", s)?;
        }
        config.engine_id = o.engine_id;
        config.share_budgets = o.share_budgets;
        config.share_breakers = o.share_breakers.unwrap_or(false);
        let store = if o.background.unwrap_or(true) {
            smartretry_redis::FleetStore::attach(&engine.inner, config)
        } else {
            smartretry_redis::FleetStore::attach_manual(&engine.inner, config)
        }
        .map_err(fleet_error)?;
        Ok(FleetStore {
            inner: Mutex::new(Some(store)),
        })
    }

    /// Push this engine's evidence and merge the fleet's, now.
    #[napi]
    pub fn sync_now(&self) -> napi::Result<()> {
        self.with(|s| s.sync_now())?.map_err(fleet_error)
    }

    /// This engine's id in the fleet.
    #[napi(getter)]
    pub fn engine_id(&self) -> napi::Result<String> {
        self.with(smartretry_redis::FleetStore::engine_id)
    }

    #[napi]
    pub fn stats(&self) -> napi::Result<FleetStats> {
        let s = self.with(smartretry_redis::FleetStore::stats)?;
        Ok(FleetStats {
            syncs: s.syncs as f64,
            failures: s.failures as f64,
            pushes: s.pushes as f64,
            peers: u32::try_from(s.peers).unwrap_or(u32::MAX),
            rejected: s.rejected as f64,
            budget_rounds: s.budget_rounds as f64,
            breakers_opened: s.breakers_opened as f64,
            last_error: s.last_error,
        })
    }

    /// Stop syncing (the background thread is joined). Idempotent.
    #[napi]
    pub fn close(&self) {
        let store = self.inner.lock().take();
        drop(store);
    }
}
