//! The engine: one shareable object (`Clone` is cheap, `Send + Sync`) that classifies failures,
//! records outcomes into its models and guardrails, and recommends what to do next.

use crate::breaker::CircuitBreaker;
use crate::budget::RetryBudget;
use crate::class::ErrorClass;
use crate::classify::Classification;
use crate::clock::{SharedClock, SystemClock};
use crate::episode::{Episode, EpisodeModels, EpisodeState, Identity, ModelSlot};
use crate::error::Result;
use crate::failure::Failure;
use crate::history::HistorySink;
use crate::learn::LearnedModel;
use crate::observe::{Counter, Counters, Event, Observer, Stats};
use crate::overrides::{Overrides, Scope};
use crate::policy::{Policy, PolicyPatch};
use crate::settings::Settings;
use arc_swap::ArcSwap;
use parking_lot::{Mutex, RwLock};
use rand::SeedableRng;
use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Longest key or tenant name accepted (bytes).
pub use crate::names::MAX_NAME_LEN;
/// Pseudo-episodes a new tenant model borrows from its queue's model.
const TENANT_PRIOR_EPISODES: f64 = 20.0;

pub(crate) struct BudgetSlot {
    pub tenant: bool,
    pub name: Arc<str>,
    pub budget: Mutex<RetryBudget>,
}

pub(crate) struct BreakerSlot {
    pub dependency: Arc<str>,
    pub breaker: Mutex<CircuitBreaker>,
}

pub(crate) struct Inner {
    pub clock: SharedClock,
    /// The policy, its classifier and priors, loaded by a decision in one read.
    pub settings: ArcSwap<Settings>,
    pub overrides: ArcSwap<Overrides>,
    /// Set at the first override and never cleared: until then a decision skips loading the
    /// (empty) overrides. Sticky, so that no clear racing a set can hide an override.
    ever_overridden: AtomicBool,
    pub models: crate::sharded::ShardedMap<ModelSlot>,
    pub budgets: crate::sharded::ShardedMap<BudgetSlot>,
    /// Where new budget buckets come from (None: local buckets; see `budget::backend`).
    pub budget_backend: RwLock<Option<Arc<dyn crate::budget::BudgetBackend>>>,
    pub breakers: crate::sharded::ShardedMap<BreakerSlot>,
    /// Each key's pace for conflict retries (`contention`).
    pub paces: crate::sharded::ShardedMap<crate::contention::PaceSlot>,
    /// Adaptive client rate limiters per (key, dependency) (`ratelimit`).
    pub limiters: crate::ratelimit::Limiters,
    pub counters: Counters,
    observers: RwLock<Vec<Arc<dyn Observer>>>,
    has_observers: AtomicBool,
    pub history: RwLock<Option<Arc<dyn HistorySink>>>,
    pub has_history: AtomicBool,
    seq: AtomicU64,
    /// Seed of this engine's episodes when the policy sets none (drawn from the OS).
    seed: u64,
    /// Unique per engine in the process: episodes remember which engine began them.
    id: u64,
    /// Plans are rebuilt inline, under the model's lock (a manual clock: reproducible runs).
    pub inline_plans: bool,
    /// The background plan rebuilder, started on first use (None: it could not be started, and
    /// plans are rebuilt inline).
    pub plan_worker: std::sync::OnceLock<Option<crate::learn::worker::PlanWorker>>,
    /// The worker's fork gate, registered with the fork hooks when the engine is made (None
    /// with inline plans). The worker starts at the first rebuild, under a model's lock; taking
    /// the hooks' registry there could wait on a fork in progress that waits in turn on a
    /// thread waiting for that model's lock.
    pub plan_gate: Option<std::sync::Arc<crate::learn::fork::Gate>>,
    /// The learned (ML) tier's per-queue models and rollouts (`learned`).
    pub learned: crate::learned::LearnedTier,
}

