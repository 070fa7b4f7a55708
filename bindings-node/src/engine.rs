//! The engine class: episodes and the synchronous hot path (begin, onFailure, recommend,
//! record, onSuccess). Administration (policy, overrides, snapshots, stats) is in `admin.rs`.

use crate::clock::ManualClock;
use crate::episode::Episode;
use crate::error::OrJs;
use crate::failure::{to_failure, to_input, FailureInput};
use crate::recommendation::Recommendation;
use napi_derive::napi;
use smartretry::{ErrorClass, Failure, Policy, SharedClock, SystemClock};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

/// The retry engine: classifies failures, learns recovery times per (key, class[, tenant]) and
/// recommends the next delay within guardrails. Every method is a synchronous native call.
#[napi]
pub struct Engine {
    pub(crate) inner: smartretry::Engine,
    /// Breaker states tracked from events, installed on first use of the breaker calls.
    /// Events lost because the JS queue was full (see `events::EVENT_QUEUE_BOUND`).
    pub(crate) dropped_events: Arc<AtomicU64>,
    /// Episodes named by a number (`beginHandle`), for `retry()`'s hot path.
    pub(crate) handles: Arc<parking_lot::Mutex<crate::handles::Handles>>,
    /// This engine's number in `registry` (the hot path's free functions).
    pub(crate) id: u64,
}

impl Drop for Engine {
    fn drop(&mut self) {
        crate::registry::unregister(self.id);
    }
}

/// A caller's caps for one episode (a call's `retries` / `maxRetryTime`): the total attempts,
/// and the deadline in seconds from the first failure. Each replaces the policy's value.
#[napi(object)]
pub struct EpisodeLimits {
    pub max_attempts: Option<u32>,
    pub deadline: Option<f64>,
}

/// How a failure was classified: its class, disposition and the rule that decided.
#[napi(object)]
pub struct Classification {
    pub class: String,
    /// "retry", "give_up" or "escalate" (the class's default disposition).
    pub disposition: String,
    pub rule: String,
}

impl From<smartretry::Classification> for Classification {
    fn from(c: smartretry::Classification) -> Self {
        Classification {
            class: c.class.as_str().to_string(),
            disposition: c.class.default_disposition().as_str().to_string(),
            rule: c.rule,
        }
    }
}

impl Engine {
    /// The engine on the system clock, or on `clock` when given.
    fn build(policy: Policy, clock: Option<&ManualClock>) -> napi::Result<Self> {
        let clock: SharedClock = match clock {
            Some(c) => c.inner.clone(),
            None => SystemClock::shared(),
        };
        let inner = smartretry::Engine::with_clock(policy, clock).or_js()?;
        let handles = Arc::new(parking_lot::Mutex::default());
        let id = crate::registry::register(&inner, Arc::clone(&handles));
        Ok(Engine {
            inner,
            dropped_events: Arc::new(AtomicU64::new(0)),
            handles,
            id,
        })
    }
}

#[napi]
impl Engine {
    /// An engine from a JSON policy (partial; defaults fill the rest) on the system clock, or
    /// on `clock` when given (tests and simulations).
    #[napi(constructor)]
    pub fn new(policy_json: Option<String>, clock: Option<&ManualClock>) -> napi::Result<Self> {
        let policy = match policy_json.as_deref() {
            Some(json) => Policy::from_json(json).or_js()?,
            None => Policy::default(),
        };
        Engine::build(policy, clock)
    }

    /// An engine from policy layers (JSON texts, first to last) merged deeply: objects key by
    /// key, anything else replaces; the later layer wins (the core's `policy_layers`).
    #[napi(factory)]
    pub fn from_layers(layers: Vec<String>, clock: Option<&ManualClock>) -> napi::Result<Self> {
        let layers: Vec<&str> = layers.iter().map(String::as_str).collect();
        Engine::build(Policy::from_layers(&layers).or_js()?, clock)
    }

