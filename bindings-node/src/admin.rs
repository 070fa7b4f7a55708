//! Engine administration: policy, run-time overrides, snapshots, stats, observers and the
//! dependency breaker calls.

use crate::engine::Engine;
use crate::error::{engine_error, invalid_argument, OrJs};
use crate::events::{BreakerStates, EngineEvent, JsObserver};
use napi::bindgen_prelude::{Buffer, Function};
use napi_derive::napi;
use smartretry::{ErrorClass, Failure, Policy, PolicyPatch, Scope, Snapshot};
use std::path::Path;
use std::sync::Arc;

/// Engine-wide counters for dashboards.
#[napi(object)]
pub struct Stats {
    pub episodes: f64,
    pub failures: f64,
    pub successes: f64,
    pub successes_after_retry: f64,
    pub first_retry_successes: f64,
    pub retries: f64,
    pub give_ups: f64,
    pub escalations: f64,
    pub guardrail_clamps: f64,
    pub budget_denials: f64,
    pub breaker_delays: f64,
    pub decisions_heuristic: f64,
    pub decisions_bayesian: f64,
    pub decisions_operator: f64,
    pub decisions_guardrail: f64,
    pub fallbacks: f64,
    pub models: f64,
}

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
        let patch: PolicyPatch = serde_json::from_str(&patch_json)
            .map_err(|e| engine_error(smartretry::Error::from(e)))?;
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
        self.inner.restore(&snap);
        Ok(())
    }

    /// Merge a snapshot's models into the engine's.
    #[napi]
    pub fn merge(&self, snapshot: Buffer) -> napi::Result<()> {
        let snap = Snapshot::decode(&snapshot).or_js()?;
        self.inner.merge(&snap);
        Ok(())
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

    #[napi]
    pub fn stats(&self) -> Stats {
        let s = self.inner.stats();
        Stats {
            episodes: s.episodes as f64,
            failures: s.failures as f64,
            successes: s.successes as f64,
            successes_after_retry: s.successes_after_retry as f64,
            first_retry_successes: s.first_retry_successes as f64,
            retries: s.retries as f64,
            give_ups: s.give_ups as f64,
            escalations: s.escalations as f64,
            guardrail_clamps: s.guardrail_clamps as f64,
            budget_denials: s.budget_denials as f64,
            breaker_delays: s.breaker_delays as f64,
            decisions_heuristic: s.decisions_heuristic as f64,
            decisions_bayesian: s.decisions_bayesian as f64,
            decisions_operator: s.decisions_operator as f64,
            decisions_guardrail: s.decisions_guardrail as f64,
            fallbacks: s.fallbacks as f64,
            models: s.models as f64,
        }
    }

    #[napi]
    pub fn reset_stats(&self) {
        self.inner.reset_stats();
    }

    /// Call `callback(event)` for every engine event. Delivery is queued onto the event loop
    /// (a ThreadsafeFunction), so the deciding call never waits for it; the callback does not
    /// keep the process alive.
    #[napi]
    pub fn on_event(&self, callback: Function<EngineEvent, ()>) -> napi::Result<()> {
        let observer = JsObserver::new(callback)
            .map_err(|e| invalid_argument(format!("cannot observe: {e}")))?;
        self.inner.add_observer(Arc::new(observer));
        Ok(())
    }

    /// Remove every event callback.
    #[napi]
    pub fn clear_observers(&self) {
        self.inner.clear_observers();
        if let Some(b) = self.breakers.get() {
            self.inner.add_observer(b.clone());
        }
    }

    fn breaker_states(&self) -> &Arc<BreakerStates> {
        self.breakers.get_or_init(|| {
            let b = Arc::new(BreakerStates::default());
            self.inner.add_observer(b.clone());
            b
        })
    }

    /// The state of `dependency`'s circuit breaker as its last transition reported it
    /// ("closed", "open", "half_open"); "closed" when it never moved.
    #[napi]
    pub fn breaker_state(&self, dependency: String) -> &'static str {
        self.breaker_states().get(&dependency).as_str()
    }

    /// Report one call's outcome against `dependency` to its circuit breaker (through a
    /// one-attempt episode keyed by the dependency) and return the breaker's state after it.
    #[napi]
    pub fn record_dependency(&self, dependency: String, ok: bool) -> napi::Result<&'static str> {
        let states = self.breaker_states().clone();
        let mut ep = self.inner.begin(&dependency, None).or_js()?;
        if ok {
            self.inner
                .on_success_from(&mut ep, Some(&dependency))
                .or_js()?;
        } else {
            let failure = Failure::class(ErrorClass::Cancelled).on_dependency(dependency.as_str());
            self.inner.record_failure(&mut ep, &failure).or_js()?;
            self.inner.abandon(&mut ep);
        }
        Ok(states.get(&dependency).as_str())
    }
}
