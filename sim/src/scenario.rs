//! Scenario files: each scenario is a documented generative model whose parameters live in a
//! TOML file under `sim/scenarios/`, embedded in the binary so `smartretry simulate` needs
//! nothing else. This module is the file format, its validation and the registry.

use crate::dist::LogNormal;
use crate::error::{Result, SimError};
use crate::job::FailureSpec;
use serde::Deserialize;

/// The embedded scenario files, in number order.
pub const FILES: [(&str, &str); 18] = [
    (
        "01-payment-outage.toml",
        include_str!("../scenarios/01-payment-outage.toml"),
    ),
    (
        "02-rate-limit.toml",
        include_str!("../scenarios/02-rate-limit.toml"),
    ),
    (
        "03-rate-limit-retry-after.toml",
        include_str!("../scenarios/03-rate-limit-retry-after.toml"),
    ),
    (
        "04-transient-blips.toml",
        include_str!("../scenarios/04-transient-blips.toml"),
    ),
    (
        "05-maintenance-window.toml",
        include_str!("../scenarios/05-maintenance-window.toml"),
    ),
    ("06-drift.toml", include_str!("../scenarios/06-drift.toml")),
    (
        "07-noisy-tenant.toml",
        include_str!("../scenarios/07-noisy-tenant.toml"),
    ),
    (
        "08-contention.toml",
        include_str!("../scenarios/08-contention.toml"),
    ),
    (
        "09-permanent-errors.toml",
        include_str!("../scenarios/09-permanent-errors.toml"),
    ),
    (
        "10-openai-replay.toml",
        include_str!("../scenarios/10-openai-replay.toml"),
    ),
    (
        "11-brownout.toml",
        include_str!("../scenarios/11-brownout.toml"),
    ),
    (
        "12-http-blip.toml",
        include_str!("../scenarios/12-http-blip.toml"),
    ),
    (
        "13-contention-ms.toml",
        include_str!("../scenarios/13-contention-ms.toml"),
    ),
    (
        "14-heavy-tail.toml",
        include_str!("../scenarios/14-heavy-tail.toml"),
    ),
    (
        "15-rate-limit-short.toml",
        include_str!("../scenarios/15-rate-limit-short.toml"),
    ),
    (
        "16-rate-limit-long.toml",
        include_str!("../scenarios/16-rate-limit-long.toml"),
    ),
    (
        "17-brownout-light.toml",
        include_str!("../scenarios/17-brownout-light.toml"),
    ),
    (
        "18-brownout-heavy.toml",
        include_str!("../scenarios/18-brownout-heavy.toml"),
    ),
];

/// Scenarios run only with the learned tier (`smartretry simulate --ml`), so that the default
/// suite (`make demo`) and its floor are exactly as before the learned tier existed.
pub const ML_FILES: [(&str, &str); 1] = [(
    "20-load-dependent.toml",
    include_str!("../scenarios/20-load-dependent.toml"),
)];

/// One scenario: shared parameters plus its generative model.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub number: u32,
    /// Short name used on the command line (`--scenario payment-outage`).
    pub name: String,
    pub title: String,
    /// What the model is and why its parameters are what they are.
    pub description: String,
    /// Price of one failed attempt, in seconds of delay (the `c` of J).
    pub c: f64,
    /// Job deadline in seconds: a job not done by then has failed and costs the deadline.
    pub deadline: f64,
    /// Jobs per run (overridable from the command line).
    pub jobs: usize,
    /// Share of the first jobs (by arrival) reported as warm-up rather than steady state.
    #[serde(default = "default_warmup")]
    pub warmup_share: f64,
    /// Cap of the static exponential/jitter baselines (60 s; 1 h in scenario 10).
    #[serde(default = "default_cap")]
    pub static_cap: f64,
    /// Base delay of the static baselines (1 s; the fixed schedule is 10, 30, 90 times it), so
    /// they run at the scenario's time scale.
    #[serde(default = "default_base")]
    pub static_base: f64,
    /// Where the retry lives, as a user of the engine would say: `request` or `background`.
    #[serde(default)]
    pub preset: smartretry::Preset,
    /// Queue (job-type) key the jobs use.
    pub queue: String,
    /// Poisson arrival rate of failing jobs, per second, for models whose arrivals are free.
    #[serde(default = "default_rate")]
    pub arrival_rate: f64,
    pub model: Model,
}

fn default_warmup() -> f64 {
    0.2
}
fn default_cap() -> f64 {
    60.0
}
fn default_base() -> f64 {
    1.0
}
fn default_rate() -> f64 {
    0.5
}

/// A permanent failure in a mix, with its share of jobs.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermanentShare {
    pub share: f64,
    pub failure: FailureSpec,
}

