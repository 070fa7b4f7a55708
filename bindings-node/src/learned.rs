//! The learned tier from Node: the attempt context on episodes, model files and per-queue
//! rollouts. Translation only: the context's rules (`AttemptContext::validate`), the model
//! file's checks, the rollout modes (`RolloutMode::parse`), the rollout bounds
//! (`RolloutConfig::from_json`) and the evidence behind promotion and rollback are the core's.

use crate::engine::Engine;
use crate::episode::Episode;
use crate::error::{engine_error, seconds, OrJs};
use napi_derive::napi;
use smartretry::{Error, RolloutConfig, RolloutMode};
use std::path::Path;

/// What the caller knows about an attempt that the engine cannot see, read by the learned tier
/// as features and recorded with each attempt in the history. Every field is optional; a
/// missing one is a neutral feature. Numbers are JS numbers, checked by the core (a negative,
/// fractional or NaN count is `INVALID_CONFIG`, a bad latency `INVALID_DURATION`), never
/// wrapped or truncated by the conversion.
#[napi(object)]
#[derive(Default, Clone)]
pub struct AttemptContext {
    /// Hour of day, UTC, 0 to < 24 (fractions allowed). Absent: the engine's clock.
    pub hour_of_day: Option<f64>,
    /// Day of week, UTC, 0 = Monday ... 6 = Sunday. Absent: the engine's clock.
    pub day_of_week: Option<f64>,
    /// The job's payload, bytes.
    pub payload_size: Option<f64>,
    /// Jobs waiting in the queue when the attempt ran.
    pub queue_depth: Option<f64>,
    /// The dependency's latest observed latency, in seconds (as every duration of this binding
    /// except the `...Ms` calls).
    pub downstream_latency: Option<f64>,
    /// The version of the worker that runs the attempt.
    pub worker_version: Option<String>,
    /// The tenant the job runs for (when not given to `begin`).
    pub tenant: Option<String>,
}

/// A JS number as a whole count; anything else is the core's `InvalidConfig` naming the field
/// (the code the core's JSON form of a context gives the same value).
fn whole(what: &str, value: Option<f64>) -> napi::Result<Option<u64>> {
    match value {
        None => Ok(None),
        Some(v) if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= 9.007e15 => {
            Ok(Some(v as u64))
        }
        Some(v) => Err(engine_error(Error::InvalidConfig(format!(
            "context {what} must be a whole number >= 0, got {v}"
        )))),
    }
}

impl AttemptContext {
    /// The core's context, validated by the core.
    pub(crate) fn into_core(self) -> napi::Result<smartretry::AttemptContext> {
        // A day beyond 255 is as wrong as 7: the core's check names it.
        let day_of_week =
            whole("day_of_week", self.day_of_week)?.map(|d| u8::try_from(d).unwrap_or(u8::MAX));
        let context = smartretry::AttemptContext {
            hour_of_day: self.hour_of_day,
            day_of_week,
            payload_size: whole("payload_size", self.payload_size)?,
            queue_depth: whole("queue_depth", self.queue_depth)?,
            downstream_latency: self
                .downstream_latency
                .map(|s| seconds("downstream_latency", s))
                .transpose()?,
            worker_version: self.worker_version,
            tenant: self.tenant,
        };
        context.validate().or_js()?;
        Ok(context)
    }

    fn from_core(c: &smartretry::AttemptContext) -> AttemptContext {
        AttemptContext {
            hour_of_day: c.hour_of_day,
            day_of_week: c.day_of_week.map(f64::from),
            payload_size: c.payload_size.map(|n| n as f64),
            queue_depth: c.queue_depth.map(|n| n as f64),
            downstream_latency: c.downstream_latency.map(|d| d.as_secs_f64()),
            worker_version: c.worker_version.clone(),
            tenant: c.tenant.clone(),
        }
    }
}

