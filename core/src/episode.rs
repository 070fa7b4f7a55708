//! One job's retry episode: the state the engine needs between attempts (attempt count, when the
//! failures began, what the survival model has already been told, which schedule the portfolio
//! chose). The caller owns it; the engine keeps no per-job state, so it cannot leak.

use crate::class::ErrorClass;
use crate::learn::model::LearnedModel;
use crate::learn::planner::Plan;
use crate::learn::portfolio::Running;
use arc_swap::ArcSwapOption;
use parking_lot::Mutex;
use rand::rngs::SmallRng;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::Arc;
use std::time::Duration;

/// A learned model in the store, with its identity and last use (for eviction).
#[derive(Debug)]
#[repr(C)] // Identity and the published plan first: a lookup and a read touch one cache line.
pub struct ModelSlot {
    /// The queue key.
    pub key: Arc<str>,
    /// The tenant, for a per-tenant model.
    pub tenant: Option<Arc<str>>,
    /// The class of failure the model learns.
    pub class: ErrorClass,
    /// Engine-clock time of the last use, in nanoseconds (the least recently used slot is evicted
    /// first).
    pub last_used: AtomicU64,
    /// The model's last plan, published for lock-free readers (engines on a system clock; on a
    /// manual clock plans are read and rebuilt under the model's lock instead).
    pub plan: ArcSwapOption<Plan>,
    /// A rebuild of this model is queued on the engine's worker.
    pub rebuild_pending: AtomicBool,
    /// The model itself; updates take this lock.
    pub model: Mutex<LearnedModel>,
}

/// The models an episode teaches: its own (the tenant's, when per-tenant learning is on) and,
/// for a tenant episode, the queue's.
#[derive(Debug, Clone)]
pub(crate) struct EpisodeModels {
    pub primary: Arc<ModelSlot>,
    pub queue: Option<Arc<ModelSlot>>,
}

impl EpisodeModels {
    pub fn each(&self) -> impl Iterator<Item = &Arc<ModelSlot>> {
        std::iter::once(&self.primary).chain(self.queue.iter())
    }
}

/// Optional facts about the job, written to the attempt history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EpisodeMeta {
    /// The kind of job (free text, e.g. "send_email").
    pub job_type: Option<String>,
    /// The job's payload size, in bytes.
    pub payload_size: Option<u64>,
    /// The version of the worker that ran the attempt.
    pub worker_version: Option<String>,
    /// The latest downstream call's latency, when the caller measures it (logged per attempt).
    pub downstream_latency: Option<Duration>,
}

/// No facts: what an episode without `with_meta` reports.
const NO_META: EpisodeMeta = EpisodeMeta {
    job_type: None,
    payload_size: None,
    worker_version: None,
    downstream_latency: None,
};

/// A caller's caps for one episode. Each replaces the policy's value for this episode only: the
/// class's `max_attempts`, and the policy's `deadline` (measured, like it, from the first failure).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EpisodeLimits {
    /// At most this many attempts in all (1 = no retries); replaces the class's `max_attempts`.
    pub max_attempts: Option<u32>,
    /// Give up when the next attempt would fall later than this after the first failure.
    pub deadline: Option<Duration>,
}

impl EpisodeLimits {
    /// Reject caps that could never be met: no attempt at all, or no time at all.
    pub fn validate(&self) -> crate::error::Result<()> {
        if self.max_attempts == Some(0) {
            return Err(crate::error::Error::InvalidConfig(
                "attempts must be at least 1 (1 = no retries)".into(),
            ));
        }
        if self.deadline.is_some_and(|d| d.is_zero()) {
            return Err(crate::error::Error::InvalidConfig(
                "a call's timeout must be positive".into(),
            ));
        }
        Ok(())
    }
}

/// A job's attempts, from its first attempt to success or give-up. Create it with
/// `Engine::begin`, pass it to `on_failure` / `on_success`.
#[derive(Debug, Clone)]
pub struct Episode {
    /// Who the episode is (key, tenant, models): read by a decision, never changed by it.
    pub(crate) id: Identity,
    /// Where the episode stands: what a decision reads and changes.
    pub(crate) st: EpisodeState,
}

/// The part of an episode a decision only reads. A dry run borrows it instead of copying it
/// (copying costs a reference count per key, tenant and model).
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    pub key: Arc<str>,
    pub tenant: Option<Arc<str>>,
    /// The job's facts (boxed: most episodes have none, and a decision reads the rest).
    pub meta: Option<Box<EpisodeMeta>>,
    /// The caller's own caps for this episode (a call's `attempts=` / `timeout=`).
    pub limits: EpisodeLimits,
    /// The models the episode teaches, found at its first failure.
    pub models: Option<EpisodeModels>,
    /// The engine that began the episode.
    pub engine: u64,
    /// The caller's context for the learned tier and the history (`Engine::begin_with_context`).
    pub context: Option<Box<crate::learned::AttemptContext>>,
}

impl Identity {
    /// The job's facts (none set: all `None`).
    pub fn meta(&self) -> &EpisodeMeta {
        self.meta.as_deref().unwrap_or(&NO_META)
    }
}