/// The generative models. See each scenario file for the story and the parameters.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Model {
    /// Each job's dependency recovers after a log-normal time since its first failure; before
    /// that each attempt still succeeds with probability `brownout_share`.
    LogNormal {
        recovery: LogNormal,
        failure: FailureSpec,
        #[serde(default)]
        brownout_share: f64,
    },
    /// Outages shared by every job: the dependency is down for a log-normal time (`duration`),
    /// then up for an exponential time (mean `up` seconds). Failing jobs arrive only while it is
    /// down, and every job of one outage recovers when that outage ends, so a job's wait is what
    /// is left of its outage (the commonest shape of a real incident). Before that each attempt
    /// still succeeds with probability `brownout_share`.
    Outages {
        duration: LogNormal,
        up: f64,
        failure: FailureSpec,
        #[serde(default)]
        brownout_share: f64,
    },
    /// Log-normal recovery whose distribution changes after `shift_share` of the jobs.
    Drift {
        before: LogNormal,
        after: LogNormal,
        shift_share: f64,
        failure: FailureSpec,
    },
    /// Fixed rate-limit windows: the quota lasts the first `open_share` of each `period`.
    RateLimit {
        period: f64,
        open_share: f64,
        retry_after: bool,
        failure: FailureSpec,
    },
    /// Transient blips: `instant_share` recover at once, the rest after a log-normal time.
    Blips {
        instant_share: f64,
        slow: LogNormal,
        failure: FailureSpec,
    },
    /// A nightly maintenance window during which every attempt times out, plus background
    /// timeouts at other hours that recover after a log-normal time.
    Maintenance {
        start_hour: f64,
        minutes: f64,
        days: u32,
        window_share: f64,
        background: LogNormal,
        failure: FailureSpec,
    },
    /// Recovery that depends on load and on the day: each job sees a queue depth D drawn from
    /// `depth`, and recovers after `recovery` × (D / median depth)^`depth_exponent` × the
    /// factor of its day of week (`weekday_factor`, Monday first). The depth is the caller's
    /// context (`AttemptContext::queue_depth`); arrivals spread evenly over `days` days.
    Load {
        recovery: LogNormal,
        depth: LogNormal,
        depth_exponent: f64,
        weekday_factor: Vec<f64>,
        days: u32,
        failure: FailureSpec,
    },
    /// Several tenants with log-normal recovery, plus one whose failures never recover.
    NoisyTenant {
        tenants: Vec<String>,
        noisy: String,
        noisy_share: f64,
        recovery: LogNormal,
        failure: FailureSpec,
    },
    /// N clients start together on one shared resource; attempts within `window` seconds of
    /// another attempt collide and fail, so retries add load.
    Contention {
        clients: u32,
        window: f64,
        round_gap: f64,
        failure: FailureSpec,
    },
    /// Transient log-normal failures mixed with permanent ones that must not be retried.
    Mixed {
        recovery: LogNormal,
        failure: FailureSpec,
        permanent: Vec<PermanentShare>,
    },
    /// Replay of the real incident timeline; attempts fail with a probability by impact level.
    Incidents {
        /// Share of jobs calling each component: API, ChatGPT, Playground, Labs.
        component_shares: Vec<f64>,
        /// P(an attempt fails) while an incident of impact 0..=4 is open.
        fail_prob: Vec<f64>,
        /// Length of incidents reported with start = end (unknown but short).
        unknown_length: LogNormal,
        failure: FailureSpec,
    },
}

/// How the oracle relates to a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OracleKind {
    /// Recovery is all-or-nothing: the oracle's J is a lower bound for every policy.
    Bound,
    /// The oracle (one attempt at recovery) is shown for reference, but lucky attempts during
    /// the outage can beat it.
    Reference,
    /// Not defined (success depends on other clients).
    None,
}

impl Scenario {
    /// Parse and validate one file.
    pub fn from_toml(file: &str, text: &str) -> Result<Scenario> {
        let s: Scenario = toml::from_str(text).map_err(|e| SimError::Scenario {
            name: file.to_string(),
            reason: e.to_string(),
        })?;
        s.validate().map_err(|reason| SimError::Scenario {
            name: file.to_string(),
            reason,
        })?;
        Ok(s)
    }

    /// Every embedded scenario, in number order.
    pub fn all() -> Result<Vec<Scenario>> {
        FILES
            .iter()
            .map(|(file, text)| Scenario::from_toml(file, text))
            .collect()
    }

    /// The scenarios that run only with the learned tier.
    pub fn ml_only() -> Result<Vec<Scenario>> {
        ML_FILES
            .iter()
            .map(|(file, text)| Scenario::from_toml(file, text))
            .collect()
    }

