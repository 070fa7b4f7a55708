//! The engine's learned-tier methods: context on episodes, model loading, rollout control, and
//! the hooks the decision pipeline and the outcome recorders call.

use super::context::AttemptContext;
use super::counterfactual::learned_cost;
use super::features::FeatureInput;
use super::file::ModelFile;
use super::rollout::{RolloutConfig, RolloutMode, Verdict};
use super::tier::{EpisodeArm, LearnedStats, QueueState, RolloutStatus};
use crate::engine::Engine;
use crate::episode::{Episode, EpisodeState, EpisodeView, Identity};
use crate::error::{Error, Result};
use crate::observe::Event;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;

impl Engine {
    /// `begin`, with the attempt's context for the learned tier and the attempt history
    /// (validated: an hour outside [0, 24), a day outside 0-6 or a bad name is an error).
    pub fn begin_with_context(
        &self,
        key: &str,
        tenant: Option<&str>,
        context: AttemptContext,
    ) -> Result<Episode> {
        context.validate()?;
        let mut ep = self.begin(key, tenant)?;
        ep.id.context = Some(Box::new(context));
        Ok(ep)
    }

    /// Use this model for `queue` (its rollout mode is unchanged; a new queue starts `off`).
    pub fn set_learned_model(&self, queue: &str, file: &ModelFile) -> Result<()> {
        crate::names::check_name("queue", queue)?;
        let q = self.inner.learned.queue_or_insert(queue)?;
        q.lock().model = Some(Arc::new(file.model.clone()));
        Ok(())
    }

    /// Load a model file for `queue`. A file that cannot be read or checked is an error
    /// (`Io`, `InvalidModel`) and leaves the queue's current model in place.
    pub fn load_learned_model(&self, queue: &str, path: &Path) -> Result<ModelFile> {
        let file = ModelFile::load(path)?;
        self.set_learned_model(queue, &file)?;
        Ok(file)
    }

    /// Remove `queue`'s model. Its mode stays: decisions that the mode gives to the learned tier
    /// fall back (Bayesian, heuristic, static), each counted and announced, until a model is
    /// loaded again or the queue is rolled back.
    pub fn unload_learned_model(&self, queue: &str) {
        if let Some(q) = self.inner.learned.queue(queue) {
            q.lock().model = None;
        }
    }

    /// Set `queue`'s rollout mode by hand (an operator's promotion or rollback). The evidence
    /// starts over. A mode other than `off` needs a model loaded for the queue.
    pub fn set_rollout(&self, queue: &str, mode: RolloutMode) -> Result<()> {
        crate::names::check_name("queue", queue)?;
        mode.validate()?;
        let q = self.inner.learned.queue_or_insert(queue)?;
        {
            let mut s = q.lock();
            if mode != RolloutMode::Off && s.model.is_none() {
                return Err(Error::InvalidState(format!(
                    "no learned model is loaded for queue {queue:?}"
                )));
            }
            let from = s.mode.name();
            s.set_mode(mode, "operator");
            self.emit_learned(queue, "mode", &from, &mode.name());
        }
        self.inner.learned.refresh_active();
        Ok(())
    }

    /// Step `queue` up one mode (shadow → canary → full) only if the evidence supports it:
    /// otherwise `InvalidState` with what the evidence says.
    pub fn promote_rollout(&self, queue: &str) -> Result<RolloutMode> {
        let q = self
            .inner
            .learned
            .queue(queue)
            .ok_or_else(|| Error::InvalidState(format!("queue {queue:?} has no rollout")))?;
        let mut s = q.lock();
        let verdict = s.evidence.verdict(s.mode, &s.config);
        if verdict != Verdict::Promote {
            return Err(Error::InvalidState(format!(
                "no evidence for promoting {queue:?} from {} yet ({} live, {} learned, {} shadow episodes)",
                s.mode.name(),
                s.evidence.live.n,
                s.evidence.learned.n,
                s.evidence.shadow_diff.n
            )));
        }
        let next = match s.mode {
            RolloutMode::Shadow => RolloutMode::Canary {
                weight: s.config.canary_weight,
            },
            _ => RolloutMode::Full,
        };
        let from = s.mode.name();
        s.set_mode(next, "operator promotion");
        self.emit_learned(queue, "promotion", &from, &next.name());
        Ok(next)
    }

