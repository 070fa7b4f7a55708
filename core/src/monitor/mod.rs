//! The operator's view of a live engine: an observer that keeps the recent decisions with their
//! reasons (a bounded ring) and the metrics an SRE watches (decisions by tier, recommendation
//! latency, clamps by kind, fallbacks, calls avoided against the class's static schedule, time
//! to success, calibration and drift per model), rendered as Prometheus text or JSON.
//! No networking here: `smartretry-admin` serves it.

mod calibration;
mod explain;
mod histogram;
mod models;
mod prometheus;
mod recent;
#[cfg(test)]
mod tests;

pub use calibration::Calibration;
pub use explain::{Explanation, TierProposal};
pub use histogram::Histogram;
pub use models::{model_view, model_views, ModelView, PlanStep};
pub use recent::RecentDecision;

use crate::class::ErrorClass;
use crate::engine::{Engine, Inner};
use crate::observe::{Event, Observer};
use crate::recommendation::{Reason, Tier};
use parking_lot::Mutex;
use recent::Pending;
use std::cell::Cell;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Instant;

/// Decisions kept in the ring unless the caller asks otherwise.
pub const DEFAULT_RECENT: usize = 256;
/// Models (key, class) tracked for calibration; beyond it new ones are not tracked.
const MAX_MODELS: usize = 512;
/// (key, tenant) pairs with retries in flight tracked for pairing a prediction with its outcome.
const MAX_PENDING_KEYS: usize = 4096;
/// Predictions in flight kept per (key, tenant).
const MAX_PENDING_PER_KEY: usize = 64;

/// Recommendation latency buckets, seconds.
const LATENCY_BUCKETS: [f64; 12] = [
    1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 5e-3, 2.5e-2,
];
/// Time-to-success buckets, seconds since the episode's first failure.
const SUCCESS_BUCKETS: [f64; 11] = [
    0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0,
];

thread_local! {
    /// When this thread began recording a failure (the Attempt event), with the key's hash and
    /// the attempt number, so that only that failure's own decision takes it.
    static STARTED: Cell<Option<(Instant, u64, u32)>> = const { Cell::new(None) };
}

fn key_hash(key: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut h);
    h.finish()
}

#[derive(Default)]
struct State {
    recent: VecDeque<RecentDecision>,
    by_tier: BTreeMap<&'static str, u64>,
    actions: BTreeMap<&'static str, u64>,
    clamps: BTreeMap<&'static str, u64>,
    fallbacks: u64,
    latency: Option<Histogram>,
    time_to_success: Option<Histogram>,
    /// Per class: retries the class's static schedule would have made minus those made, summed
    /// where positive (`avoided`) and where negative (`extra`).
    avoided: BTreeMap<ErrorClass, (u64, u64)>,
    calibration: BTreeMap<(String, ErrorClass), Calibration>,
    pending: HashMap<(String, Option<String>), VecDeque<Pending>>,
}

/// Watches one engine. Attach it with [`Monitor::attach`]; it costs one lock per event while
/// attached, nothing otherwise.
pub struct Monitor {
    engine: Weak<Inner>,
    capacity: usize,
    /// Cleared by `detach`: the engine keeps its observers, so a detached monitor ignores events.
    active: AtomicBool,
    state: Mutex<State>,
}

impl Monitor {
    /// Watch `engine`, keeping its last `recent` decisions (at least 1).
    pub fn attach(engine: &Engine, recent: usize) -> Arc<Monitor> {
        let monitor = Arc::new(Monitor {
            engine: Arc::downgrade(&engine.inner),
            capacity: recent.clamp(1, 100_000),
            active: AtomicBool::new(true),
            state: Mutex::new(State {
                latency: Some(Histogram::new(&LATENCY_BUCKETS)),
                time_to_success: Some(Histogram::new(&SUCCESS_BUCKETS)),
                ..Default::default()
            }),
        });
        engine.add_observer(monitor.clone());
        monitor
    }

    /// Stop watching (the figures so far stay readable).
    pub fn detach(&self) {
        self.active.store(false, Ordering::Release);
    }

    /// The last decisions, newest first, at most `limit`.
    pub fn recent(&self, limit: usize) -> Vec<RecentDecision> {
        let s = self.state.lock();
        s.recent.iter().rev().take(limit).cloned().collect()
    }

    /// Calibration per model (key, class).
    pub fn calibration(&self) -> Vec<(String, ErrorClass, Calibration)> {
        let s = self.state.lock();
        s.calibration
            .iter()
            .map(|((k, c), cal)| (k.clone(), *c, *cal))
            .collect()
    }

    fn engine(&self) -> Option<Engine> {
        self.engine.upgrade().map(|inner| Engine { inner })
    }

