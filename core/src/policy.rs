//! Policy: the per-class defaults, the learning settings, and the guardrail
//! configuration. Policy files are JSON in which every class entry is a partial patch over the
//! built-in defaults, so `{"classes":{"unavailable":{"max_attempts":6}}}` is a whole policy.

use crate::breaker::BreakerConfig;
use crate::budget::BudgetConfig;
use crate::class::{Disposition, ErrorClass};
use crate::classify::{Classifier, Rule};
use crate::error::{Error, Result};
pub use crate::preset::Preset;
use crate::ratelimit::RateLimitConfig;
use crate::strategy::Strategy;
use crate::time::{serde_opt_secs, serde_secs};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::time::Duration;

/// How one error class is retried when nothing has been learned (the heuristic tier), and the
/// hard bounds every tier must respect for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassPolicy {
    /// Retry, give up, or escalate to a person.
    pub disposition: Disposition,
    /// Total attempts including the first one (1 = never retry).
    pub max_attempts: u32,
    /// The backoff schedule the heuristic tier follows.
    pub strategy: Strategy,
    /// Retry once at once before backing off (the default for timeouts).
    pub first_retry_immediate: bool,
    /// No retry sooner than this, in seconds in JSON.
    #[serde(with = "serde_secs")]
    pub min_delay: Duration,
    /// No retry later than this, in seconds in JSON; every strategy's delay is capped here.
    #[serde(with = "serde_secs")]
    pub max_delay: Duration,
    /// Treat a server's Retry-After as a floor (and as the best estimate of when to retry).
    pub honor_retry_after: bool,
    /// Let the learned tiers decide for this class (the heuristic tier always remains the fallback).
    pub learn: bool,
}

impl ClassPolicy {
    /// The per-class defaults (of the background preset).
    pub fn default_for(class: ErrorClass) -> ClassPolicy {
        let s = Duration::from_secs_f64;
        let (max_attempts, strategy, first_immediate, max_delay) = match class {
            ErrorClass::Timeout => (
                3,
                Strategy::FullJitter {
                    base: s(2.0),
                    factor: 3.0,
                },
                true,
                s(120.0),
            ),
            ErrorClass::Connection => (3, Strategy::full_jitter(s(1.0)), false, s(60.0)),
            ErrorClass::RateLimited => (5, Strategy::full_jitter(s(30.0)), false, s(900.0)),
            ErrorClass::Unavailable => (4, Strategy::full_jitter(s(5.0)), false, s(300.0)),
            ErrorClass::ServerError => (3, Strategy::full_jitter(s(2.0)), false, s(120.0)),
            ErrorClass::Conflict => (3, Strategy::full_jitter(s(0.1)), false, s(10.0)),
            ErrorClass::Unknown => (3, Strategy::full_jitter(s(1.0)), false, s(60.0)),
            _ => (1, Strategy::Immediate, false, s(0.0)),
        };
        ClassPolicy {
            disposition: class.default_disposition(),
            max_attempts,
            strategy,
            first_retry_immediate: first_immediate,
            min_delay: Duration::ZERO,
            max_delay,
            honor_retry_after: true,
            // A conflict clears when the other writers are done, not after some time of its own:
            // the recovery-time model assumes the opposite, so conflicts keep their jittered
            // schedule unless a policy says otherwise.
            learn: class.is_retryable() && class != ErrorClass::Conflict,
        }
    }

    /// The class schedule's delay before retry number `retry` (1 = the first retry), capped by
    /// `max_delay`; `previous` is the delay before the previous retry. Follows the "first retry at
    /// once" rule.
    pub fn retry_delay<R: rand::Rng + ?Sized>(
        &self,
        retry: u32,
        previous: Duration,
        rng: &mut R,
    ) -> Duration {
        match self.schedule_step(retry) {
            Some(n) => self.strategy.delay(n, previous, self.max_delay, rng),
            None => Duration::ZERO,
        }
    }

    /// `retry_delay` and `nominal_retry_delay` of the same retry, drawn once, its range
    /// stretched by `stretch` (1: the schedule as configured) and kept under `max_delay`.
    pub fn retry_delays<R: rand::Rng + ?Sized>(
        &self,
        retry: u32,
        previous: Duration,
        stretch: f64,
        rng: &mut R,
    ) -> (Duration, Duration) {
        match self.schedule_step(retry) {
            Some(n) => self
                .strategy
                .delay_and_nominal(n, previous, self.max_delay, stretch, rng),
            None => (Duration::ZERO, Duration::ZERO),
        }
    }

