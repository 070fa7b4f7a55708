//! Rollout of a learned model on one queue: `off`, `shadow` (the model's schedule is priced on
//! the live episodes, counterfactually, and changes nothing), `canary` (a share of episodes run
//! it), `full`. Promotion needs evidence and rollback is automatic: both compare mean J per
//! episode, with a one-sided confidence bound (`z` standard errors).

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// How far the learned tier decides on a queue.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum RolloutMode {
    /// The model is not consulted.
    Off,
    /// The model's schedule is priced beside the live one; the live one decides.
    Shadow,
    /// This share (0..1] of episodes run the model's schedule.
    Canary {
        /// Share of episodes that run the learned tier.
        weight: f64,
    },
    /// Every episode runs the model's schedule.
    Full,
}

impl RolloutMode {
    /// Parse `off`, `shadow`, `canary:0.1` (or `canary` for 10%), `full`.
    pub fn parse(s: &str) -> Result<RolloutMode> {
        let s = s.trim();
        let mode = match s.split_once(':') {
            None if s == "off" => RolloutMode::Off,
            None if s == "shadow" => RolloutMode::Shadow,
            None if s == "full" => RolloutMode::Full,
            None if s == "canary" => RolloutMode::Canary { weight: 0.1 },
            Some(("canary", w)) => RolloutMode::Canary {
                weight: w.trim().parse().map_err(|_| {
                    Error::InvalidConfig(format!("canary weight {w:?} is not a number"))
                })?,
            },
            _ => {
                return Err(Error::InvalidConfig(format!(
                    "rollout mode {s:?} (expected off, shadow, canary:WEIGHT or full)"
                )))
            }
        };
        mode.validate()?;
        Ok(mode)
    }

    /// A canary weight must be in (0, 1].
    pub fn validate(&self) -> Result<()> {
        if let RolloutMode::Canary { weight } = self {
            if !(weight.is_finite() && *weight > 0.0 && *weight <= 1.0) {
                return Err(Error::InvalidConfig(format!(
                    "canary weight must be in (0, 1], got {weight}"
                )));
            }
        }
        Ok(())
    }

    /// The name as `parse` reads it.
    pub fn name(&self) -> String {
        match self {
            RolloutMode::Off => "off".into(),
            RolloutMode::Shadow => "shadow".into(),
            RolloutMode::Canary { weight } => format!("canary:{weight}"),
            RolloutMode::Full => "full".into(),
        }
    }
}

/// When evidence is enough, and how much regression triggers a rollback.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RolloutConfig {
    /// Episodes on each side before any promotion or rollback is considered.
    pub min_episodes: u32,
    /// Confidence of the bounds, as the standard errors one look would take (1.64: 95%). The
    /// bounds are checked after every episode, so each holds at that confidence over every
    /// look at once, which takes about 3 standard errors at 95% (`sequential`).
    pub z: f64,
    /// Roll back when the learned tier's mean J exceeds the live one's by more than this share,
    /// with confidence (0.1 = 10% worse).
    pub rollback_regression: f64,
    /// Step up on evidence by itself: shadow → canary (at `canary_weight`) → full.
    pub auto_promote: bool,
    /// The canary weight an automatic promotion from shadow starts with.
    pub canary_weight: f64,
    /// Roll a canary back once its learned arm has run this many episodes without a verdict,
    /// at the first look where it is not ahead of the live arm (0: never). A model that cannot
    /// show it helps does not keep a share of the traffic, and what an inconclusive canary
    /// costs stays bounded; one that is ahead runs on until promoted or behind.
    pub canary_max_episodes: u32,
    /// In `full`, this share of episodes keeps running the live tiers, so that full is held to
    /// the live tiers of the same days (0: held to the live mean at promotion instead, which a
    /// load or a recovery time that changes over the week makes look like a regression).
    pub full_holdout: f64,
}

impl Default for RolloutConfig {
    fn default() -> Self {
        RolloutConfig {
            min_episodes: 30,
            z: 1.64,
            rollback_regression: 0.1,
            auto_promote: false,
            canary_weight: 0.2,
            canary_max_episodes: 500,
            full_holdout: 0.02,
        }
    }
}