    /// This engine's number, for the hot path's free functions (`engineSucceed`, ...).
    #[napi]
    pub fn registry_id(&self) -> f64 {
        self.id as f64
    }

    /// The engine clock's reading, Unix seconds.
    #[napi]
    pub fn now(&self) -> f64 {
        self.inner.clock().now().as_secs_f64()
    }

    /// The adaptive rate limiter's token for a call on `key` (policy `rate_limit`): seconds to
    /// wait before making it, 0 until the key has been throttled. Call it before every attempt,
    /// first ones included; the token is taken either way.
    #[napi]
    pub fn acquire(&self, key: String, dependency: Option<String>) -> napi::Result<f64> {
        let wait = self
            .inner
            .acquire_for(&key, dependency.as_deref())
            .or_js()?;
        Ok(wait.as_secs_f64())
    }

    /// `acquire` in milliseconds (as `Recommendation.delayMs`, for `setTimeout`).
    #[napi]
    pub fn acquire_ms(&self, key: String, dependency: Option<String>) -> napi::Result<f64> {
        Ok(self.acquire(key, dependency)? * 1000.0)
    }

    /// `acquire` for a call that will not wait longer than `max_wait` seconds: null, taking no
    /// token, when the token is further away (give the call up instead of sending it).
    #[napi]
    pub fn acquire_within(
        &self,
        key: String,
        max_wait: f64,
        dependency: Option<String>,
    ) -> napi::Result<Option<f64>> {
        let max_wait = crate::error::seconds("max_wait", max_wait)?;
        let taken = self
            .inner
            .acquire_within(&key, dependency.as_deref(), max_wait)
            .or_js()?;
        Ok(taken.map(|d| d.as_secs_f64()))
    }

    /// Start a job's episode at its first attempt (counts a request for the retry budgets).
    /// `limits` replace the policy's attempt cap and deadline for this episode only; `context`
    /// is the attempt context for the learned tier and the history (`Engine::begin_with_context`).
    #[napi]
    pub fn begin(
        &self,
        key: String,
        tenant: Option<String>,
        limits: Option<EpisodeLimits>,
        context: Option<crate::learned::AttemptContext>,
    ) -> napi::Result<Episode> {
        start(&self.inner, &key, tenant.as_deref(), limits, context)
    }

    /// An attempt failed: record it and recommend what to do next.
    #[napi]
    pub fn on_failure(
        &self,
        episode: &mut Episode,
        failure: FailureInput,
    ) -> napi::Result<Recommendation> {
        Ok(self.fail(episode, failure)?.into())
    }

    /// `onFailure` answering only the delay, in milliseconds, or -1 when the engine says stop
    /// (give up or escalate: the episode is then finished, and `episode.takeStopRecommendation()`
    /// has the recommendation). The hot path of `retry()`: it builds no Recommendation object.
    #[napi]
    pub fn on_failure_delay_ms(
        &self,
        episode: &mut Episode,
        failure: FailureInput,
    ) -> napi::Result<f64> {
        fail_delay_ms(&self.inner, episode, failure)
    }

    /// `onFailureDelayMs` for a failure of the common signals only, passed as arguments: no
    /// object to read property by property (what `retry()` records for most thrown errors).
    #[napi]
    pub fn on_plain_failure_delay_ms(
        &self,
        episode: &mut Episode,
        status: Option<f64>,
        code: Option<String>,
        exception: Option<String>,
        message: Option<String>,
        dependency: Option<String>,
    ) -> napi::Result<f64> {
        let failure = FailureInput::plain(status, code, exception, message, dependency);
        fail_delay_ms(&self.inner, episode, failure)
    }

    /// `onFailure` for a failure whose class the caller already knows ("timeout", ...).
    #[napi]
    pub fn on_class_failure(
        &self,
        episode: &mut Episode,
        error_class: String,
    ) -> napi::Result<Recommendation> {
        let failure = Failure::class(crate::failure::parse_class(&error_class)?);
        Ok(self
            .inner
            .on_failure(&mut episode.inner, &failure)
            .or_js()?
            .into())
    }