    /// Roll `queue` back to `off` at once (the manual rollback).
    pub fn rollback_rollout(&self, queue: &str) -> Result<()> {
        self.set_rollout(queue, RolloutMode::Off)
    }

    /// Set `queue`'s promotion and rollback bounds.
    pub fn set_rollout_config(&self, queue: &str, config: RolloutConfig) -> Result<()> {
        crate::names::check_name("queue", queue)?;
        config.validate()?;
        let q = self.inner.learned.queue_or_insert(queue)?;
        q.lock().config = config;
        Ok(())
    }

    /// `queue`'s rollout: mode, evidence, verdict (None if the queue has no learned state).
    pub fn rollout_status(&self, queue: &str) -> Option<RolloutStatus> {
        self.inner.learned.status(queue)
    }

    /// Every queue's rollout, by name.
    pub fn rollouts(&self) -> Vec<RolloutStatus> {
        self.inner.learned.statuses()
    }

    /// The learned tier's counters: decisions, shadow episodes, fallbacks, rollbacks, promotions.
    pub fn learned_stats(&self) -> LearnedStats {
        self.inner.learned.stats()
    }

    pub(crate) fn emit_learned(&self, key: &str, change: &'static str, from: &str, to: &str) {
        self.emit(Event::Learned {
            key,
            change,
            from,
            to,
        });
    }

    /// The model failed on a decision: count it, say so, and let the chain fall through.
    pub(crate) fn learned_fallback(&self, key: &str, why: &str) {
        self.inner.learned.fallbacks.fetch_add(1, Ordering::Relaxed);
        self.emit_learned(key, "fallback", "learned", why);
    }

