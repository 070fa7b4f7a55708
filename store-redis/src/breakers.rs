//! Circuit breakers shared by a fleet (`FleetConfig::share_breakers`): an engine that opens a
//! dependency's breaker publishes its deadline at the next sync, and every other engine opens
//! its own breaker for that dependency until the same deadline. One script call per sync
//! publishes, expires and reads them all; decisions never wait on it.
//!
//! Deadlines are on the engines' clocks (the system clock in production; one shared
//! `ManualClock` in tests), so hosts' clocks should agree to well within `open_for`.

use crate::config::Keys;
use crate::error::Result;
use crate::remote::Remote;
use smartretry::Engine;
use std::time::Duration;

const SCRIPT: &str = include_str!("breakers_script.lua");
/// The hash is forgotten a day after its last open breaker.
const IDLE_EXPIRY_MS: u64 = 86_400_000;

pub(crate) struct SharedBreakers {
    script: redis::Script,
    /// Breakers this engine opened because of the fleet (counted in stats).
    pub opened: u64,
}

impl SharedBreakers {
    pub fn new() -> SharedBreakers {
        SharedBreakers {
            script: redis::Script::new(SCRIPT),
            opened: 0,
        }
    }

    /// Publish this engine's open breakers and open the fleet's here.
    pub fn sync(&mut self, engine: &Engine, remote: &mut Remote, keys: &Keys) -> Result<()> {
        let now = engine.now();
        let mut invocation = self.script.key(keys.breakers());
        invocation.arg(now.as_micros() as u64).arg(IDLE_EXPIRY_MS);
        for (dependency, until) in engine.open_breakers() {
            invocation.arg(dependency).arg(until.as_micros() as u64);
        }
        let fleet: Vec<(String, u64)> = remote.with(|c| invocation.invoke(c))?;
        for (dependency, until) in fleet {
            // Names come from other engines (validated there); one this engine would refuse
            // is skipped, not an error of the sync.
            if let Ok(true) = engine.open_breaker_until(&dependency, Duration::from_micros(until)) {
                self.opened += 1;
            }
        }
        Ok(())
    }
}