    fn on_decision(&self, key: &str, tenant: Option<&str>, rec: &crate::Recommendation) {
        let latency = STARTED
            .with(|s| s.take())
            .filter(|(_, k, a)| *a == rec.attempt && *k == key_hash(key))
            .map(|(t, _, _)| t.elapsed().as_secs_f64());
        let now = self.engine().map(|e| e.now().as_secs_f64()).unwrap_or(0.0);
        let mut s = self.state.lock();
        *s.by_tier.entry(rec.tier.as_str()).or_default() += 1;
        *s.actions.entry(rec.action.as_str()).or_default() += 1;
        if matches!(rec.reason, Reason::Learning { .. }) && rec.tier != Tier::Guardrail {
            s.fallbacks += 1;
        }
        if let (Some(l), Some(h)) = (latency, s.latency.as_mut()) {
            h.observe(l);
        }
        if rec.should_retry() {
            let pkey = (key.to_string(), tenant.map(str::to_string));
            if s.pending.len() < MAX_PENDING_KEYS || s.pending.contains_key(&pkey) {
                let q = s.pending.entry(pkey).or_default();
                if q.len() >= MAX_PENDING_PER_KEY {
                    q.pop_front();
                }
                q.push_back(Pending {
                    class: rec.class,
                    probability: rec.success_probability,
                    last_failure: rec.elapsed.as_secs_f64(),
                });
            }
        }
        if s.recent.len() >= self.capacity {
            s.recent.pop_front();
        }
        s.recent
            .push_back(RecentDecision::new(now, key, tenant, rec.clone()));
    }

    /// A retry's outcome: score the prediction made for it, and on success count the calls the
    /// static schedule would have made.
    fn on_outcome(&self, key: &str, tenant: Option<&str>, success: bool, attempt: u32, t: f64) {
        let pkey = (key.to_string(), tenant.map(str::to_string));
        let mut s = self.state.lock();
        let Some(q) = s.pending.get_mut(&pkey) else {
            return;
        };
        let pending = q.pop_front();
        if q.is_empty() {
            s.pending.remove(&pkey);
        }
        let Some(p) = pending else { return };
        if let Some(prob) = p.probability {
            let mkey = (key.to_string(), p.class);
            if s.calibration.len() < MAX_MODELS || s.calibration.contains_key(&mkey) {
                s.calibration
                    .entry(mkey)
                    .or_default()
                    .observe(prob, success);
            }
        }
        if success {
            if let Some(h) = s.time_to_success.as_mut() {
                h.observe(t);
            }
            drop(s);
            let Some(static_attempts) = self.static_attempts(key, tenant, p.class, p.last_failure)
            else {
                return;
            };
            let mut s = self.state.lock();
            let entry = s.avoided.entry(p.class).or_default();
            if static_attempts >= attempt {
                entry.0 += u64::from(static_attempts - attempt);
            } else {
                entry.1 += u64::from(attempt - static_attempts);
            }
        }
    }

    /// Attempts the class's static schedule (with the overrides in force) would have needed to
    /// succeed, given that the dependency was still down at `last_failure` seconds: the first
    /// attempt after it. A lower bound, so calls avoided are never overstated.
    fn static_attempts(
        &self,
        key: &str,
        tenant: Option<&str>,
        class: ErrorClass,
        last_failure: f64,
    ) -> Option<u32> {
        let engine = self.engine()?;
        let policy = engine.policy();
        let base = policy.class(class);
        let overrides = engine.inner.overrides.load();
        let (cp, fixed) = overrides.resolve(&base, key, tenant, class);
        let mut at = 0.0;
        let mut previous = std::time::Duration::ZERO;
        // Attempt 1 is the first failure, at 0; retry r is attempt r + 1.
        for retry in 1..cp.max_attempts.max(1) {
            let d = fixed.unwrap_or_else(|| cp.nominal_retry_delay(retry, previous));
            previous = d;
            at += d.as_secs_f64();
            if at > last_failure {
                return Some(retry + 1);
            }
        }
        // The static schedule would have given up first: nothing to compare.
        None
    }
}

impl Observer for Monitor {
    fn on_event(&self, event: &Event<'_>) {
        if !self.active.load(Ordering::Acquire) {
            return;
        }
        match *event {
            Event::Attempt {
                key,
                tenant,
                attempt,
                ..
            } => {
                STARTED.with(|s| s.set(Some((Instant::now(), key_hash(key), attempt))));
                if attempt > 1 {
                    self.on_outcome(key, tenant, false, attempt, 0.0);
                }
            }
            Event::Decision {
                key,
                tenant,
                recommendation,
            } => self.on_decision(key, tenant, recommendation),
            Event::Success {
                key,
                tenant,
                attempts,
                elapsed,
            } if attempts > 1 => {
                self.on_outcome(key, tenant, true, attempts, elapsed.as_secs_f64())
            }
            Event::Clamp { clamp, .. } => {
                *self
                    .state
                    .lock()
                    .clamps
                    .entry(clamp.guardrail.as_str())
                    .or_default() += 1;
            }
            _ => {}
        }
    }
}