    /// `retry_delay` without its jitter (the middle of the range it is drawn from): the delay
    /// that estimates for this step are quoted at.
    pub fn nominal_retry_delay(&self, retry: u32, previous: Duration) -> Duration {
        match self.schedule_step(retry) {
            Some(n) => self.strategy.nominal_delay(n, previous, self.max_delay),
            None => Duration::ZERO,
        }
    }

    /// The strategy's step for retry number `retry`, or None for a retry that goes at once.
    fn schedule_step(&self, retry: u32) -> Option<u32> {
        if !self.first_retry_immediate {
            return Some(retry);
        }
        (retry > 1).then(|| retry - 1)
    }

    /// The class's own time scale, seconds: the typical first delay of its schedule. Prices and
    /// priors derive from it so that they fit milliseconds and hours alike.
    pub fn scale(&self) -> f64 {
        self.strategy.scale().min(self.max_delay.as_secs_f64())
    }

    /// Check the class policy is usable (attempts at least 1, `min_delay <= max_delay`, a valid
    /// strategy); errors name `class`.
    pub fn validate(&self, class: ErrorClass) -> Result<()> {
        self.strategy.validate()?;
        if self.max_attempts == 0 {
            return Err(Error::InvalidConfig(format!(
                "{class}: max_attempts must be at least 1 (1 = no retries)"
            )));
        }
        if self.min_delay > self.max_delay {
            return Err(Error::InvalidConfig(format!(
                "{class}: min_delay {:?} exceeds max_delay {:?}",
                self.min_delay, self.max_delay
            )));
        }
        Ok(())
    }
}

/// A partial class policy: a policy file's class entry, or a run-time override for a queue or a
/// tenant. Unset fields inherit.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyPatch {
    /// Retry, give up, or escalate to a person.
    pub disposition: Option<Disposition>,
    /// Total attempts including the first one (1 = never retry).
    pub max_attempts: Option<u32>,
    /// The backoff schedule the heuristic tier follows (and the learned tiers fall back to).
    pub strategy: Option<Strategy>,
    /// Retry once at once before backing off.
    pub first_retry_immediate: Option<bool>,
    /// Shortest delay any tier may recommend, seconds.
    #[serde(with = "serde_opt_secs")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<crate::time::Seconds>"))]
    pub min_delay: Option<Duration>,
    /// Longest delay any tier may recommend, seconds.
    #[serde(with = "serde_opt_secs")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<crate::time::Seconds>"))]
    pub max_delay: Option<Duration>,
    /// Treat a server's Retry-After as a floor (and as the best estimate of when to retry).
    pub honor_retry_after: Option<bool>,
    /// Let the learned tiers decide for this class.
    pub learn: Option<bool>,
    /// Operator override: use exactly this delay (still clamped by min/max delay). Run-time
    /// overrides only: a policy file that sets it is refused.
    #[serde(with = "serde_opt_secs")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<crate::time::Seconds>"))]
    pub fixed_delay: Option<Duration>,
}

impl PolicyPatch {
    /// Apply the set fields onto `base`. Returns the operator's fixed delay, if any.
    pub fn apply(&self, base: &mut ClassPolicy) -> Option<Duration> {
        if let Some(v) = self.disposition {
            base.disposition = v;
        }
        if let Some(v) = self.max_attempts {
            base.max_attempts = v;
        }
        if let Some(v) = &self.strategy {
            base.strategy = v.clone();
        }
        if let Some(v) = self.first_retry_immediate {
            base.first_retry_immediate = v;
        }
        if let Some(v) = self.min_delay {
            base.min_delay = v;
        }
        if let Some(v) = self.max_delay {
            base.max_delay = v;
        }
        if let Some(v) = self.honor_retry_after {
            base.honor_retry_after = v;
        }
        if let Some(v) = self.learn {
            base.learn = v;
        }
        self.fixed_delay
    }

    /// Reject patches that could never be valid, whatever they are applied to.
    pub fn validate(&self) -> Result<()> {
        if let Some(s) = &self.strategy {
            s.validate()?;
        }
        if self.max_attempts == Some(0) {
            return Err(Error::InvalidConfig(
                "max_attempts must be at least 1".into(),
            ));
        }
        if let (Some(lo), Some(hi)) = (self.min_delay, self.max_delay) {
            if lo > hi {
                return Err(Error::InvalidConfig(format!(
                    "min_delay {lo:?} exceeds max_delay {hi:?}"
                )));
            }
        }
        Ok(())
    }
}

