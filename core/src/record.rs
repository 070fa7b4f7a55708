//! Recording outcomes: a failure teaches the models that the dependency was still down, a success
//! when it came back; both feed the budgets, the breaker, the counters, observers and history.

use crate::class::ErrorClass;
use crate::classify::{Classification, Matched};
use crate::decide::Mode;
use crate::engine::Engine;
use crate::episode::{Episode, EpisodeModels, EpisodeState, EpisodeView, Identity};
use crate::error::{Error, Result};
use crate::failure::Failure;
use crate::history::AttemptRecord;
use crate::learn::counterfactual::{Observed, Pricing};
use crate::learn::grid::buckets_passed;
use crate::learn::model::episode_costs;
use crate::observe::{Counter, Event};
use crate::policy::Policy;
use crate::recommendation::Recommendation;
use crate::settings::Settings;
use std::sync::atomic::Ordering;
use std::time::Duration;

impl Engine {
    /// An attempt failed: record it and recommend what to do next. The episode is updated; when
    /// the answer is give up or escalate, the episode is finished. Errors: the episode has
    /// finished already, or belongs to another engine.
    pub fn on_failure(&self, ep: &mut Episode, failure: &Failure) -> Result<Recommendation> {
        self.check_open(ep, Some(failure))?;
        let now = self.now();
        let settings = self.inner.settings.load();
        let classification = self.fail_step(&settings, ep, failure, now, Mode::Live);
        Ok(self.decide(
            &settings,
            &mut ep.view(),
            failure,
            &classification,
            now,
            Mode::Live,
        ))
    }

    /// What the engine would recommend if this failure happened now, without recording it or
    /// spending anything. Errors as `on_failure`.
    ///
    /// The episode is borrowed, not cloned: the decision works on a copy of its state (a few
    /// numbers and the random generator) and reads its identity and models in place.
    pub fn recommend(&self, ep: &Episode, failure: &Failure) -> Result<Recommendation> {
        self.check_open(ep, Some(failure))?;
        let now = self.now();
        let settings = self.inner.settings.load();
        let classification = settings.classifier.matched(failure);
        let mut st = ep.st.clone();
        // Only before the episode's first failure does the dry run need models the episode does
        // not hold yet: then (only) its identity is copied to hold them.
        let found;
        let id = match self.first_models(&settings, &ep.id, &ep.st, classification.class, Mode::Dry)
        {
            Some(models) => {
                found = Identity {
                    models: Some(models),
                    ..ep.id.clone()
                };
                &found
            }
            None => &ep.id,
        };
        let mut probe = EpisodeView::new(id, &mut st);
        self.record_failure_at(
            &settings,
            &mut probe,
            failure,
            classification,
            now,
            Mode::Dry,
        );
        Ok(self.decide(
            &settings,
            &mut probe,
            failure,
            &classification,
            now,
            Mode::Dry,
        ))
    }

    /// Record a failed attempt (models, budgets, breaker, history) without deciding.
    pub fn record_failure(&self, ep: &mut Episode, failure: &Failure) -> Result<Classification> {
        self.check_open(ep, Some(failure))?;
        let now = self.now();
        let settings = self.inner.settings.load();
        let m = self.fail_step(&settings, ep, failure, now, Mode::Live);
        Ok(Classification {
            class: m.class,
            rule: settings.classifier.rule_name(m).to_string(),
        })
    }

    /// An episode can be recorded on only while open, and only on the engine that began it.
    fn check_open(&self, ep: &Episode, failure: Option<&Failure>) -> Result<()> {
        if let Some(f) = failure {
            f.validate()?;
        }
        if ep.id.engine != self.id() {
            return Err(Error::InvalidState(
                "the episode belongs to another engine".into(),
            ));
        }
        if ep.st.finished {
            return Err(Error::InvalidState(
                "the episode has already finished (success, give-up or abandon)".into(),
            ));
        }
        Ok(())
    }

    /// The whole schedule this failure would get if every attempt failed, up to `steps`
    /// decisions, executing nothing and changing nothing.
    pub fn preview(
        &self,
        key: &str,
        tenant: Option<&str>,
        failure: &Failure,
        steps: usize,
    ) -> Result<Vec<Recommendation>> {
        crate::engine::check_name("key", key)?;
        if let Some(t) = tenant {
            crate::engine::check_name("tenant", t)?;
        }
        failure.validate()?;
        let settings = self.inner.settings.load();
        let policy = &*settings.policy;
        let mut ep = self.new_episode(policy, key, tenant);
        let mut now = self.now();
        let mut out = Vec::with_capacity(steps.min(64));
        for _ in 0..steps.min(10_000) {
            let c = self.fail_step(&settings, &mut ep, failure, now, Mode::Dry);
            let rec = self.decide(&settings, &mut ep.view(), failure, &c, now, Mode::Dry);
            let retry = rec.should_retry();
            now += rec.delay;
            ep.st.last_delay = rec.delay;
            out.push(rec);
            if !retry {
                break;
            }
        }
        Ok(out)
    }

