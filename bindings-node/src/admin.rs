//! Engine administration: policy, run-time overrides, snapshots, stats, observers and the
//! dependency breaker calls.

use crate::engine::Engine;
use crate::error::{invalid_argument, OrJs};
use crate::events::JsObserver;
use napi::bindgen_prelude::{Buffer, Function};
use napi_derive::napi;
use smartretry::{BreakerState, ErrorClass, Policy, PolicyPatch, Scope, Snapshot};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;

fn scope(kind: &str, name: String) -> napi::Result<Scope> {
    match kind {
        "queue" => Ok(Scope::Queue(name)),
        "tenant" => Ok(Scope::Tenant(name)),
        other => Err(invalid_argument(format!(
            "scope must be \"queue\" or \"tenant\", not {other:?}"
        ))),
    }
}

fn class_opt(class: Option<String>) -> napi::Result<Option<ErrorClass>> {
    class
        .as_deref()
        .map(crate::failure::parse_class)
        .transpose()
}

#[napi]
impl Engine {
    /// The policy in force, as JSON.
    #[napi]
    pub fn policy_json(&self) -> String {
        self.inner.policy().to_json()
    }

    /// Replace the policy (partial JSON over defaults); validated first, nothing changes on error.
    #[napi]
    pub fn set_policy(&self, policy_json: String) -> napi::Result<()> {
        let policy = Policy::from_json(&policy_json).or_js()?;
        self.inner.set_policy(policy).or_js()
    }

    /// Override part of the policy for a queue or tenant (`scope` "queue" | "tenant"), for one
    /// class or all (`class` null). `patchJson` is a partial class policy, durations in seconds.
    #[napi]
    pub fn set_override(
        &self,
        scope_kind: String,
        name: String,
        error_class: Option<String>,
        patch_json: String,
    ) -> napi::Result<()> {
        let patch = PolicyPatch::from_json(&patch_json).or_js()?;
        self.inner
            .set_override(scope(&scope_kind, name)?, class_opt(error_class)?, patch)
            .or_js()
    }

    /// Remove an override (`class` null: all of the scope's).
    #[napi]
    pub fn clear_override(
        &self,
        scope_kind: String,
        name: String,
        error_class: Option<String>,
    ) -> napi::Result<()> {
        self.inner
            .clear_override(&scope(&scope_kind, name)?, class_opt(error_class)?);
        Ok(())
    }

    /// Every override in force: [{ scope, name, class, patch }].
    #[napi]
    pub fn overrides(&self) -> serde_json::Value {
        let list = self.inner.overrides().into_iter().map(|(s, c, p)| {
            let (kind, name) = match s {
                Scope::Queue(n) => ("queue", n),
                Scope::Tenant(n) => ("tenant", n),
            };
            serde_json::json!({
                "scope": kind,
                "name": name,
                "class": c.map(|c| c.as_str()),
                "patch": p,
            })
        });
        serde_json::Value::Array(list.collect())
    }

    /// The learned models as a snapshot (binary).
    #[napi]
    pub fn snapshot(&self) -> Buffer {
        self.inner.snapshot().encode().into()
    }

    /// Replace the learned models with a snapshot from `snapshot()`.
    #[napi]
    pub fn restore(&self, snapshot: Buffer) -> napi::Result<()> {
        let snap = Snapshot::decode(&snapshot).or_js()?;
        self.inner.try_restore(&snap).or_js()
    }

    /// Merge a snapshot's models into the engine's.
    #[napi]
    pub fn merge(&self, snapshot: Buffer) -> napi::Result<()> {
        let snap = Snapshot::decode(&snapshot).or_js()?;
        self.inner.try_merge(&snap).or_js()
    }

    #[napi]
    pub fn save_snapshot(&self, path: String) -> napi::Result<()> {
        self.inner.save_snapshot(Path::new(&path)).or_js()
    }

    #[napi]
    pub fn load_snapshot(&self, path: String) -> napi::Result<()> {
        self.inner.load_snapshot(Path::new(&path)).or_js()
    }

    #[napi]
    pub fn merge_snapshot(&self, path: String) -> napi::Result<()> {
        self.inner.merge_snapshot(Path::new(&path)).or_js()
    }

    /// Engine-wide counters, in the core's one stats schema (snake_case keys, integers).
    #[napi]
    pub fn stats(&self) -> serde_json::Value {
        self.inner.stats().to_json_value()
    }

    /// Events dropped because the queue to the JS thread held `EVENT_QUEUE_BOUND` already.
    #[napi]
    pub fn dropped_events(&self) -> f64 {
        self.dropped_events.load(Ordering::Relaxed) as f64
    }

    #[napi]
    pub fn reset_stats(&self) {
        self.inner.reset_stats();
    }

    /// Call `callback(event)` for every engine event (the core's event JSON). Delivery is queued
    /// onto the event loop (a bounded ThreadsafeFunction), so the deciding call never waits for
    /// it; the callback does not keep the process alive. The JS layer installs one dispatcher
    /// that catches what its listeners throw.
    #[napi]
    pub fn on_event(&self, callback: Function<serde_json::Value, ()>) -> napi::Result<()> {
        let observer = JsObserver::new(callback, self.dropped_events.clone())
            .map_err(|e| invalid_argument(format!("cannot observe: {e}")))?;
        self.inner.add_observer(Arc::new(observer));
        Ok(())
    }

    /// Remove every event callback.
    #[napi]
    pub fn clear_observers(&self) {
        self.inner.clear_observers();
    }

    /// The state of `dependency`'s circuit breaker now ("closed", "open", "half_open");
    /// "closed" when the policy has no breakers.
    #[napi]
    pub fn breaker_state(&self, dependency: String) -> napi::Result<&'static str> {
        let state = self.inner.breaker_state(&dependency).or_js()?;
        Ok(state.unwrap_or(BreakerState::Closed).as_str())
    }

    /// Report one call's outcome against `dependency` to its circuit breaker, outside any
    /// episode, and return the breaker's state after it.
    #[napi]
    pub fn record_dependency(&self, dependency: String, ok: bool) -> napi::Result<&'static str> {
        let state = self.inner.record_dependency(&dependency, ok).or_js()?;
        Ok(state.unwrap_or(BreakerState::Closed).as_str())
    }
}
