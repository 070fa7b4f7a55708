//! Recording outcomes: a failure teaches the models that the dependency was still down, a success
//! when it came back; both feed the budgets, the breaker, the counters, observers and history.

use crate::class::ErrorClass;
use crate::classify::{Classification, Matched};
use crate::decide::Mode;
use crate::engine::Engine;
use crate::episode::Episode;
use crate::error::{Error, Result};
use crate::failure::Failure;
use crate::history::AttemptRecord;
use crate::learn::counterfactual::{Observed, Pricing};
use crate::learn::grid::buckets_passed;
use crate::observe::{Counter, Event};
use crate::policy::Policy;
use crate::recommendation::Recommendation;
use std::sync::atomic::Ordering;
use std::time::Duration;

impl Engine {
    /// An attempt failed: record it and recommend what to do next. The episode is updated; when
    /// the answer is give up or escalate, the episode is finished. Errors: the episode has
    /// finished already, or belongs to another engine.
    pub fn on_failure(&self, ep: &mut Episode, failure: &Failure) -> Result<Recommendation> {
        self.check_open(ep, Some(failure))?;
        let now = self.now();
        let classification = self.record_failure_at(ep, failure, now, Mode::Live);
        Ok(self.decide(ep, failure, &classification, now, Mode::Live))
    }

    /// What the engine would recommend if this failure happened now, without recording it or
    /// spending anything. Errors as `on_failure`.
    pub fn recommend(&self, ep: &Episode, failure: &Failure) -> Result<Recommendation> {
        self.check_open(ep, Some(failure))?;
        let now = self.now();
        let mut probe = ep.clone();
        let classification = self.record_failure_at(&mut probe, failure, now, Mode::Dry);
        Ok(self.decide(&mut probe, failure, &classification, now, Mode::Dry))
    }

    /// Record a failed attempt (models, budgets, breaker, history) without deciding.
    pub fn record_failure(&self, ep: &mut Episode, failure: &Failure) -> Result<Classification> {
        self.check_open(ep, Some(failure))?;
        let now = self.now();
        let m = self.record_failure_at(ep, failure, now, Mode::Live);
        Ok(Classification {
            class: m.class,
            rule: self.inner.classifier.load().rule_name(m).to_string(),
        })
    }