    /// Classify a failure of an episode the caller owns, give the episode its models at its
    /// first failure, and record the failure.
    pub(crate) fn fail_step(
        &self,
        settings: &Settings,
        ep: &mut Episode,
        failure: &Failure,
        now: Duration,
        mode: Mode,
    ) -> Matched {
        let classification = settings.classifier.matched(failure);
        if let Some(models) =
            self.first_models(settings, &ep.id, &ep.st, classification.class, mode)
        {
            ep.id.models = Some(models);
        }
        self.record_failure_at(settings, &mut ep.view(), failure, classification, now, mode);
        classification
    }

    /// At an episode's first failure, the models it will teach when its class learns: created
    /// on first use (live), or only those that exist already (a dry run creates nothing).
    /// None at every later failure, and when the class does not learn.
    pub(crate) fn first_models(
        &self,
        settings: &Settings,
        id: &Identity,
        st: &EpisodeState,
        class: ErrorClass,
        mode: Mode,
    ) -> Option<EpisodeModels> {
        if st.origin.is_some() {
            return None;
        }
        // The episode's class is the first failure's (this one's).
        let class = st.class.unwrap_or(class);
        if !settings.learns(class) {
            return None;
        }
        let policy = &*settings.policy;
        match mode {
            Mode::Live => Some(self.episode_models(policy, id, class)),
            Mode::Dry => self.existing_models(policy, id, class),
        }
    }

    pub(crate) fn record_failure_at(
        &self,
        settings: &Settings,
        ep: &mut EpisodeView<'_>,
        failure: &Failure,
        classification: Matched,
        now: Duration,
        mode: Mode,
    ) {
        let policy = &*settings.policy;
        let class = classification.class;
        let live = mode == Mode::Live;
        let first = ep.origin.is_none();
        let origin = *ep.origin.get_or_insert(now);
        let elapsed = now.saturating_sub(origin);
        ep.attempts = ep.attempts.saturating_add(1);
        ep.failures = ep.failures.saturating_add(1);
        let previous = std::mem::replace(&mut ep.last_failure, elapsed);
        let ep_class = *ep.class.get_or_insert(class);
        let id = ep.id;
        if live {
            self.count(Counter::Failures);
            let retryable = self.failure_is_retryable(settings, id, class);
            let tenant = id.tenant.as_deref();
            self.with_budgets(policy, &id.key, tenant, |b, _| b.on_failure(retryable));
            let dependency = failure.dependency.as_deref().unwrap_or(&id.key);
            if let Some(Some(t)) = self.with_breaker(policy, dependency, |b| b.on_failure(now)) {
                self.emit(Event::Breaker {
                    dependency,
                    from: t.from,
                    to: t.to,
                });
            }
            let throttled = class == ErrorClass::RateLimited;
            let dependency = failure.dependency.as_deref();
            self.rate_limit_response(policy, &id.key, dependency, throttled, now);
            // A paced retry (one after a conflict) failed: conflicted again, or (another class)
            // neither.
            if ep.paced > 0.0 && class == ErrorClass::Conflict {
                self.pace_retried(&id.key, true, f64::from(ep.paced));
            }
        }
        self.learn_failure(settings, ep, ep_class, first, previous, mode);
        if live {
            self.emit(Event::Attempt {
                key: &id.key,
                tenant: id.tenant.as_deref(),
                class,
                attempt: ep.attempts,
                elapsed,
            });
            self.log_attempt(ep, Some(failure), Some(class), elapsed, now);
            self.learned_observe_attempt(ep, true);
        }
    }

    fn learn_failure(
        &self,
        settings: &Settings,
        ep: &mut EpisodeView<'_>,
        class: ErrorClass,
        first: bool,
        previous: Duration,
        mode: Mode,
    ) {
        let elapsed = ep.last_failure;
        if !settings.learns(class) {
            return;
        }
        let t = elapsed.as_secs_f64();
        if first {
            // Found by `first_models` (a dry run finds none before the class's first episode).
            let Some(models) = &ep.id.models else {
                return;
            };
            if mode == Mode::Live {
                self.count(Counter::Episodes);
                for slot in models.each() {
                    let mut m = slot.model.lock();
                    m.begin_episode();
                    self.after_update(slot, &m);
                }
            }
        } else if let (Some(models), Mode::Live) = (&ep.id.models, mode) {
            for slot in models.each() {
                let mut m = slot.model.lock();
                m.observe_failure(ep.passed, previous.as_secs_f64(), t, ep.timing);
                self.after_update(slot, &m);
            }
        }
        ep.passed = ep.passed.max(buckets_passed(t));
    }

