//! The learned tier's state in an engine: per queue, the loaded model, its rollout mode and the
//! evidence gathered, plus the queue's recent outcome rates (features). Nothing here is touched
//! while no queue has a model in a mode other than `off`: the default path pays one atomic load.

use super::model::LogisticModel;
use super::rollout::{Evidence, RolloutConfig, RolloutMode, Verdict};
use parking_lot::{Mutex, RwLock};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// Weight of the newest outcome in the recent rates (about the last 50 outcomes).
pub const RECENT_WEIGHT: f64 = 0.02;
/// Most queues with learned-tier state (a queue beyond it is refused with an error).
pub const MAX_QUEUES: usize = 4096;

/// Which schedule an episode runs under the learned tier's rollout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EpisodeArm {
    /// The live tiers decide; the learned tier only watches (shadow) or is the other arm.
    Live,
    /// The live tiers decide; the learned schedule is priced counterfactually at the end.
    Shadow,
    /// The learned tier decides.
    Learned,
}

/// One queue's learned-tier state.
#[derive(Debug, Clone)]
pub(crate) struct QueueState {
    pub model: Option<Arc<LogisticModel>>,
    pub mode: RolloutMode,
    pub config: RolloutConfig,
    pub evidence: Evidence,
    /// Recent share of failed attempts.
    pub recent_failure_rate: f64,
    /// Recent share of episodes that ended in success.
    pub similar_success_rate: f64,
    /// Why the mode last changed.
    pub last_change: &'static str,
}

impl Default for QueueState {
    fn default() -> Self {
        QueueState {
            model: None,
            mode: RolloutMode::Off,
            config: RolloutConfig::default(),
            evidence: Evidence::default(),
            recent_failure_rate: 0.5,
            similar_success_rate: 0.5,
            last_change: "never set",
        }
    }
}

/// Counters of the learned tier (cumulative, engine-wide).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LearnedStats {
    /// Decisions the learned tier made.
    pub decisions: u64,
    /// Episodes priced in shadow.
    pub shadow_episodes: u64,
    /// Decisions where the model failed and the chain fell back (Bayesian, heuristic, static).
    pub fallbacks: u64,
    /// Automatic rollbacks.
    pub rollbacks: u64,
    /// Automatic promotions.
    pub promotions: u64,
}

/// A queue's rollout as reported to operators.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RolloutStatus {
    /// The queue.
    pub queue: String,
    /// Its mode.
    pub mode: RolloutMode,
    /// Whether a model is loaded for it.
    pub model_loaded: bool,
    /// The evidence since the mode last changed.
    pub evidence: Evidence,
    /// What the evidence says now: "wait", "promote" or "rollback".
    pub verdict: &'static str,
    /// Why the mode last changed ("operator", "automatic promotion", "automatic rollback", ...).
    pub last_change: &'static str,
}

/// The learned tier's state in one engine.
#[derive(Debug, Default)]
pub(crate) struct LearnedTier {
    /// True while some queue has a mode other than `off`.
    active: AtomicBool,
    queues: RwLock<HashMap<Arc<str>, Arc<Mutex<QueueState>>>>,
    draws: AtomicU64,
    pub decisions: AtomicU64,
    pub shadow_episodes: AtomicU64,
    pub fallbacks: AtomicU64,
    pub rollbacks: AtomicU64,
    pub promotions: AtomicU64,
}

fn verdict_name(v: Verdict) -> &'static str {
    match v {
        Verdict::Wait => "wait",
        Verdict::Promote => "promote",
        Verdict::Rollback => "rollback",
    }
}

impl LearnedTier {
    #[inline]
    pub fn is_active(&self) -> bool {
        self.active.load(Ordering::Acquire)
    }

    pub fn queue(&self, key: &str) -> Option<Arc<Mutex<QueueState>>> {
        self.queues.read().get(key).cloned()
    }

    /// The queue's state, created on first use (bounded).
    pub fn queue_or_insert(&self, key: &str) -> crate::error::Result<Arc<Mutex<QueueState>>> {
        if let Some(q) = self.queue(key) {
            return Ok(q);
        }
        let mut map = self.queues.write();
        if map.len() >= MAX_QUEUES && !map.contains_key(key) {
            return Err(crate::error::Error::InvalidState(format!(
                "the learned tier tracks at most {MAX_QUEUES} queues"
            )));
        }
        Ok(map.entry(Arc::from(key)).or_default().clone())
    }