#[napi]
impl Episode {
    /// Replace the attempt context (e.g. the queue depth before the next attempt): later
    /// attempts are recorded, and decided, with it. Validated by the core; nothing changes on
    /// error.
    #[napi]
    pub fn set_context(&mut self, context: AttemptContext) -> napi::Result<()> {
        self.inner.set_context(context.into_core()?).or_js()
    }

    /// The context given to `begin` or `setContext`, or null.
    #[napi(getter)]
    pub fn context(&self) -> Option<AttemptContext> {
        self.inner.context().map(AttemptContext::from_core)
    }
}

#[napi]
impl Engine {
    /// Load a model file (`.srm`, from `smartretry train`) for `queue`, answering what it says.
    /// A file that cannot be read (`IO`) or checked (`INVALID_MODEL`) leaves the queue's model
    /// as it was. The queue's rollout mode is unchanged (a new queue starts `off`).
    #[napi]
    pub fn load_model(&self, queue: String, path: String) -> napi::Result<serde_json::Value> {
        let file = self
            .inner
            .load_learned_model(&queue, Path::new(&path))
            .or_js()?;
        Ok(file.describe())
    }

    /// Remove `queue`'s model. Its mode stays: decisions the mode gives the learned tier fall
    /// back (Bayesian, heuristic, static), each counted and announced.
    #[napi]
    pub fn unload_model(&self, queue: String) {
        self.inner.unload_learned_model(&queue);
    }

    /// Set `queue`'s rollout by hand: "off", "shadow", "canary:0.2" (or "canary" for 10%),
    /// "full". A mode other than off needs a model loaded (`INVALID_STATE`).
    #[napi]
    pub fn set_rollout(&self, queue: String, mode: String) -> napi::Result<()> {
        let mode = RolloutMode::parse(&mode).or_js()?;
        self.inner.set_rollout(&queue, mode).or_js()
    }

    /// Step `queue` up one mode (shadow → canary → full) when the evidence supports it, answering
    /// the new mode; `INVALID_STATE` with what the evidence says otherwise.
    #[napi]
    pub fn promote_rollout(&self, queue: String) -> napi::Result<String> {
        Ok(self.inner.promote_rollout(&queue).or_js()?.name())
    }

    /// Roll `queue` back to off at once (the manual rollback).
    #[napi]
    pub fn rollback_rollout(&self, queue: String) -> napi::Result<()> {
        self.inner.rollback_rollout(&queue).or_js()
    }

    /// Set `queue`'s promotion and rollback bounds from the core's JSON form (`{"min_episodes":
    /// 20, "z": 1.64, "rollback_regression": 0.1, "auto_promote": false, "canary_weight":
    /// 0.2}`; missing fields take their defaults, unknown ones are refused).
    #[napi]
    pub fn set_rollout_config(&self, queue: String, config_json: String) -> napi::Result<()> {
        let config = RolloutConfig::from_json(&config_json).or_js()?;
        self.inner.set_rollout_config(&queue, config).or_js()
    }

    /// `queue`'s rollout (mode, model loaded, evidence, verdict, why it last changed) as the
    /// core's JSON, or null when the queue has no learned state.
    #[napi]
    pub fn rollout_status(&self, queue: String) -> Option<serde_json::Value> {
        self.inner
            .rollout_status(&queue)
            .map(|s| serde_json::to_value(s).unwrap_or(serde_json::Value::Null))
    }

    /// Every queue's rollout, by name.
    #[napi]
    pub fn rollouts(&self) -> serde_json::Value {
        serde_json::to_value(self.inner.rollouts()).unwrap_or(serde_json::Value::Null)
    }

    /// The learned tier's counters: decisions, shadow episodes, fallbacks, rollbacks,
    /// promotions.
    #[napi]
    pub fn learned_stats(&self) -> serde_json::Value {
        serde_json::to_value(self.inner.learned_stats()).unwrap_or(serde_json::Value::Null)
    }
}