/// A seed from the operating system's entropy, so no two engines (or processes) share jitter.
fn os_seed() -> u64 {
    use rand::{Rng, SeedableRng};
    rand::rngs::SmallRng::from_os_rng().random()
}

/// Source of engine ids.
static NEXT_ENGINE_ID: AtomicU64 = AtomicU64::new(1);

/// The retry engine. Cheap to clone; every clone shares the same models and guardrails.
#[derive(Clone)]
pub struct Engine {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("models", &self.inner.models.len())
            .finish_non_exhaustive()
    }
}

/// Key, tenant and dependency names: the rules live in `names` (shared with failures).
pub(crate) use crate::names::check_name;

impl Engine {
    /// An engine on the system clock.
    pub fn new(policy: Policy) -> Result<Engine> {
        Engine::with_clock(policy, SystemClock::shared())
    }

    /// An engine on the given clock (a `ManualClock` for simulations and tests).
    pub fn with_clock(policy: Policy, clock: SharedClock) -> Result<Engine> {
        policy.validate()?;
        let limiters = crate::ratelimit::Limiters::new(&policy);
        let settings = Settings::of(policy)?;
        let inline_plans = clock.is_manual();
        Ok(Engine {
            inner: Arc::new(Inner {
                clock,
                settings: ArcSwap::from_pointee(settings),
                overrides: ArcSwap::from_pointee(Overrides::default()),
                ever_overridden: AtomicBool::new(false),
                models: Default::default(),
                budgets: crate::sharded::ShardedMap::bounded(crate::budget::MAX_TRACKED_KEYS),
                budget_backend: RwLock::new(None),
                breakers: crate::sharded::ShardedMap::bounded(crate::budget::MAX_TRACKED_KEYS),
                paces: crate::sharded::ShardedMap::bounded(crate::budget::MAX_TRACKED_KEYS),
                limiters,
                counters: Counters::default(),
                observers: RwLock::new(Vec::new()),
                has_observers: AtomicBool::new(false),
                history: RwLock::new(None),
                has_history: AtomicBool::new(false),
                seq: AtomicU64::new(0),
                seed: os_seed(),
                id: NEXT_ENGINE_ID.fetch_add(1, Ordering::Relaxed),
                inline_plans,
                plan_worker: std::sync::OnceLock::new(),
                plan_gate: (!inline_plans).then(crate::learn::fork::Gate::register),
                learned: Default::default(),
            }),
        })
    }

    /// An engine from a JSON policy (partial; defaults fill the rest).
    pub fn from_json(json: &str, clock: SharedClock) -> Result<Engine> {
        Engine::with_clock(Policy::from_json(json)?, clock)
    }

