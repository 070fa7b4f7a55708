//! Recording outcomes: a failure teaches the models that the dependency was still down, a success
//! when it came back; both feed the budgets, the breaker, the counters, observers and history.

use crate::class::ErrorClass;
use crate::classify::{Classification, Matched};
use crate::engine::Engine;
use crate::episode::Episode;
use crate::error::{Error, Result};
use crate::failure::Failure;
use crate::history::AttemptRecord;
use crate::learn::grid::buckets_passed;
use crate::learn::portfolio::Arm;
use crate::observe::{Counter, Event};
use crate::policy::Policy;
use crate::recommendation::Recommendation;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Live decisions change state (budgets, probes, models); previews and dry runs change nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Live,
    Dry,
}

impl Engine {
    /// An attempt failed: record it and recommend what to do next. The episode is updated; when
    /// the answer is give up or escalate, the episode is finished.
    pub fn on_failure(&self, ep: &mut Episode, failure: &Failure) -> Recommendation {
        let now = self.now();
        let classification = self.record_failure_at(ep, failure, now, Mode::Live);
        self.decide(ep, failure, &classification, now, Mode::Live)
    }

    /// What the engine would recommend if this failure happened now, without recording it or
    /// spending anything.
    pub fn recommend(&self, ep: &Episode, failure: &Failure) -> Recommendation {
        let now = self.now();
        let mut probe = ep.clone();
        let classification = self.record_failure_at(&mut probe, failure, now, Mode::Dry);
        self.decide(&mut probe, failure, &classification, now, Mode::Dry)
    }

    /// Record a failed attempt (models, budgets, breaker, history) without deciding.
    pub fn record_failure(&self, ep: &mut Episode, failure: &Failure) -> Classification {
        let now = self.now();
        let m = self.record_failure_at(ep, failure, now, Mode::Live);
        Classification {
            class: m.class,
            rule: self.inner.classifier.load().rule_name(m).to_string(),
        }
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
        ep.last_failure = elapsed;
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
        }
        self.learn_failure(&policy, ep, ep_class, first, elapsed, mode);
        if live {
            self.emit(Event::Attempt {
                key: &ep.key,
                tenant: ep.tenant.as_deref(),
                class,
                attempt: ep.attempts,
                elapsed,
            });
            self.log_attempt(ep, Some(failure), Some(class), elapsed, now);
        }
        classification
    }

    fn learn_failure(
        &self,
        policy: &Policy,
        ep: &mut Episode,
        class: ErrorClass,
        first: bool,
        elapsed: Duration,
        mode: Mode,
    ) {
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
            let primary = models.primary.model.lock();
            ep.arm = Some(if !policy.learning.portfolio {
                if primary.episodes() >= f64::from(policy.learning.min_episodes) {
                    Arm::Learned
                } else {
                    Arm::Heuristic
                }
            } else if primary.episodes() < f64::from(policy.learning.min_episodes) {
                Arm::Heuristic
            } else if mode == Mode::Live {
                primary.portfolio().choose(&mut ep.rng)
            } else {
                primary.portfolio().best()
            });
            drop(primary);
            if mode == Mode::Live {
                self.count(Counter::Episodes);
                for slot in models.each() {
                    slot.model.lock().begin_episode();
                }
            }
            ep.models = Some(models);
        } else if let (Some(models), Mode::Live) = (&ep.models, mode) {
            for slot in models.each() {
                slot.model.lock().observe_failure(ep.passed, t);
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
        if ep.finished {
            return Err(Error::InvalidState(
                "the episode has already finished".into(),
            ));
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
            let policy = self.inner.policy.load();
            let t = elapsed.as_secs_f64();
            let cost = policy.learning.failure_cost.as_secs_f64();
            let failed_retries = f64::from(ep.failures - 1);
            for (i, slot) in models.each().enumerate() {
                let mut m = slot.model.lock();
                m.observe_success(ep.passed, t);
                if let (0, Some(arm)) = (i, ep.arm) {
                    m.score_success(arm, ep.last_failure.as_secs_f64(), t, failed_retries, cost);
                }
            }
        }
        let policy = self.inner.policy.load();
        let (queue_cost, tenant_cost) = ep.retry_cost;
        let retried = ep.failures > 0;
        self.with_budgets(&policy, ep, |b, tenant| {
            let spent = if tenant { tenant_cost } else { queue_cost };
            b.on_success(if retried { spent.or(Some(0.0)) } else { None })
        });
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

    /// The caller stopped the episode itself (cancelled, shut down): it ends without teaching
    /// the portfolio anything about its schedule.
    pub fn abandon(&self, ep: &mut Episode) {
        ep.finished = true;
    }

    /// Score the schedule of an episode the guardrails ended: it never succeeded, so it wasted the
    /// rest of the horizon plus its failed attempts.
    pub(crate) fn score_give_up(&self, ep: &Episode) {
        let (Some(models), Some(arm)) = (&ep.models, ep.arm) else {
            return;
        };
        let policy = self.inner.policy.load();
        let horizon = policy.horizon_secs();
        models.primary.model.lock().score_give_up(
            arm,
            ep.last_failure.as_secs_f64(),
            horizon,
            f64::from(ep.failures.saturating_sub(1)),
            policy.learning.failure_cost.as_secs_f64(),
        );
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
        sink.write(&AttemptRecord {
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
            health: None,
        });
    }
}