/// Settings of the learned (Bayesian + portfolio) tier.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LearningConfig {
    /// Learn at all (off: the heuristic tier decides everything).
    pub enabled: bool,
    /// The price of one failed attempt, in seconds of waiting: the engine minimises expected
    /// time-to-success + failure_cost x failed attempts. Unset (the default): each class's own
    /// time scale (its schedule's base delay), so the price fits milliseconds and hours alike.
    #[serde(with = "serde_opt_secs")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<crate::time::Seconds>"))]
    pub failure_cost: Option<Duration>,
    /// Observations lose half their weight after this many newer episodes (follows drift).
    pub half_life_episodes: f64,
    /// Episodes a model must have seen before anything but the heuristic tier decides.
    pub min_episodes: u32,
    /// Weight of the heuristic prior, in pseudo-episodes.
    pub prior_strength: f64,
    /// Run the learned plan only where it beats the class's own schedule with confidence (scored
    /// counterfactually on the same episodes, and vetoed by realised cost). Off: the learned plan
    /// runs as soon as `min_episodes` are seen.
    pub portfolio: bool,
    /// Share of learned decisions that probe up to four grid steps (half the wait) earlier than planned. A
    /// success only says "recovered by t"; without probing earlier the model cannot learn that
    /// recovery comes sooner than it believes. Bounded: a probe costs at most one failed attempt.
    pub exploration: f64,
    /// Keep a model per tenant (prior: the queue's model), so one tenant cannot poison another's.
    pub per_tenant: bool,
    /// Most models kept; the least recently used is evicted beyond it.
    pub max_models: usize,
    /// How far the learned tier plans when no deadline is set, and what it takes an episode that
    /// never succeeds to cost (1 h by default: the background preset's delays are capped at
    /// minutes, and pricing a give-up at a day would make a plan with few attempts left wait far
    /// too long for each one).
    #[serde(with = "serde_secs")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::time::Seconds"))]
    pub horizon: Duration,
}

impl Default for LearningConfig {
    fn default() -> Self {
        LearningConfig {
            enabled: true,
            failure_cost: None,
            half_life_episodes: 400.0,
            min_episodes: 20,
            prior_strength: 0.5,
            portfolio: true,
            exploration: 0.05,
            per_tenant: true,
            max_models: 100_000,
            horizon: Duration::from_secs(3600),
        }
    }
}

impl LearningConfig {
    /// Check every learning setting is finite and in range.
    pub fn validate(&self) -> Result<()> {
        let ok = |c: bool, msg: &str| {
            if c {
                Ok(())
            } else {
                Err(Error::InvalidConfig(msg.into()))
            }
        };
        ok(
            self.half_life_episodes.is_finite() && self.half_life_episodes >= 1.0,
            "learning.half_life_episodes must be a finite number >= 1",
        )?;
        ok(
            self.prior_strength.is_finite()
                && self.prior_strength > 0.0
                && self.prior_strength <= 1e6,
            "learning.prior_strength must be in (0, 1e6]",
        )?;
        ok(
            self.max_models >= 1,
            "learning.max_models must be at least 1",
        )?;
        ok(
            (0.0..=1.0).contains(&self.exploration),
            "learning.exploration must be a share between 0 and 1",
        )?;
        ok(
            self.min_episodes <= 1_000_000,
            "learning.min_episodes must be at most 1000000",
        )?;
        ok(!self.horizon.is_zero(), "learning.horizon must be positive")
    }
}

/// The whole policy of an engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "PolicySpec")]
pub struct Policy {
    /// The policy of every error class (all classes present).
    pub classes: BTreeMap<ErrorClass, ClassPolicy>,
    /// Total time an episode may take from its first failure; no retry is scheduled past it.
    #[serde(with = "serde_opt_secs")]
    pub deadline: Option<Duration>,
    /// Classification rules, in order.
    pub rules: Vec<Rule>,
    /// How the learned tiers learn.
    pub learning: LearningConfig,
    /// Retry budget per queue key.
    pub budget: Option<BudgetConfig>,
    /// Retry budget per tenant (on top of the queue's).
    pub tenant_budget: Option<BudgetConfig>,
    /// Circuit breaker per dependency.
    pub breaker: Option<BreakerConfig>,
    /// Adaptive client rate limiting per (key, dependency) after throttles (the AWS SDKs'
    /// adaptive mode). None (the default): off; `{}` in JSON: on with the SDKs' constants.
    pub rate_limit: Option<RateLimitConfig>,
    /// The preset the policy started from (`request` or `background`).
    pub preset: Preset,
    /// Seed for jitter and exploration: the same seed gives the same decisions. Unset (the
    /// default): drawn from the operating system per engine, so replicas never share jitter.
    pub seed: Option<u64>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy::preset(Preset::Background)
    }
}