    /// The class policy in force for an episode (the policy's class entry with the queue's and
    /// tenant's overrides applied), and the operator's fixed delay if one is set. Borrowed from
    /// `policy` in the common case (no override), so that a decision copies nothing.
    /// `base` is the policy's entry for `class` (`Settings::class`).
    pub(crate) fn class_policy<'a>(
        &self,
        base: &'a crate::policy::ClassPolicy,
        ep: &Identity,
        class: ErrorClass,
    ) -> (Cow<'a, crate::policy::ClassPolicy>, Option<Duration>) {
        if !self.inner.ever_overridden.load(Ordering::Acquire) {
            return (Cow::Borrowed(base), None);
        }
        let overrides = self.inner.overrides.load();
        overrides.resolve(base, &ep.key, ep.tenant.as_deref(), class)
    }

    /// This engine's identity (episodes of another engine are refused).
    pub(crate) fn id(&self) -> u64 {
        self.inner.id
    }

    /// The clock every decision reads.
    pub fn clock(&self) -> &SharedClock {
        &self.inner.clock
    }

    /// The clock's current time (since the Unix epoch).
    pub fn now(&self) -> Duration {
        self.inner.clock.now()
    }

    /// The policy in force.
    pub fn policy(&self) -> Arc<Policy> {
        self.inner.settings.load().policy.clone()
    }

    /// Replace the whole policy at run time (validated first; on error nothing changes).
    pub fn set_policy(&self, policy: Policy) -> Result<()> {
        policy.validate()?;
        let settings = Settings::of(policy)?;
        self.inner.limiters.follow(&settings.policy);
        self.inner.settings.store(Arc::new(settings));
        Ok(())
    }

    /// Classify a failure with the engine's rules.
    pub fn classify(&self, failure: &Failure) -> Classification {
        self.inner.settings.load().classifier.classify(failure)
    }

    /// Override (part of) the policy for a queue or tenant, for one class or all (None).
    pub fn set_override(
        &self,
        scope: Scope,
        class: Option<ErrorClass>,
        patch: PolicyPatch,
    ) -> Result<()> {
        match &scope {
            Scope::Queue(n) => check_name("queue", n)?,
            Scope::Tenant(n) => check_name("tenant", n)?,
        }
        patch.validate()?;
        self.inner.ever_overridden.store(true, Ordering::Release);
        self.inner
            .overrides
            .rcu(|o| Arc::new(o.with(scope.clone(), class, patch.clone())));
        Ok(())
    }

    /// Remove an override (class None: all of the scope's).
    pub fn clear_override(&self, scope: &Scope, class: Option<ErrorClass>) {
        self.inner
            .overrides
            .rcu(|o| Arc::new(o.without(scope, class)));
    }

    /// Every override in force.
    pub fn overrides(&self) -> Vec<(Scope, Option<ErrorClass>, PolicyPatch)> {
        self.inner.overrides.load().list()
    }

    /// Add an observer of engine events.
    pub fn add_observer(&self, observer: Arc<dyn Observer>) {
        self.inner.observers.write().push(observer);
        self.inner.has_observers.store(true, Ordering::Release);
    }

    /// Remove every observer.
    pub fn clear_observers(&self) {
        self.inner.observers.write().clear();
        self.inner.has_observers.store(false, Ordering::Release);
    }

    #[inline]
    pub(crate) fn emit(&self, event: Event<'_>) {
        if self.inner.has_observers.load(Ordering::Acquire) {
            for o in self.inner.observers.read().iter() {
                o.on_event(&event);
            }
        }
    }

    /// Log every attempt to this sink (None: stop logging).
    pub fn set_history(&self, sink: Option<Arc<dyn HistorySink>>) {
        self.inner
            .has_history
            .store(sink.is_some(), Ordering::Release);
        *self.inner.history.write() = sink;
    }

    /// Counters for dashboards.
    pub fn stats(&self) -> Stats {
        self.inner.counters.stats(self.inner.models.len())
    }

    /// Zero every counter in `Engine::stats`.
    pub fn reset_stats(&self) {
        self.inner.counters.reset();
    }

    #[inline]
    pub(crate) fn count(&self, c: Counter) {
        self.inner.counters.add(c);
    }

    /// The next episode's number (its generator's seed derives from it).
    pub(crate) fn next_episode_seq(&self) -> u64 {
        self.inner.seq.fetch_add(1, Ordering::Relaxed)
    }

    /// A fresh episode, without counting it as a request (previews use it directly).
    pub(crate) fn new_episode(&self, policy: &Policy, key: &str, tenant: Option<&str>) -> Episode {
        let seq = self.next_episode_seq();
        let base = policy.seed.unwrap_or(self.inner.seed);
        let seed = base ^ seq.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        Episode {
            id: Identity {
                key: Arc::from(key),
                tenant: tenant.map(Arc::from),
                meta: None,
                limits: Default::default(),
                models: None,
                engine: self.inner.id,
                context: None,
            },
            st: EpisodeState {
                origin: None,
                attempts: 0,
                failures: 0,
                class: None,
                last_delay: Duration::ZERO,
                last_failure: Duration::ZERO,
                passed: 0,
                arm: None,
                retry_cost: (None, None),
                rng: rand::rngs::SmallRng::seed_from_u64(seed),
                finished: false,
                timing: crate::learn::model::RetryTiming::Scheduled,
                paced: 0.0,
                learned_arm: None,
            },
        }
    }

    /// Start a job's episode, at its first attempt. Validates the key and tenant.
    pub fn begin(&self, key: &str, tenant: Option<&str>) -> Result<Episode> {
        check_name("key", key)?;
        if let Some(t) = tenant {
            check_name("tenant", t)?;
        }
        let settings = self.inner.settings.load();
        let policy = &*settings.policy;
        let ep = self.new_episode(policy, key, tenant);
        let now = self.now();
        let (key, tenant) = (&*ep.id.key, ep.id.tenant.as_deref());
        self.with_budgets(policy, key, tenant, |b, _| b.on_request(now));
        Ok(ep)
    }

    /// Run `f` on the queue's and (if any) the tenant's budget, creating them on first use.
    pub(crate) fn with_budgets(
        &self,
        policy: &Policy,
        key: &str,
        tenant: Option<&str>,
        mut f: impl FnMut(&mut RetryBudget, bool),
    ) {
        let scopes = [
            (false, Some(key), &policy.budget),
            (true, tenant, &policy.tenant_budget),
        ];
        for (tenant, name, config) in scopes {
            let (Some(name), Some(config)) = (name, config) else {
                continue;
            };
            let hash = self.inner.budgets.hash_of(&(tenant, name));
            self.inner.budgets.with_or_insert(
                hash,
                |s| s.tenant == tenant && *s.name == *name,
                || BudgetSlot {
                    tenant,
                    name: Arc::from(name),
                    budget: Mutex::new(self.open_budget(tenant, name, config, self.now())),
                },
                |slot| f(&mut slot.budget.lock(), tenant),
            );
        }
    }

    /// Run `f` on a dependency's circuit breaker (if breakers are configured).
    pub(crate) fn with_breaker<T>(
        &self,
        policy: &Policy,
        dependency: &str,
        f: impl FnOnce(&mut CircuitBreaker) -> T,
    ) -> Option<T> {
        let config = policy.breaker.as_ref()?;
        let hash = self.inner.breakers.hash_of(dependency);
        Some(self.inner.breakers.with_or_insert(
            hash,
            |s| &*s.dependency == dependency,
            || BreakerSlot {
                dependency: Arc::from(dependency),
                breaker: Mutex::new(CircuitBreaker::new(config.clone())),
            },
            |slot| f(&mut slot.breaker.lock()),
        ))
    }

    /// The model for (key, tenant, class), created (and the least recently used evicted, beyond
    /// `max_models`) if absent.
    pub(crate) fn model(
        &self,
        key: &Arc<str>,
        tenant: Option<&Arc<str>>,
        class: ErrorClass,
        make: impl FnOnce() -> LearnedModel,
    ) -> Arc<ModelSlot> {
        let now = self.now().as_nanos() as u64;
        let hash = self
            .inner
            .models
            .hash_of(&(&**key, tenant.map(|t| &**t), class as u8));
        let (slot, created) = self.inner.models.get_or_insert_with(
            hash,
            |s| *s.key == **key && s.tenant.as_deref() == tenant.map(|t| &**t) && s.class == class,
            || ModelSlot {
                key: key.clone(),
                tenant: tenant.cloned(),
                class,
                model: Mutex::new(make()),
                last_used: AtomicU64::new(now),
                plan: Default::default(),
                rebuild_pending: AtomicBool::new(false),
            },
        );
        slot.last_used.store(now, Ordering::Relaxed);
        if created {
            let max = self.inner.settings.load().policy.learning.max_models;
            while self.inner.models.len() > max {
                let evicted = self.inner.models.remove_min_by_key(hash, |s| {
                    if std::ptr::eq(s, &*slot) {
                        u64::MAX
                    } else {
                        s.last_used.load(Ordering::Relaxed)
                    }
                });
                if evicted.is_none() {
                    break;
                }
            }
        }
        slot
    }

    /// Look up the models an episode of `class` teaches, creating them on first use.
    pub(crate) fn episode_models(
        &self,
        policy: &Policy,
        ep: &Identity,
        class: ErrorClass,
    ) -> EpisodeModels {
        let half_life = policy.learning.half_life_episodes;
        let queue = self.model(&ep.key, None, class, || LearnedModel::new(half_life));
        match (&ep.tenant, policy.learning.per_tenant) {
            (Some(tenant), true) => {
                let primary = self.model(&ep.key, Some(tenant), class, || {
                    LearnedModel::seeded_from(&queue.model.lock(), half_life, TENANT_PRIOR_EPISODES)
                });
                EpisodeModels {
                    primary,
                    queue: Some(queue),
                }
            }
            _ => EpisodeModels {
                primary: queue,
                queue: None,
            },
        }
    }

    fn find_model(
        &self,
        key: &str,
        tenant: Option<&str>,
        class: ErrorClass,
    ) -> Option<Arc<ModelSlot>> {
        let hash = self.inner.models.hash_of(&(key, tenant, class as u8));
        self.inner.models.get(hash, |s| {
            &*s.key == key && s.tenant.as_deref() == tenant && s.class == class
        })
    }

    /// The models an episode would teach, only if they already exist (previews create nothing).
    pub(crate) fn existing_models(
        &self,
        policy: &Policy,
        ep: &Identity,
        class: ErrorClass,
    ) -> Option<EpisodeModels> {
        let per_tenant = policy.learning.per_tenant;
        let queue = self.find_model(&ep.key, None, class)?;
        match (&ep.tenant, per_tenant) {
            (Some(t), true) => match self.find_model(&ep.key, Some(t), class) {
                Some(primary) => Some(EpisodeModels {
                    primary,
                    queue: Some(queue),
                }),
                None => Some(EpisodeModels {
                    primary: queue,
                    queue: None,
                }),
            },
            _ => Some(EpisodeModels {
                primary: queue,
                queue: None,
            }),
        }
    }

    /// What a model has learned, in numbers: episodes, pass rate while down, the plan's expected
    /// cost, and the portfolio's evidence. None if no such model exists.
    pub fn model_report(
        &self,
        key: &str,
        tenant: Option<&str>,
        class: ErrorClass,
    ) -> Option<crate::learn::model::ModelReport> {
        let slot = self.find_model(key, tenant, class)?;
        let (plan, _) = self.inspected_plan(&slot, class);
        let report = slot.model.lock().report(&plan);
        Some(report)
    }

    /// The current plan of a model being inspected, priced as a decision would price it (the
    /// class's entry of the settings snapshot), and the horizon it was built for.
    fn inspected_plan(
        &self,
        slot: &Arc<ModelSlot>,
        class: ErrorClass,
    ) -> (Arc<crate::learn::planner::Plan>, f64) {
        let settings = self.inner.settings.load();
        let horizon = settings.policy.horizon_secs();
        let cost = settings.policy.failure_cost(settings.class(class));
        (self.fresh_plan(slot, cost, horizon), horizon)
    }

    /// The learned P(recovered by t) at grid points up to the horizon, for (key, tenant, class),
    /// or None if no such model exists.
    pub fn recovery_curve(
        &self,
        key: &str,
        tenant: Option<&str>,
        class: ErrorClass,
    ) -> Option<Vec<(Duration, f64)>> {
        let slot = self.find_model(key, tenant, class)?;
        let (plan, horizon) = self.inspected_plan(&slot, class);
        Some(
            plan.recovery_curve(horizon)
                .into_iter()
                .map(|(t, p)| (Duration::from_secs_f64(t), p))
                .collect(),
        )
    }
}