impl RolloutConfig {
    /// Standard errors of margin after `n` episodes: `z`'s confidence, held at every look (the
    /// verdict is checked after every episode; see `sequential`).
    pub fn margin(&self, n: u64) -> f64 {
        super::sequential::z_at_every_look(self.z, n, f64::from(self.min_episodes))
    }

    /// Reject bounds that cannot work.
    pub fn validate(&self) -> Result<()> {
        let ok = self.min_episodes >= 2
            && self.z.is_finite()
            && self.z >= 0.0
            && self.rollback_regression.is_finite()
            && self.rollback_regression >= 0.0
            && (0.0..=0.5).contains(&self.full_holdout);
        if !ok {
            return Err(Error::InvalidConfig(
                "rollout: min_episodes >= 2, z >= 0, rollback_regression >= 0 and full_holdout in [0, 0.5]".into(),
            ));
        }
        RolloutMode::Canary {
            weight: self.canary_weight,
        }
        .validate()
    }

    /// Parse and validate the JSON form the bindings pass (`{"min_episodes": 50, "z": 2.0}`);
    /// missing fields take their defaults, unknown ones are refused.
    pub fn from_json(text: &str) -> Result<RolloutConfig> {
        let cfg: RolloutConfig = serde_json::from_str(text)
            .map_err(|e| Error::InvalidConfig(format!("rollout config: {e}")))?;
        cfg.validate()?;
        Ok(cfg)
    }
}

/// Running mean and variance (Welford), of J per episode or of paired differences.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Tally {
    /// Episodes counted.
    pub n: u64,
    /// Mean.
    pub mean: f64,
    m2: f64,
}

impl Tally {
    /// Count one value (non-finite values are skipped).
    pub fn add(&mut self, x: f64) {
        if !x.is_finite() {
            return;
        }
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
    }

    /// Variance of the mean (0 with fewer than two values).
    pub fn var_of_mean(&self) -> f64 {
        if self.n < 2 {
            return 0.0;
        }
        self.m2 / (self.n - 1) as f64 / self.n as f64
    }
}

/// The evidence gathered on one queue since the mode last changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Evidence {
    /// J of episodes decided by the live tiers.
    pub live: Tally,
    /// J of episodes decided by the learned tier (canary, full).
    pub learned: Tally,
    /// Shadow: the learned schedule's counterfactual J minus the live J, same episode.
    pub shadow_diff: Tally,
    /// The live mean J when the canary was promoted to full (what full is held to).
    pub baseline: Option<f64>,
}

/// What the evidence says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Not enough episodes, or not conclusive.
    Wait,
    /// Not worse, with confidence: may step up.
    Promote,
    /// Worse past the bound, with confidence: roll back.
    Rollback,
}

impl Evidence {
    /// The learned arm (a canary's, or full's against its holdout) is worse than the live one by
    /// more than the bound, with confidence (the other reason a canary is rolled back is that
    /// it ran out of episodes).
    pub fn canary_regressed(&self, cfg: &RolloutConfig) -> bool {
        self.canary_gap(cfg)
            .is_some_and(|(diff, margin)| self.regressed_by(cfg, diff, margin))
    }

    /// Whether a canary gap `diff` (its bound's half-width `margin`) is a regression past the
    /// bound.
    fn regressed_by(&self, cfg: &RolloutConfig, diff: f64, margin: f64) -> bool {
        diff - margin > cfg.rollback_regression * self.live.mean.abs()
    }

    /// The canary's mean J minus the live arm's, and the half-width of its confidence bound
    /// (valid at every look: see `sequential`); None while either arm has fewer than
    /// `min_episodes`.
    fn canary_gap(&self, cfg: &RolloutConfig) -> Option<(f64, f64)> {
        let (a, b) = (&self.learned, &self.live);
        let min = u64::from(cfg.min_episodes);
        if a.n < min || b.n < min {
            return None;
        }
        let se = (a.var_of_mean() + b.var_of_mean()).sqrt();
        Some((a.mean - b.mean, cfg.margin(a.n.min(b.n)) * se))
    }