    /// What the engine would recommend for this failure now, recording and spending nothing.
    #[napi]
    pub fn recommend(
        &self,
        episode: &Episode,
        failure: FailureInput,
    ) -> napi::Result<Recommendation> {
        let failure = to_failure(failure, &|| self.inner.now())?;
        Ok(self
            .inner
            .recommend(&episode.inner, &failure)
            .or_js()?
            .into())
    }

    /// Record a failed attempt (models, budgets, breaker, history) without deciding.
    #[napi]
    pub fn record(
        &self,
        episode: &mut Episode,
        failure: FailureInput,
    ) -> napi::Result<Classification> {
        let failure = to_failure(failure, &|| self.inner.now())?;
        Ok(self
            .inner
            .record_failure(&mut episode.inner, &failure)
            .or_js()?
            .into())
    }

    /// An attempt succeeded (optionally against a named dependency, for its breaker). Finishes
    /// the episode; `INVALID_STATE` if it had already finished.
    #[napi]
    pub fn on_success(
        &self,
        episode: &mut Episode,
        dependency: Option<String>,
    ) -> napi::Result<()> {
        self.inner
            .on_success_from(&mut episode.inner, dependency.as_deref())
            .or_js()
    }

    /// A first-attempt success in one call, with no episode object: counts the request for the
    /// budgets and the success (what `begin` then `onSuccess` would record, in one core call).
    /// Answers whether rate limiting is on (`rateLimitOn`), so callers need no second call to
    /// know.
    #[napi]
    pub fn succeed(
        &self,
        key: String,
        tenant: Option<String>,
        dependency: Option<String>,
    ) -> napi::Result<bool> {
        succeed_first(&self.inner, &key, tenant.as_deref(), dependency.as_deref())
    }

    /// Whether the policy in force has adaptive rate limiting: while it has not, `acquireMs`
    /// answers 0 and changes nothing. `succeed` answers the same flag, so `retry()` learns of a
    /// policy change (`setPolicy` here, or the admin endpoint) at the latest at its next success.
    #[napi]
    pub fn rate_limit_on(&self) -> bool {
        self.inner.rate_limit_on()
    }

    /// The caller stopped the episode itself (cancelled, shut down); it teaches nothing.
    #[napi]
    pub fn abandon(&self, episode: &mut Episode) {
        self.inner.abandon(&mut episode.inner);
    }

    /// A failure from the core's JSON form (`Failure::from_json`: snake_case keys, validated and
    /// normalized), with an optional raw Retry-After header parsed against the engine clock;
    /// returned as the object `onFailure` takes. The shared fixtures run through it.
    #[napi]
    pub fn failure_from_json(
        &self,
        json: String,
        retry_after_header: Option<String>,
    ) -> napi::Result<FailureInput> {
        let mut failure = Failure::from_json(&json).or_js()?;
        if let Some(header) = retry_after_header {
            failure = failure
                .with_retry_after_header(&header, self.inner.now())
                .or_js()?;
        }
        Ok(to_input(&failure))
    }

    /// Classify a failure with the engine's rules.
    #[napi]
    pub fn classify(&self, failure: FailureInput) -> napi::Result<Classification> {
        let failure = to_failure(failure, &|| self.inner.now())?;
        Ok(self.inner.classify(&failure).into())
    }

    /// The whole schedule this failure would get if every attempt failed (up to `steps`
    /// decisions), executing and changing nothing.
    #[napi]
    pub fn preview(
        &self,
        key: String,
        tenant: Option<String>,
        failure: FailureInput,
        steps: Option<u32>,
    ) -> napi::Result<Vec<Recommendation>> {
        let failure = to_failure(failure, &|| self.inner.now())?;
        let recs = self
            .inner
            .preview(
                &key,
                tenant.as_deref(),
                &failure,
                steps.unwrap_or(10) as usize,
            )
            .or_js()?;
        Ok(recs.into_iter().map(Recommendation::from).collect())
    }