    /// The feature input for a decision on `ep` at `elapsed` since its first failure, `now`
    /// on the engine clock (the attempt decided is the next one).
    pub(crate) fn learned_input<'a>(
        id: &'a Identity,
        st: &EpisodeState,
        q: &QueueState,
        elapsed: f64,
        now_unix: f64,
        shift: f64,
    ) -> FeatureInput<'a> {
        let ctx = id.context.as_deref();
        let (sod, dow) = match ctx {
            Some(c) => c.calendar_at(now_unix, shift),
            None => super::context::seconds_of_day(now_unix + shift),
        };
        let latency = ctx
            .and_then(|c| c.downstream_latency)
            .or(id.meta().downstream_latency);
        FeatureInput {
            elapsed,
            delay: 0.0,
            attempt: st.attempts.saturating_add(1),
            second_of_day: sod,
            day_of_week: dow,
            payload_size: ctx.and_then(|c| c.payload_size).or(id.meta().payload_size),
            queue_depth: ctx.and_then(|c| c.queue_depth),
            latency_ms: latency.map(|d| d.as_secs_f64() * 1000.0),
            tenant: ctx
                .and_then(|c| c.tenant.as_deref())
                .or(id.tenant.as_deref()),
            worker_version: ctx
                .and_then(|c| c.worker_version.as_deref())
                .or(id.meta().worker_version.as_deref()),
            recent_failure_rate: q.recent_failure_rate,
            similar_success_rate: q.similar_success_rate,
        }
    }

    /// The episode's arm under its queue's rollout, chosen at its first decision and kept
    /// (`holdout`: the share of a full rollout's episodes kept on the live tiers).
    pub(crate) fn learned_arm(
        &self,
        ep: &mut EpisodeView<'_>,
        mode: RolloutMode,
        holdout: f64,
        live: bool,
    ) -> EpisodeArm {
        if let Some(arm) = ep.learned_arm {
            return arm;
        }
        let arm = match mode {
            RolloutMode::Off => EpisodeArm::Live,
            RolloutMode::Shadow => EpisodeArm::Shadow,
            RolloutMode::Full if live => self.draw_arm(ep, 1.0 - holdout),
            RolloutMode::Full => EpisodeArm::Learned,
            RolloutMode::Canary { weight } if live => self.draw_arm(ep, weight),
            RolloutMode::Canary { .. } => EpisodeArm::Live,
        };
        if live {
            ep.learned_arm = Some(arm);
        }
        arm
    }

    /// The learned arm with chance `weight`, else the live one (drawn without touching the
    /// episode's jitter).
    fn draw_arm(&self, ep: &EpisodeView<'_>, weight: f64) -> EpisodeArm {
        if weight >= 1.0 {
            return EpisodeArm::Learned;
        }
        let salt = ep.id.key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        if self.inner.learned.draw(salt) < weight {
            EpisodeArm::Learned
        } else {
            EpisodeArm::Live
        }
    }

    /// An attempt's outcome on a queue with learned-tier state: the recent rates.
    pub(crate) fn learned_observe_attempt(&self, ep: &EpisodeView<'_>, failed: bool) {
        if !self.inner.learned.is_active() {
            return;
        }
        if let Some(q) = self.inner.learned.queue(&ep.id.key) {
            q.lock().observe_attempt(failed);
        }
    }

    /// An episode ended (`success`: seconds from its first failure to the success; None: it
    /// was given up). Its J goes to the evidence of the arm it ran; a shadow episode is also
    /// priced under the learned schedule. Then the evidence is acted on.
    pub(crate) fn learned_episode_end(
        &self,
        settings: &crate::settings::Settings,
        ep: &EpisodeView<'_>,
        success: Option<f64>,
    ) {
        if !self.inner.learned.is_active() {
            return;
        }
        let (Some(arm), Some(q)) = (ep.learned_arm, self.inner.learned.queue(&ep.id.key)) else {
            return;
        };
        let Some(class) = ep.class else { return };
        let crate::record::FinishedTerms {
            pricing,
            observed: obs,
            failed,
            ..
        } = self.finished_terms(settings, ep, class, success);
        let realised = crate::learn::counterfactual::realised_cost(obs, failed, pricing);
        let mut s = q.lock();
        s.observe_episode(success.is_some());
        match arm {
            EpisodeArm::Learned => s.evidence.learned.add(realised),
            EpisodeArm::Live => s.evidence.live.add(realised),
            EpisodeArm::Shadow => {
                s.evidence.live.add(realised);
                if let (Some(model), Some(origin)) = (s.model.clone(), ep.origin) {
                    // Priced without the queue's lock: the model's schedule over the whole
                    // episode is tens of choices, and every decision on the queue takes the
                    // lock. Counted only if the queue is still in shadow then.
                    let snapshot = s.clone();
                    drop(s);
                    let origin = origin.as_secs_f64();
                    let at = |t: f64, attempt: u32| {
                        let mut x = Engine::learned_input(ep.id, ep, &snapshot, t, origin, t);
                        x.attempt = attempt;
                        x
                    };
                    let cf = learned_cost(&model, at, obs, pricing);
                    s = q.lock();
                    if s.mode == RolloutMode::Shadow {
                        s.evidence.shadow_diff.add(cf - realised);
                        self.inner
                            .learned
                            .shadow_episodes
                            .fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
        let from = s.mode.name();
        if let Some(v) = s.act_on_evidence() {
            let to = s.mode.name();
            drop(s);
            let change = if v == Verdict::Rollback {
                self.inner.learned.rollbacks.fetch_add(1, Ordering::Relaxed);
                "rollback"
            } else {
                self.inner
                    .learned
                    .promotions
                    .fetch_add(1, Ordering::Relaxed);
                "promotion"
            };
            self.emit_learned(&ep.id.key, change, &from, &to);
            self.inner.learned.refresh_active();
        }
    }
}