impl Policy {
    /// The whole default policy of a preset (`Policy::default()` is `background`).
    pub fn preset(preset: Preset) -> Policy {
        Policy {
            classes: ErrorClass::ALL
                .into_iter()
                .map(|c| (c, preset.class(c)))
                .collect(),
            deadline: preset.deadline(),
            preset,
            rules: Classifier::default_rules(),
            learning: LearningConfig::default(),
            budget: None,
            tenant_budget: None,
            breaker: None,
            rate_limit: None,
            seed: None,
        }
    }

    /// Parse a JSON policy (partial: anything missing takes the default) and validate it.
    /// Shortcuts (`max_attempts`, `failure_cost`) are read as `policy_layers` describes; a
    /// field that does not fit is an `InvalidPolicy` error naming its path.
    pub fn from_json(json: &str) -> Result<Policy> {
        Policy::from_layers(&[json])
    }

    /// A policy from JSON layers merged deeply in order (a file, then a dict, then keyword
    /// arguments: the later wins), as `policy_layers` describes; validated.
    pub fn from_layers(layers: &[&str]) -> Result<Policy> {
        let spec: PolicySpec = crate::policy_layers::read(crate::policy_layers::merged(layers)?)
            .map_err(crate::policy_layers::hint_shortcuts)?;
        Policy::try_from(spec)
    }

    /// The JSON Schema of a policy file (what [`Policy::from_json`] reads), generated from the
    /// types: the source of `schema/policy.schema.json` and `docs/policy.md`.
    #[cfg(feature = "schema")]
    pub fn json_schema() -> serde_json::Value {
        serde_json::to_value(schemars::schema_for!(PolicySpec)).unwrap_or_default()
    }

    /// The whole policy as pretty-printed JSON (every class filled in).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The class policy (always present: defaults fill any gap).
    pub fn class(&self, class: ErrorClass) -> Cow<'_, ClassPolicy> {
        Cow::Borrowed(self.class_ref(class))
    }

    /// `class`, as the plain reference it always is.
    pub(crate) fn class_ref(&self, class: ErrorClass) -> &ClassPolicy {
        match self.classes.get(&class) {
            Some(cp) => cp,
            None => self.preset.class_ref(class),
        }
    }

    /// The price of one failed attempt for a class, seconds (see `LearningConfig::failure_cost`).
    pub fn failure_cost(&self, cp: &ClassPolicy) -> f64 {
        self.learning
            .failure_cost
            .map_or_else(|| cp.scale(), |c| c.as_secs_f64())
    }

    /// How far the learned tiers plan and what a never-recovering episode costs: the deadline, or
    /// the learning horizon when there is none (seconds).
    pub fn horizon_secs(&self) -> f64 {
        self.deadline.unwrap_or(self.learning.horizon).as_secs_f64()
    }

    /// Check every part; a policy that passes cannot make the engine misbehave.
    pub fn validate(&self) -> Result<()> {
        for (class, cp) in &self.classes {
            cp.validate(*class)?;
        }
        if self.deadline.is_some_and(|d| d.is_zero()) {
            return Err(Error::InvalidConfig("deadline must be positive".into()));
        }
        self.learning.validate()?;
        for b in [&self.budget, &self.tenant_budget].into_iter().flatten() {
            b.validate()?;
        }
        if let Some(b) = &self.breaker {
            b.validate()?;
        }
        if let Some(r) = &self.rate_limit {
            r.validate()?;
        }
        Classifier::new(self.rules.clone()).map(|_| ())
    }
}

/// A present `deadline` field: a number of seconds, or `null` for none.
fn deadline_field<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Option<Duration>>, D::Error> {
    crate::time::serde_opt_secs::deserialize(d).map(Some)
}