    /// An episode can be recorded on only while open, and only on the engine that began it.
    fn check_open(&self, ep: &Episode, failure: Option<&Failure>) -> Result<()> {
        if let Some(f) = failure {
            f.validate()?;
        }
        if ep.engine != self.id() {
            return Err(Error::InvalidState(
                "the episode belongs to another engine".into(),
            ));
        }
        if ep.finished {
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
        let mut ep = self.new_episode(key, tenant);
        let mut now = self.now();
        let mut out = Vec::with_capacity(steps.min(64));
        for _ in 0..steps.min(10_000) {
            let c = self.record_failure_at(&mut ep, failure, now, Mode::Dry);
            let rec = self.decide(&mut ep, failure, &c, now, Mode::Dry);
            let retry = rec.should_retry();
            now += rec.delay;
            ep.last_delay = rec.delay;
            out.push(rec);
            if !retry {
                break;
            }
        }
        Ok(out)
    }

    pub(crate) fn record_failure_at(
        &self,
        ep: &mut Episode,
        failure: &Failure,
        now: Duration,
        mode: Mode,
    ) -> Matched {
        let classification = self.inner.classifier.load().matched(failure);
        let class = classification.class;
        let live = mode == Mode::Live;
        let first = ep.origin.is_none();
        let origin = *ep.origin.get_or_insert(now);
        let elapsed = now.saturating_sub(origin);
        ep.attempts = ep.attempts.saturating_add(1);
        ep.failures = ep.failures.saturating_add(1);
        let previous = std::mem::replace(&mut ep.last_failure, elapsed);
        let ep_class = *ep.class.get_or_insert(class);
        let policy = self.inner.policy.load();
        if live {
            self.count(Counter::Failures);
            let retryable = self.failure_is_retryable(&policy, ep, class);
            self.with_budgets(&policy, ep, |b, _| b.on_failure(retryable));
            let dependency = failure.dependency.as_deref().unwrap_or(&ep.key);
            if let Some(Some(t)) = self.with_breaker(&policy, dependency, |b| b.on_failure(now)) {
                self.emit(Event::Breaker {
                    dependency,
                    from: t.from,
                    to: t.to,
                });
            }
            let throttled = class == ErrorClass::RateLimited;
            let dependency = failure.dependency.as_deref();
            self.rate_limit_response(&policy, &ep.key, dependency, throttled, now);
        }
        self.learn_failure(&policy, ep, ep_class, first, previous, mode);
        if live {
            self.emit(Event::Attempt {
                key: &ep.key,
                tenant: ep.tenant.as_deref(),
                class,
                attempt: ep.attempts,
                elapsed,
            });
            self.log_attempt(ep, Some(failure), Some(class), elapsed, now);
            self.learned_observe_attempt(ep, true);
        }
        classification
    }

    fn learn_failure(
        &self,
        policy: &Policy,
        ep: &mut Episode,
        class: ErrorClass,
        first: bool,
        previous: Duration,
        mode: Mode,
    ) {
        let elapsed = ep.last_failure;
        if !policy.learning.enabled || !policy.class(class).learn || !class.is_retryable() {
            return;
        }
        let t = elapsed.as_secs_f64();
        if first {
            let models = match mode {
                Mode::Live => self.episode_models(ep, class),
                Mode::Dry => match self.existing_models(ep, class) {
                    Some(m) => m,
                    None => return,
                },
            };
            if mode == Mode::Live {
                self.count(Counter::Episodes);
                for slot in models.each() {
                    let mut m = slot.model.lock();
                    m.begin_episode();
                    self.after_update(slot, &m);
                }
            }
            ep.models = Some(models);
        } else if let (Some(models), Mode::Live) = (&ep.models, mode) {
            for slot in models.each() {
                let mut m = slot.model.lock();
                m.observe_failure(ep.passed, previous.as_secs_f64(), t);
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
        if let Some(models) = &ep.models {
            let t = elapsed.as_secs_f64();
            for slot in models.each() {
                let mut m = slot.model.lock();
                m.observe_success(ep.passed, ep.last_failure.as_secs_f64(), t);
                self.after_update(slot, &m);
            }
            self.score_finished(ep, Some(t));
        }
        self.learned_observe_attempt(ep, false);
        self.learned_episode_end(ep, Some(elapsed.as_secs_f64()));
        let policy = self.inner.policy.load();
        let (queue_cost, tenant_cost) = ep.retry_cost;
        let retried = ep.failures > 0;
        self.with_budgets(&policy, ep, |b, tenant| {
            let spent = if tenant { tenant_cost } else { queue_cost };
            b.on_success(if retried { spent.or(Some(0.0)) } else { None })
        });
        self.rate_limit_response(&policy, &ep.key, dependency, false, now);
        let dependency = dependency.unwrap_or(&ep.key);
        if let Some(Some(t)) = self.with_breaker(&policy, dependency, |b| b.on_success(now)) {
            self.emit(Event::Breaker {
                dependency,
                from: t.from,
                to: t.to,
            });
        }
        self.emit(Event::Success {
            key: &ep.key,
            tenant: ep.tenant.as_deref(),
            attempts: ep.attempts,
            elapsed,
        });
        self.log_attempt(ep, None, None, elapsed, now);
        Ok(())
    }

    /// A job whose first attempt succeeded: `begin` and `on_success` in one call (it counts as
    /// a request for the retry budgets and closes nothing else).
    pub fn record_first_success(&self, key: &str, tenant: Option<&str>) -> Result<()> {
        let mut ep = self.begin(key, tenant)?;
        self.on_success(&mut ep)
    }

    /// The caller stopped the episode itself (cancelled, shut down): it ends without teaching
    /// the portfolio anything about its schedule.
    pub fn abandon(&self, ep: &mut Episode) {
        ep.finished = true;
    }

    /// Score a finished episode for the portfolio: both schedules' costs on it (`success`: when an
    /// attempt succeeded, seconds since the first failure; None: the guardrails ended it).
    pub(crate) fn score_finished(&self, ep: &mut Episode, success: Option<f64>) {
        let (Some(models), Some(arm), Some(class)) = (ep.models.clone(), ep.arm, ep.class) else {
            return;
        };
        let policy = self.inner.policy.load();
        let cp = self.with_class_policy(&policy, ep, class, |cp, _| cp.clone());
        let pricing = Pricing {
            failure_cost: policy.failure_cost(&cp),
            horizon: policy.horizon_secs(),
        };
        let obs = Observed {
            last_failure: ep.last_failure.as_secs_f64(),
            success,
        };
        let failed = f64::from(ep.failures.saturating_sub(1));
        let slot = &models.primary;
        // Without a plan yet (its first is being built) the episode goes unscored.
        let _scored = self.with_plan(slot, pricing.failure_cost, pricing.horizon, |plan, _| {
            slot.model
                .lock()
                .score_episode(plan, (arm, obs, failed), &cp, pricing, &mut ep.rng)
        });
    }

    pub(crate) fn log_attempt(
        &self,
        ep: &Episode,
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
            queue: ep.key.to_string(),
            tenant: ep.tenant.as_deref().map(str::to_string),
            job_type: ep.meta.job_type.clone(),
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
            payload_size: ep.meta.payload_size,
            worker_version: ep.meta.worker_version.clone(),
            downstream_latency: ep.meta.downstream_latency.map(|d| d.as_secs_f64()),
            ..Default::default()
        }
        .with_calendar();
        sink.write(&match ep.context.as_deref() {
            Some(c) => record.with_context(c),
            None => record,
        });
    }
}