/// The part of an episode a decision changes: small, and free of reference counts, so that a dry
/// run works on its own copy of it at the cost of a memory copy.
#[derive(Debug, Clone)]
pub(crate) struct EpisodeState {
    pub origin: Option<Duration>,
    pub attempts: u32,
    pub failures: u32,
    pub class: Option<ErrorClass>,
    pub last_delay: Duration,
    /// Time since the first failure at the latest failure.
    pub last_failure: Duration,
    /// Buckets already reported to the models as survived.
    pub passed: usize,
    /// The schedule the portfolio has the episode run (None before its first decision).
    pub arm: Option<Running>,
    /// What the last granted retry cost the queue and tenant budgets (refunded on success).
    pub retry_cost: (Option<f64>, Option<f64>),
    pub rng: SmallRng,
    pub finished: bool,
    /// Who timed the last retry granted, which decides what its outcome teaches the pass rate
    /// (a poll of the learned plan, see `learn::polls`; the learned tier's model; else a
    /// schedule).
    pub timing: crate::learn::model::RetryTiming,
    /// The contention pace the last granted retry was made at (0: not paced; see `contention`).
    pub paced: f32,
    /// The schedule the learned tier's rollout gave this episode, once decided.
    pub learned_arm: Option<crate::learned::EpisodeArm>,
}

/// An episode as one decision sees it: its identity borrowed, its state borrowed mutably (the
/// caller's own, live; a copy, in a dry run). Reads of the state go through `Deref`, so
/// `ep.attempts` reads as on an `Episode`'s state.
pub(crate) struct EpisodeView<'a> {
    pub id: &'a Identity,
    st: &'a mut EpisodeState,
}

impl<'a> EpisodeView<'a> {
    pub fn new(id: &'a Identity, st: &'a mut EpisodeState) -> EpisodeView<'a> {
        EpisodeView { id, st }
    }

    /// The same view, reborrowed (to hand it on and keep using it after).
    pub fn reborrow(&mut self) -> EpisodeView<'_> {
        EpisodeView {
            id: self.id,
            st: self.st,
        }
    }
}

impl std::ops::Deref for EpisodeView<'_> {
    type Target = EpisodeState;
    fn deref(&self) -> &EpisodeState {
        self.st
    }
}

impl std::ops::DerefMut for EpisodeView<'_> {
    fn deref_mut(&mut self) -> &mut EpisodeState {
        self.st
    }
}

impl Episode {
    /// The queue key the episode was begun with.
    pub fn key(&self) -> &str {
        &self.id.key
    }

    /// The tenant the episode was begun with, if any.
    pub fn tenant(&self) -> Option<&str> {
        self.id.tenant.as_deref()
    }

    /// Attempts made so far (failed ones, plus the successful one once recorded).
    pub fn attempts(&self) -> u32 {
        self.st.attempts
    }

    /// Failed attempts so far.
    pub fn failures(&self) -> u32 {
        self.st.failures
    }

    /// The class of the episode's first failure (what its learning is keyed by).
    pub fn class(&self) -> Option<ErrorClass> {
        self.st.class
    }

    /// Time of the first failure (engine clock), if any attempt has failed.
    pub fn first_failure_at(&self) -> Option<Duration> {
        self.st.origin
    }

    /// Whether the episode ended (success, give-up, escalation or abandon).
    pub fn is_finished(&self) -> bool {
        self.st.finished
    }

    /// Cap this episode's attempts and/or time (validated; replaces earlier limits).
    pub fn set_limits(&mut self, limits: EpisodeLimits) -> crate::error::Result<()> {
        limits.validate()?;
        self.id.limits = limits;
        Ok(())
    }

    /// The caps set with `Episode::set_limits` (all `None` unless set).
    pub fn limits(&self) -> EpisodeLimits {
        self.id.limits
    }

    /// Attach facts about the job for the attempt history.
    pub fn with_meta(mut self, meta: EpisodeMeta) -> Episode {
        self.set_meta(meta);
        self
    }

    /// The facts attached with `Episode::with_meta`.
    pub fn meta(&self) -> &EpisodeMeta {
        self.id.meta()
    }

    /// Replace the facts logged with each later attempt (e.g. the latest downstream latency).
    pub fn set_meta(&mut self, meta: EpisodeMeta) {
        self.id.meta = (meta != NO_META).then(|| Box::new(meta));
    }
}

impl Episode {
    /// The view a live decision works on: this episode's own state.
    pub(crate) fn view(&mut self) -> EpisodeView<'_> {
        EpisodeView::new(&self.id, &mut self.st)
    }

    /// A view of this episode's identity with another state (a dry run's copy).
    pub(crate) fn view_of<'a>(&'a self, st: &'a mut EpisodeState) -> EpisodeView<'a> {
        EpisodeView::new(&self.id, st)
    }

    /// Replace the attempt context (e.g. the queue depth before the next attempt); validated.
    pub fn set_context(
        &mut self,
        context: crate::learned::AttemptContext,
    ) -> crate::error::Result<()> {
        context.validate()?;
        self.id.context = Some(Box::new(context));
        Ok(())
    }

    /// The context given with `Engine::begin_with_context` or `Episode::set_context`.
    pub fn context(&self) -> Option<&crate::learned::AttemptContext> {
        self.id.context.as_deref()
    }
}