    /// Judge the evidence for a queue in `mode`.
    pub fn verdict(&self, mode: RolloutMode, cfg: &RolloutConfig) -> Verdict {
        let min = u64::from(cfg.min_episodes);
        match mode {
            RolloutMode::Off => Verdict::Wait,
            RolloutMode::Shadow => {
                let d = &self.shadow_diff;
                if d.n < min {
                    return Verdict::Wait;
                }
                let margin = cfg.margin(d.n) * d.var_of_mean().sqrt();
                if d.mean + margin <= 0.0 {
                    Verdict::Promote
                } else {
                    Verdict::Wait
                }
            }
            RolloutMode::Canary { .. } => {
                let Some((diff, margin)) = self.canary_gap(cfg) else {
                    return Verdict::Wait;
                };
                // Out of episodes and not ahead: what the canary has cost so far is all it
                // will cost. One that is ahead keeps its share (ending it would throw away a
                // likely gain) until it shows it helps, or falls behind at a later look.
                let ran_out = cfg.canary_max_episodes > 0
                    && self.learned.n >= u64::from(cfg.canary_max_episodes)
                    && diff >= 0.0;
                if self.regressed_by(cfg, diff, margin) {
                    Verdict::Rollback
                } else if diff + margin <= 0.0 {
                    Verdict::Promote
                } else if ran_out {
                    Verdict::Rollback
                } else {
                    Verdict::Wait
                }
            }
            RolloutMode::Full if cfg.full_holdout > 0.0 => {
                if self.canary_regressed(cfg) {
                    Verdict::Rollback
                } else {
                    Verdict::Wait
                }
            }
            RolloutMode::Full => {
                let (a, Some(base)) = (&self.learned, self.baseline) else {
                    return Verdict::Wait;
                };
                if a.n < min {
                    return Verdict::Wait;
                }
                let margin = cfg.margin(a.n) * a.var_of_mean().sqrt();
                if a.mean - base - margin > cfg.rollback_regression * base.abs() {
                    Verdict::Rollback
                } else {
                    Verdict::Wait
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_json_takes_defaults_and_refuses_nonsense() {
        let c = RolloutConfig::from_json(r#"{"min_episodes": 50, "auto_promote": true}"#)
            .expect("valid");
        assert_eq!(c.min_episodes, 50);
        assert!(c.auto_promote);
        assert_eq!(c.z, RolloutConfig::default().z);
        for bad in [
            r#"{"min_episode": 50}"#,
            r#"{"z": -1}"#,
            r#"{"canary_weight": 0}"#,
            r#"{"full_holdout": 0.6}"#,
            "7",
        ] {
            assert!(RolloutConfig::from_json(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn modes_parse() {
        assert_eq!(RolloutMode::parse("off").unwrap(), RolloutMode::Off);
        assert_eq!(
            RolloutMode::parse("canary:0.25").unwrap(),
            RolloutMode::Canary { weight: 0.25 }
        );
        for bad in ["canary:0", "canary:1.5", "canary:x", "half"] {
            assert!(RolloutMode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_canary_clearly_worse_is_rolled_back_and_a_better_one_promoted() {
        let cfg = RolloutConfig::default();
        let canary = RolloutMode::Canary { weight: 0.5 };
        let mut e = Evidence::default();
        for i in 0..40 {
            e.live.add(100.0 + f64::from(i % 5));
            e.learned.add(150.0 + f64::from(i % 7));
        }
        assert_eq!(e.verdict(canary, &cfg), Verdict::Rollback);
        let mut e = Evidence::default();
        for i in 0..40 {
            e.live.add(100.0 + f64::from(i % 5));
            e.learned.add(80.0 + f64::from(i % 7));
        }
        assert_eq!(e.verdict(canary, &cfg), Verdict::Promote);
        // Too few episodes: no verdict.
        let mut e = Evidence::default();
        e.live.add(1.0);
        e.learned.add(1000.0);
        assert_eq!(e.verdict(canary, &cfg), Verdict::Wait);
    }

    #[test]
    fn full_is_held_to_the_live_tiers_of_the_same_days() {
        let cfg = RolloutConfig::default();
        assert!(cfg.full_holdout > 0.0);
        // Every episode costs more than at promotion (a busier week), on both arms alike: not
        // a regression of the model's.
        let mut e = Evidence {
            baseline: Some(50.0),
            ..Evidence::default()
        };
        for i in 0..200 {
            e.learned.add(100.0 + f64::from(i % 7));
            if i % 4 == 0 {
                e.live.add(100.0 + f64::from(i % 5));
            }
        }
        assert_eq!(e.verdict(RolloutMode::Full, &cfg), Verdict::Wait);
        // Held to the stale baseline instead, it would have been rolled back.
        let stale = RolloutConfig {
            full_holdout: 0.0,
            ..cfg
        };
        assert_eq!(e.verdict(RolloutMode::Full, &stale), Verdict::Rollback);
        // Worse than the live tiers of the same days: rolled back.
        let mut e = Evidence::default();
        for i in 0..200 {
            e.learned.add(150.0 + f64::from(i % 7));
            if i % 4 == 0 {
                e.live.add(100.0 + f64::from(i % 5));
            }
        }
        assert_eq!(e.verdict(RolloutMode::Full, &cfg), Verdict::Rollback);
    }

    #[test]
    fn a_canary_better_by_luck_at_one_look_is_not_promoted() {
        // About 1.7 standard errors better after 40 episodes: a fixed-sample bound at 1.64
        // would promote; checked after every episode, that happens by chance too often.
        let cfg = RolloutConfig::default();
        let canary = RolloutMode::Canary { weight: 0.5 };
        let mut e = Evidence::default();
        for i in 0..40 {
            e.live.add(100.0 + f64::from(i % 10) * 20.0);
            e.learned.add(78.0 + f64::from(i % 10) * 20.0);
        }
        let (diff, se) = (
            e.learned.mean - e.live.mean,
            (e.learned.var_of_mean() + e.live.var_of_mean()).sqrt(),
        );
        assert!(
            diff + 1.64 * se < 0.0 && diff + 2.5 * se > 0.0,
            "{diff} {se}"
        );
        assert_eq!(e.verdict(canary, &cfg), Verdict::Wait);
    }

    #[test]
    fn an_inconclusive_canary_ends_after_its_episodes() {
        let cfg = RolloutConfig {
            canary_max_episodes: 100,
            ..RolloutConfig::default()
        };
        let canary = RolloutMode::Canary { weight: 0.5 };
        // Slightly worse, and noisy: neither bound is crossed.
        let mut e = Evidence::default();
        for i in 0..99 {
            e.live.add(100.0 + f64::from(i % 9) * 10.0);
            e.learned.add(113.0 + f64::from(i % 7) * 10.0);
        }
        assert!(!e.canary_regressed(&cfg));
        assert_eq!(e.verdict(canary, &cfg), Verdict::Wait);
        e.learned.add(143.0);
        assert_eq!(e.verdict(canary, &cfg), Verdict::Rollback);
        // 0: a canary may run for ever.
        let forever = RolloutConfig {
            canary_max_episodes: 0,
            ..cfg
        };
        assert_eq!(e.verdict(canary, &forever), Verdict::Wait);
    }

    #[test]
    fn an_inconclusive_canary_that_is_ahead_runs_on_until_it_falls_behind() {
        let cfg = RolloutConfig {
            canary_max_episodes: 100,
            ..RolloutConfig::default()
        };
        let canary = RolloutMode::Canary { weight: 0.5 };
        // Slightly better, and noisy: past its episodes without a verdict either way.
        let mut e = Evidence::default();
        for i in 0..150 {
            e.live.add(100.0 + f64::from(i % 9) * 30.0);
            e.learned.add(95.0 + f64::from((i + 4) % 9) * 30.0);
        }
        let (diff, margin) = e.canary_gap(&cfg).expect("enough episodes");
        assert!(diff < 0.0 && diff + margin > 0.0, "{diff} {margin}");
        assert_eq!(e.verdict(canary, &cfg), Verdict::Wait);
        // A run of bad episodes puts it behind: rolled back at that look.
        while e.learned.mean <= e.live.mean {
            e.learned.add(400.0);
        }
        assert!(!e.canary_regressed(&cfg));
        assert_eq!(e.verdict(canary, &cfg), Verdict::Rollback);
    }
}
