//! `/rollouts`: the learned tier's rollout per queue. `GET` lists every queue's mode, evidence
//! and verdict with the tier's counters; `PUT` (token) loads a model file for a queue, sets its
//! mode (`off` is the manual rollback), or promotes it one step when the evidence allows.

use crate::routes::Reply;
use serde::Deserialize;
use smartretry::{Engine, RolloutMode};

/// The body of `PUT /rollouts`: any of `model`, `promote`, `mode`, applied in that order.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Change {
    queue: String,
    /// A model file to load for the queue (a path on the engine's machine).
    #[serde(default)]
    model: Option<String>,
    /// Step up one mode, only with evidence.
    #[serde(default)]
    promote: bool,
    /// `off`, `shadow`, `canary:W` or `full`.
    #[serde(default)]
    mode: Option<String>,
}

/// Every queue's rollout and the tier's counters.
pub(crate) fn list(engine: &Engine) -> Reply {
    Reply::json(&serde_json::json!({
        "rollouts": engine.rollouts(),
        "stats": engine.learned_stats(),
    }))
}

/// Apply a change, then list.
pub(crate) fn change(engine: &Engine, body: &str) -> Reply {
    let c: Change = match serde_json::from_str(body) {
        Ok(c) => c,
        Err(e) => return Reply::error(400, "INVALID_JSON", e.to_string()),
    };
    if let Some(path) = &c.model {
        if let Err(e) = engine.load_learned_model(&c.queue, std::path::Path::new(path)) {
            return Reply::core(e);
        }
    }
    if c.promote {
        if let Err(e) = engine.promote_rollout(&c.queue) {
            return Reply::core(e);
        }
    }
    if let Some(mode) = &c.mode {
        let set = RolloutMode::parse(mode).and_then(|m| engine.set_rollout(&c.queue, m));
        if let Err(e) = set {
            return Reply::core(e);
        }
    }
    list(engine)
}