    /// `select`, over the default suite and the learned tier's own scenarios (`all`: both).
    pub fn select_ml(which: &str) -> Result<Vec<Scenario>> {
        let mut all = Scenario::all()?;
        all.extend(Scenario::ml_only()?);
        Scenario::select_from(all, which)
    }

    /// Scenarios selected by a number, a name (or a unique prefix of one), or `all`.
    pub fn select(which: &str) -> Result<Vec<Scenario>> {
        Scenario::select_from(Scenario::all()?, which)
    }

    fn select_from(all: Vec<Scenario>, which: &str) -> Result<Vec<Scenario>> {
        let w = which.trim().to_ascii_lowercase();
        if w == "all" {
            return Ok(all);
        }
        let mut out = Vec::new();
        for part in w.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let hit: Vec<&Scenario> = match part.parse::<u32>() {
                Ok(n) => all.iter().filter(|s| s.number == n).collect(),
                Err(_) => {
                    let exact: Vec<&Scenario> = all.iter().filter(|s| s.name == part).collect();
                    if exact.is_empty() {
                        all.iter().filter(|s| s.name.starts_with(part)).collect()
                    } else {
                        exact
                    }
                }
            };
            match hit.as_slice() {
                [one] => out.push((*one).clone()),
                _ => return Err(SimError::UnknownScenario(part.to_string())),
            }
        }
        if out.is_empty() {
            return Err(SimError::UnknownScenario(which.to_string()));
        }
        Ok(out)
    }

    /// Whether the oracle is a bound here (see [`OracleKind`]).
    pub fn oracle(&self) -> OracleKind {
        match &self.model {
            // Attempts fail with a probability that follows the incident timeline: the optimum
            // given each job's truth would need the future of that timeline. Not shown.
            Model::Incidents { .. } => OracleKind::None,
            Model::Contention { .. } => OracleKind::None,
            _ => OracleKind::Bound,
        }
    }

    /// Unix seconds of simulated time 0 (midnight UTC, so time of day is meaningful; the
    /// incident replay uses the incidents' own dates instead).
    pub fn default_epoch() -> f64 {
        1_699_920_000.0
    }

    fn validate(&self) -> Result<(), String> {
        let pos = |v: f64, what: &str| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(format!("{what} must be a positive number, got {v}"))
            }
        };
        let share = |v: f64, what: &str| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(format!("{what} must be between 0 and 1, got {v}"))
            }
        };
        if !(self.c.is_finite() && self.c >= 0.0) {
            return Err(format!(
                "c must be a non-negative number of seconds, got {}",
                self.c
            ));
        }
        pos(self.deadline, "deadline")?;
        pos(self.static_cap, "static_cap")?;
        pos(self.static_base, "static_base")?;
        pos(self.arrival_rate, "arrival_rate")?;
        share(self.warmup_share, "warmup_share")?;
        if self.jobs == 0 || self.jobs > 1_000_000 {
            return Err("jobs must be between 1 and 1000000".into());
        }
        match &self.model {
            Model::LogNormal {
                recovery,
                brownout_share,
                ..
            } => {
                recovery.validate("recovery")?;
                share(*brownout_share, "brownout_share")
            }
            Model::Outages {
                duration,
                up,
                brownout_share,
                ..
            } => {
                duration.validate("duration")?;
                pos(*up, "up")?;
                // Jobs come only from outages: too few per outage and drawing them never ends.
                if duration.median * self.arrival_rate < 1e-4 {
                    return Err(
                        "outages: duration.median x arrival_rate must be at least 1e-4 (failing jobs per outage)"
                            .into(),
                    );
                }
                share(*brownout_share, "brownout_share")
            }
            Model::Drift {
                before,
                after,
                shift_share,
                ..
            } => {
                before.validate("before")?;
                after.validate("after")?;
                share(*shift_share, "shift_share")
            }
            Model::RateLimit {
                period, open_share, ..
            } => {
                pos(*period, "period")?;
                share(*open_share, "open_share")
            }
            Model::Blips {
                instant_share,
                slow,
                ..
            } => {
                slow.validate("slow")?;
                share(*instant_share, "instant_share")
            }
            Model::Maintenance {
                start_hour,
                minutes,
                days,
                window_share,
                background,
                ..
            } => {
                background.validate("background")?;
                share(*window_share, "window_share")?;
                if !((0.0..24.0).contains(start_hour) && *minutes > 0.0 && *minutes < 600.0) {
                    return Err("the window must start in 0..24 h and last 0..600 min".into());
                }
                if *days == 0 {
                    return Err("days must be at least 1".into());
                }
                Ok(())
            }
            Model::Load {
                recovery,
                depth,
                depth_exponent,
                weekday_factor,
                days,
                ..
            } => {
                recovery.validate("recovery")?;
                depth.validate("depth")?;
                if !(depth_exponent.is_finite() && depth_exponent.abs() <= 4.0) {
                    return Err("depth_exponent must be between -4 and 4".into());
                }
                if weekday_factor.len() != 7 {
                    return Err("weekday_factor needs 7 factors, Monday first".into());
                }
                for f in weekday_factor {
                    pos(*f, "weekday_factor")?;
                }
                if *days == 0 {
                    return Err("days must be at least 1".into());
                }
                Ok(())
            }
            Model::NoisyTenant {
                tenants,
                noisy_share,
                recovery,
                ..
            } => {
                recovery.validate("recovery")?;
                if tenants.is_empty() {
                    return Err("at least one well-behaved tenant is needed".into());
                }
                share(*noisy_share, "noisy_share")
            }
            Model::Contention {
                clients,
                window,
                round_gap,
                ..
            } => {
                pos(*window, "window")?;
                pos(*round_gap, "round_gap")?;
                if *clients == 0 {
                    return Err("clients must be at least 1".into());
                }
                Ok(())
            }
            Model::Mixed {
                recovery,
                permanent,
                ..
            } => {
                recovery.validate("recovery")?;
                let total: f64 = permanent.iter().map(|p| p.share).sum();
                for p in permanent {
                    share(p.share, "permanent share")?;
                }
                share(total, "sum of permanent shares")
            }
            Model::Incidents {
                component_shares,
                fail_prob,
                unknown_length,
                ..
            } => {
                unknown_length.validate("unknown_length")?;
                if component_shares.len() != crate::incidents::COMPONENTS.len()
                    || component_shares
                        .iter()
                        .any(|s| !(*s >= 0.0 && s.is_finite()))
                    || component_shares.iter().sum::<f64>() <= 0.0
                {
                    return Err("component_shares needs 4 non-negative weights, not all 0".into());
                }
                if fail_prob.len() != 5 {
                    return Err("fail_prob needs one probability per impact level 0..=4".into());
                }
                fail_prob.iter().try_for_each(|p| share(*p, "fail_prob"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_loads_and_is_numbered_in_order() {
        let all = Scenario::all().unwrap();
        assert_eq!(all.len(), FILES.len());
        for (i, s) in all.iter().enumerate() {
            assert_eq!(s.number as usize, i + 1, "{}", s.name);
        }
        let ml = Scenario::ml_only().unwrap();
        // Number FILES.len() + 1 is the throttled fleet (`crate::fleet`, its own format).
        assert_eq!(ml[0].number as usize, FILES.len() + 2);
        // The learned tier's scenarios are not in the default suite, but --ml finds them.
        assert!(Scenario::select("load-dependent").is_err());
        assert_eq!(Scenario::select_ml("load-dependent").unwrap().len(), 1);
    }

    #[test]
    fn selection_by_number_name_and_prefix() {
        assert_eq!(Scenario::select("3").unwrap()[0].number, 3);
        assert_eq!(Scenario::select("payment-outage").unwrap()[0].number, 1);
        assert_eq!(Scenario::select("1,brownout-h").unwrap().len(), 2);
        assert!(Scenario::select("nope").is_err());
        assert!(Scenario::select("rate-limit").is_ok());
    }

    #[test]
    fn bad_files_are_typed_errors() {
        let bad = FILES[0].1.replace("c = ", "c = -");
        assert!(matches!(
            Scenario::from_toml("x", &bad),
            Err(SimError::Scenario { .. })
        ));
        assert!(Scenario::from_toml("x", "number = 1").is_err());
    }

    #[test]
    fn shared_outages_load_and_generate_jobs_that_recover_together() {
        let text = include_str!("../../examples/sim/shared-outages.toml");
        let s = Scenario::from_toml("shared-outages", text).unwrap();
        let g = crate::generate::generate(&s, 0, Some(400)).unwrap();
        assert_eq!(g.jobs.len(), 400);
        // Jobs of one outage share its end: far fewer distinct recovery times than jobs.
        let mut ends: Vec<u64> = g
            .jobs
            .iter()
            .filter_map(|j| match j.truth {
                crate::job::Truth::At(t) => Some(t.to_bits()),
                _ => None,
            })
            .collect();
        assert_eq!(ends.len(), 400);
        ends.sort_unstable();
        ends.dedup();
        assert!(ends.len() < 40, "{} outages for 400 jobs", ends.len());
        // Too few failing jobs per outage would never finish drawing: refused.
        let thin = text.replace("median = 60.0", "median = 0.00001");
        assert!(matches!(
            Scenario::from_toml("x", &thin),
            Err(SimError::Scenario { .. })
        ));
    }
}