    /// An attempt succeeded: teach the models when the dependency came back, score the schedule
    /// that got there, refund budgets, close breakers. Finishes the episode.
    pub fn on_success(&self, ep: &mut Episode) -> Result<()> {
        self.on_success_from(ep, None)
    }

    /// `on_success` for an attempt against a named dependency (for its circuit breaker).
    pub fn on_success_from(&self, ep: &mut Episode, dependency: Option<&str>) -> Result<()> {
        self.check_open(ep, None)?;
        if let Some(d) = dependency {
            // A name given on its own is checked like a key (a failure's own fields answer
            // INVALID_FAILURE; a standalone name, INVALID_KEY).
            crate::engine::check_name("dependency", d)?;
        }
        let now = self.now();
        let settings = self.inner.settings.load();
        let policy = &*settings.policy;
        let mut view = ep.view();
        let ep = &mut view;
        let id = ep.id;
        ep.attempts = ep.attempts.saturating_add(1);
        ep.finished = true;
        self.count(Counter::Successes);
        let elapsed = ep.origin.map_or(Duration::ZERO, |o| now.saturating_sub(o));
        if ep.failures > 0 {
            self.count(Counter::SuccessesAfterRetry);
            if ep.failures == 1 {
                self.count(Counter::FirstRetrySuccesses);
            }
        }
        if let Some(models) = &id.models {
            let t = elapsed.as_secs_f64();
            for slot in models.each() {
                let mut m = slot.model.lock();
                m.observe_success(ep.passed, ep.last_failure.as_secs_f64(), t, ep.timing);
                self.after_update(slot, &m);
            }
            self.score_finished(&settings, ep, Some(t));
        }
        self.learned_observe_attempt(ep, false);
        self.learned_episode_end(&settings, ep, Some(elapsed.as_secs_f64()));
        if ep.paced > 0.0 {
            self.pace_retried(&id.key, false, f64::from(ep.paced));
        }
        let (queue_cost, tenant_cost) = ep.retry_cost;
        let retried = ep.failures > 0;
        self.with_budgets(policy, &id.key, id.tenant.as_deref(), |b, tenant| {
            let spent = if tenant { tenant_cost } else { queue_cost };
            b.on_success(if retried { spent.or(Some(0.0)) } else { None })
        });
        let who = IdentityRef {
            key: &id.key,
            tenant: id.tenant.as_deref(),
        };
        self.success_effects(policy, who, dependency, ep.attempts, elapsed, now);
        self.log_attempt(ep, None, None, elapsed, now);
        Ok(())
    }

    /// What every success does besides learning and refunding: the rate limiter and the
    /// dependency's breaker hear of it, and observers get the event.
    fn success_effects(
        &self,
        policy: &Policy,
        id: IdentityRef<'_>,
        dependency: Option<&str>,
        attempts: u32,
        elapsed: Duration,
        now: Duration,
    ) {
        self.rate_limit_response(policy, id.key, dependency, false, now);
        let dependency = dependency.unwrap_or(id.key);
        if let Some(Some(t)) = self.with_breaker(policy, dependency, |b| b.on_success(now)) {
            self.emit(Event::Breaker {
                dependency,
                from: t.from,
                to: t.to,
            });
        }
        self.emit(Event::Success {
            key: id.key,
            tenant: id.tenant,
            attempts,
            elapsed,
        });
    }

    /// A job whose first attempt succeeded: `begin` and `on_success` in one call (it counts as
    /// a request for the retry budgets and closes nothing else).
    pub fn record_first_success(&self, key: &str, tenant: Option<&str>) -> Result<()> {
        self.record_first_success_from(key, tenant, None)
    }

    /// `record_first_success` for a call against a named dependency (for its breaker).
    ///
    /// Exactly `begin` then `on_success_from`, without making the episode: one clock read,
    /// one policy load and one look-up per budget. With the attempt history or the learned tier
    /// on (each wants the episode's details) it takes that general path itself.
    pub fn record_first_success_from(
        &self,
        key: &str,
        tenant: Option<&str>,
        dependency: Option<&str>,
    ) -> Result<()> {
        if self.inner.has_history.load(Ordering::Acquire) || self.inner.learned.is_active() {
            let mut ep = self.begin(key, tenant)?;
            return self.on_success_from(&mut ep, dependency);
        }
        crate::engine::check_name("key", key)?;
        if let Some(t) = tenant {
            crate::engine::check_name("tenant", t)?;
        }
        if let Some(d) = dependency {
            crate::engine::check_name("dependency", d)?;
        }
        // As `begin` would: later episodes draw the seeds they would have drawn.
        self.next_episode_seq();
        let now = self.now();
        let settings = self.inner.settings.load();
        let policy = &*settings.policy;
        self.with_budgets(policy, key, tenant, |b, _| {
            b.on_request(now);
            b.on_success(None);
        });
        self.count(Counter::Successes);
        let id = IdentityRef { key, tenant };
        self.success_effects(policy, id, dependency, 1, Duration::ZERO, now);
        Ok(())
    }