    /// Learned P(recovered by t) for (key, tenant, class) as [seconds, probability] pairs, or
    /// null when no model exists.
    #[napi]
    pub fn recovery_curve(
        &self,
        key: String,
        tenant: Option<String>,
        error_class: String,
    ) -> napi::Result<Option<Vec<Vec<f64>>>> {
        let class: ErrorClass = crate::failure::parse_class(&error_class)?;
        Ok(self
            .inner
            .recovery_curve(&key, tenant.as_deref(), class)
            .map(|c| {
                c.into_iter()
                    .map(|(t, p)| vec![t.as_secs_f64(), p])
                    .collect()
            }))
    }
}

/// A first-attempt success with no episode object (`succeed`, by method or by the engine's
/// number): the core's one call for it; answers whether rate limiting is on.
pub(crate) fn succeed_first(
    engine: &smartretry::Engine,
    key: &str,
    tenant: Option<&str>,
    dependency: Option<&str>,
) -> napi::Result<bool> {
    engine
        .record_first_success_from(key, tenant, dependency)
        .or_js()?;
    Ok(engine.rate_limit_on())
}

/// A dependency named outside a failure, checked by the core's name rule (`INVALID_KEY`)
/// before a handle is taken out of its table (the core checks it too, but only after).
pub(crate) fn check_dependency(dependency: Option<&str>) -> napi::Result<()> {
    match dependency {
        Some(d) => smartretry::names::check_name("dependency", d).or_js(),
        None => Ok(()),
    }
}

impl Engine {
    /// `on_failure` in the core, from the JS failure object.
    fn fail(
        &self,
        episode: &mut Episode,
        failure: FailureInput,
    ) -> napi::Result<smartretry::Recommendation> {
        let failure = to_failure(failure, &|| self.inner.now())?;
        self.inner.on_failure(&mut episode.inner, &failure).or_js()
    }
}

/// The delay in milliseconds, or -1 with the stopping recommendation kept on the episode.
pub(crate) fn delay_or_stop(episode: &mut Episode, rec: smartretry::Recommendation) -> f64 {
    if rec.should_retry() {
        return rec.delay.as_secs_f64() * 1000.0;
    }
    episode.stopped_by = Some(Box::new(rec));
    -1.0
}

/// A new episode, with the caller's limits and attempt context.
pub(crate) fn start(
    engine: &smartretry::Engine,
    key: &str,
    tenant: Option<&str>,
    limits: Option<EpisodeLimits>,
    context: Option<crate::learned::AttemptContext>,
) -> napi::Result<Episode> {
    let mut inner = match context {
        None => engine.begin(key, tenant),
        Some(c) => engine.begin_with_context(key, tenant, c.into_core()?),
    }
    .or_js()?;
    if let Some(l) = limits {
        let deadline = l
            .deadline
            .map(|d| crate::error::seconds("deadline", d))
            .transpose()?;
        inner
            .set_limits(smartretry::EpisodeLimits {
                max_attempts: l.max_attempts,
                deadline,
            })
            .or_js()?;
    }
    Ok(Episode {
        inner,
        stopped_by: None,
    })
}

/// `on_failure` answering the delay in milliseconds, or -1 with the stopping recommendation
/// kept on the episode.
pub(crate) fn fail_delay_ms(
    engine: &smartretry::Engine,
    episode: &mut Episode,
    failure: FailureInput,
) -> napi::Result<f64> {
    let failure = to_failure(failure, &|| engine.now())?;
    let rec = engine.on_failure(&mut episode.inner, &failure).or_js()?;
    Ok(delay_or_stop(episode, rec))
}