/// The on-disk form: class entries are patches over the preset's (default: background) classes.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(
    feature = "schema",
    schemars(
        rename = "Policy",
        description = "A policy file (JSON): every field is optional; what is absent keeps the preset's value."
    )
)]
struct PolicySpec {
    /// The starting point every other field patches (default: `background`).
    preset: Option<Preset>,
    /// Per error class, the fields that differ from the preset's class policy.
    // Keyed by name (checked in `try_from`), so that an error inside names its class.
    #[cfg_attr(
        feature = "schema",
        schemars(with = "BTreeMap<ErrorClass, PolicyPatch>")
    )]
    classes: BTreeMap<String, PolicyPatch>,
    /// Total time an episode may take from its first failure, seconds. Absent: the preset's
    /// deadline (30 s for `request`, none for `background`); `null`: none.
    #[serde(default, deserialize_with = "deadline_field")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<crate::time::Seconds>"))]
    deadline: Option<Option<Duration>>,
    /// Classification rules, tried in order; replaces the built-in list when given.
    rules: Option<Vec<Rule>>,
    /// Settings of the learned tiers.
    learning: LearningConfig,
    /// Retry budget per queue key (none by default).
    budget: Option<BudgetConfig>,
    /// Retry budget per tenant, on top of the queue's (none by default).
    tenant_budget: Option<BudgetConfig>,
    /// Circuit breaker per dependency (none by default).
    breaker: Option<BreakerConfig>,
    /// Adaptive client-side rate limiting per key (none by default).
    rate_limit: Option<RateLimitConfig>,
    /// Seed for jitter and exploration: the same seed gives the same decisions. Unset: drawn
    /// from the operating system per engine.
    seed: Option<u64>,
}

impl TryFrom<PolicySpec> for Policy {
    type Error = Error;

    fn try_from(spec: PolicySpec) -> Result<Policy> {
        let preset = spec.preset.unwrap_or_default();
        let mut policy = Policy::preset(preset);
        for (name, patch) in &spec.classes {
            let class = &name
                .parse::<ErrorClass>()
                .map_err(|e| Error::InvalidPolicy {
                    path: format!("classes.{name}"),
                    message: e.to_string(),
                })?;
            patch.validate()?;
            if patch.fixed_delay.is_some() {
                return Err(Error::InvalidConfig(format!(
                    "{class}: fixed_delay is a run-time override; use strategy constant in a policy"
                )));
            }
            let entry = policy
                .classes
                .entry(*class)
                .or_insert_with(|| preset.class(*class));
            patch.apply(entry);
        }
        if let Some(deadline) = spec.deadline {
            policy.deadline = deadline;
        }
        if let Some(rules) = spec.rules {
            policy.rules = rules;
        }
        policy.learning = spec.learning;
        policy.budget = spec.budget;
        policy.tenant_budget = spec.tenant_budget;
        policy.breaker = spec.breaker;
        policy.rate_limit = spec.rate_limit;
        policy.seed = spec.seed;
        policy.validate()?;
        Ok(policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let p = Policy::default();
        assert_eq!(p.class(ErrorClass::Unavailable).max_attempts, 4);
        assert_eq!(
            p.class(ErrorClass::Validation).disposition,
            Disposition::GiveUp
        );
        assert_eq!(
            p.class(ErrorClass::NeedsHuman).disposition,
            Disposition::Escalate
        );
        assert!(p.class(ErrorClass::Timeout).first_retry_immediate);
        p.validate().unwrap();
    }

    #[test]
    fn partial_json_patches_defaults_and_round_trips() {
        let p = Policy::from_json(
            r#"{"classes":{"unavailable":{"max_attempts":6,"max_delay":30}},"deadline":120,"learning":{"failure_cost":5}}"#,
        )
        .unwrap();
        assert_eq!(p.class(ErrorClass::Unavailable).max_attempts, 6);
        assert_eq!(
            p.class(ErrorClass::Unavailable).max_delay,
            Duration::from_secs(30)
        );
        assert_eq!(p.class(ErrorClass::Timeout).max_attempts, 3);
        assert_eq!(p.deadline, Some(Duration::from_secs(120)));
        assert_eq!(p.learning.failure_cost, Some(Duration::from_secs(5)));
        let back = Policy::from_json(&p.to_json()).unwrap();
        assert_eq!(back, p);
    }

    #[test]
    fn bad_policies_are_typed_errors() {
        for bad in [
            r#"{"classes":{"timeout":{"max_attempts":0}}}"#,
            r#"{"classes":{"timeout":{"min_delay":10,"max_delay":1}}}"#,
            r#"{"classes":{"timeout":{"max_delay":-1}}}"#,
            r#"{"classes":{"bogus":{}}}"#,
            r#"{"deadline":0}"#,
            r#"{"learning":{"half_life_episodes":0}}"#,
            r#"{"learning":{"exploration":-5}}"#,
            r#"{"classes":{"timeout":{"strategy":{"kind":"exponential","base":1,"factr":10}}}}"#,
            r#"{"unknown_field":1}"#,
            r#"{"rules":[{"name":"x","message":{"pattern":"("},"class":"timeout"}]}"#,
            "not json",
            "[]",
        ] {
            assert!(Policy::from_json(bad).is_err(), "{bad}");
        }
    }
}