    /// The caller stopped the episode itself (cancelled, shut down): it ends without teaching
    /// the portfolio anything about its schedule.
    pub fn abandon(&self, ep: &mut Episode) {
        ep.st.finished = true;
    }

    /// What pricing a finished episode takes, for the portfolio's scores and the learned tier's
    /// evidence alike: its class's failure cost and horizon, what was observed (`success`: seconds
    /// since the first failure when an attempt succeeded) and the retries that failed.
    pub(crate) fn finished_terms(
        &self,
        settings: &Settings,
        ep: &EpisodeView<'_>,
        class: ErrorClass,
        success: Option<f64>,
    ) -> FinishedTerms {
        let policy = &*settings.policy;
        let class_policy = self
            .class_policy(settings.class(class), ep.id, class)
            .0
            .into_owned();
        FinishedTerms {
            pricing: Pricing {
                failure_cost: policy.failure_cost(&class_policy),
                horizon: policy.horizon_secs(),
            },
            observed: Observed {
                last_failure: ep.last_failure.as_secs_f64(),
                success,
            },
            failed: f64::from(ep.failures.saturating_sub(1)),
            class_policy,
        }
    }

    /// Score a finished episode for the portfolio: both schedules' costs on it (`success`: when an
    /// attempt succeeded, seconds since the first failure; None: the guardrails ended it).
    pub(crate) fn score_finished(
        &self,
        settings: &Settings,
        ep: &mut EpisodeView<'_>,
        success: Option<f64>,
    ) {
        let id = ep.id;
        let (Some(models), Some(arm), Some(class)) = (&id.models, ep.arm, ep.class) else {
            return;
        };
        let FinishedTerms {
            class_policy: cp,
            pricing,
            observed: obs,
            failed,
        } = self.finished_terms(settings, ep, class, success);
        let slot = &models.primary;
        // Without a plan yet (its first is being built) the episode goes unscored.
        // Priced without the model's lock (callers of the same key do not wait on it), then
        // counted under it.
        let _scored = self.with_plan(slot, pricing.failure_cost, pricing.horizon, |plan, _| {
            let (class_cost, learned_cost) =
                episode_costs(plan, (arm, obs, failed), &cp, pricing, &mut ep.rng);
            slot.model
                .lock()
                .record_score(arm.realised_as(), class_cost, learned_cost);
        });
    }

    pub(crate) fn log_attempt(
        &self,
        ep: &EpisodeView<'_>,
        failure: Option<&Failure>,
        class: Option<ErrorClass>,
        elapsed: Duration,
        now: Duration,
    ) {
        if !self.inner.has_history.load(Ordering::Acquire) {
            return;
        }
        let Some(sink) = self.inner.history.read().clone() else {
            return;
        };
        let record = AttemptRecord {
            time: now.as_secs_f64(),
            queue: ep.id.key.to_string(),
            tenant: ep.id.tenant.as_deref().map(str::to_string),
            job_type: ep.id.meta().job_type.clone(),
            attempt: ep.attempts,
            error_class: class.map(|c| c.as_str().to_string()),
            error_code: failure.and_then(|f| f.error_code.clone()),
            http_status: failure.and_then(|f| f.http_status),
            delay_before: if ep.attempts > 1 {
                ep.last_delay.as_secs_f64()
            } else {
                0.0
            },
            since_episode_start: elapsed.as_secs_f64(),
            outcome: if failure.is_some() {
                "failure"
            } else {
                "success"
            }
            .into(),
            payload_size: ep.id.meta().payload_size,
            worker_version: ep.id.meta().worker_version.clone(),
            downstream_latency: ep.id.meta().downstream_latency.map(|d| d.as_secs_f64()),
            ..Default::default()
        }
        .with_calendar();
        sink.write(&match ep.id.context.as_deref() {
            Some(c) => record.with_context(c),
            None => record,
        });
    }
}

/// A finished episode's pricing terms (`Engine::finished_terms`).
pub(crate) struct FinishedTerms {
    pub class_policy: crate::policy::ClassPolicy,
    pub pricing: Pricing,
    pub observed: Observed,
    pub failed: f64,
}

/// Who a success is for, borrowed (from an episode, or from a first-attempt success's names).
#[derive(Clone, Copy)]
struct IdentityRef<'a> {
    key: &'a str,
    tenant: Option<&'a str>,
}