    /// Recompute whether any queue is on.
    pub fn refresh_active(&self) {
        let on = self
            .queues
            .read()
            .values()
            .any(|q| q.lock().mode != RolloutMode::Off);
        self.active.store(on, Ordering::Release);
    }

    /// A uniform draw in [0, 1) that touches no episode's generator (so that turning the tier
    /// on for one queue leaves every other decision's jitter as it was).
    pub fn draw(&self, salt: u64) -> f64 {
        let mut z = self
            .draws
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_add(salt)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn stats(&self) -> LearnedStats {
        LearnedStats {
            decisions: self.decisions.load(Ordering::Relaxed),
            shadow_episodes: self.shadow_episodes.load(Ordering::Relaxed),
            fallbacks: self.fallbacks.load(Ordering::Relaxed),
            rollbacks: self.rollbacks.load(Ordering::Relaxed),
            promotions: self.promotions.load(Ordering::Relaxed),
        }
    }

    pub fn status(&self, key: &str) -> Option<RolloutStatus> {
        let q = self.queue(key)?;
        let q = q.lock();
        Some(status_of(key, &q))
    }

    pub fn statuses(&self) -> Vec<RolloutStatus> {
        let map = self.queues.read();
        let mut out: Vec<RolloutStatus> =
            map.iter().map(|(k, q)| status_of(k, &q.lock())).collect();
        out.sort_by(|a, b| a.queue.cmp(&b.queue));
        out
    }
}

fn status_of(key: &str, q: &QueueState) -> RolloutStatus {
    RolloutStatus {
        queue: key.to_string(),
        mode: q.mode,
        model_loaded: q.model.is_some(),
        evidence: q.evidence,
        verdict: verdict_name(q.evidence.verdict(q.mode, &q.config)),
        last_change: q.last_change,
    }
}

impl QueueState {
    /// Change mode; the evidence starts over (it was gathered under the old mode), except that
    /// a promotion to full keeps the live mean as the baseline full is held to.
    pub fn set_mode(&mut self, mode: RolloutMode, why: &'static str) {
        let baseline = (mode == RolloutMode::Full)
            .then(|| (self.evidence.live.n > 0).then_some(self.evidence.live.mean))
            .flatten()
            .or(self.evidence.baseline);
        self.mode = mode;
        self.evidence = Evidence {
            baseline,
            ..Evidence::default()
        };
        self.last_change = why;
    }

    /// Count an attempt's outcome in the recent rates.
    pub fn observe_attempt(&mut self, failed: bool) {
        let x = if failed { 1.0 } else { 0.0 };
        self.recent_failure_rate += RECENT_WEIGHT * (x - self.recent_failure_rate);
    }

    /// Count an episode's end in the recent rates.
    pub fn observe_episode(&mut self, succeeded: bool) {
        let x = if succeeded { 1.0 } else { 0.0 };
        self.similar_success_rate += RECENT_WEIGHT * (x - self.similar_success_rate);
    }

    /// The step the evidence asks for, if any: automatic rollback always, promotion only when
    /// the configuration allows it. Returns what changed.
    pub fn act_on_evidence(&mut self) -> Option<Verdict> {
        match self.evidence.verdict(self.mode, &self.config) {
            Verdict::Rollback => {
                let inconclusive = matches!(self.mode, RolloutMode::Canary { .. })
                    && !self.evidence.canary_regressed(&self.config);
                let why = if inconclusive {
                    "canary inconclusive"
                } else {
                    "automatic rollback"
                };
                self.set_mode(RolloutMode::Off, why);
                Some(Verdict::Rollback)
            }
            Verdict::Promote if self.config.auto_promote => {
                let next = match self.mode {
                    RolloutMode::Shadow => RolloutMode::Canary {
                        weight: self.config.canary_weight,
                    },
                    _ => RolloutMode::Full,
                };
                self.set_mode(next, "automatic promotion");
                Some(Verdict::Promote)
            }
            _ => None,
        }
    }
}
