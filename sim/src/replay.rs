//! Offline evaluation on a recorded history: estimate each (queue, class)'s recovery
//! distribution from censored episodes (Turnbull), rebuild every episode as a simulated job
//! whose recovery time is drawn from that estimate *within what the episode showed*, and run
//! the policies: the older episodes (train) are the warm-up, the newer ones (test) are scored.

use crate::dist::seed_of;
use crate::dist::LogNormal;
use crate::error::{Result, SimError};
use crate::generate::Generated;
use crate::history::{episodes, EpisodeObs};
use crate::job::{Fault, Job, Truth};
use crate::metrics::{compute, Metrics};
use crate::runner::JobRecord;
use crate::scenario::{Model, Scenario};
use crate::suite::{run_generated, ScenarioResult, SuiteConfig};
use crate::survival::{turnbull, Estimate};
use crate::world::World;
use rand::rngs::SmallRng;
use rand::SeedableRng;
use smartretry::AttemptRecord;
use std::collections::BTreeMap;

/// Replay settings.
#[derive(Debug, Clone)]
pub struct ReplayConfig {
    /// Price of one failed attempt, in seconds.
    pub c: f64,
    /// Job deadline, in seconds.
    pub deadline: f64,
    /// Share of episodes (oldest first) used as training / warm-up.
    pub train_share: f64,
    pub suite: SuiteConfig,
}

/// The recovery estimate of one (queue, class) group.
#[derive(Debug, Clone)]
pub struct GroupEstimate {
    pub queue: String,
    pub class: String,
    pub episodes: usize,
    pub estimate: Estimate,
}

/// What a replay found.
#[derive(Debug, Clone)]
pub struct ReplayResult {
    pub records: usize,
    pub train: usize,
    pub test: usize,
    pub groups: Vec<GroupEstimate>,
    /// The test episodes as they actually went under the logging policy.
    pub logged: Metrics,
    pub result: ScenarioResult,
}

/// Run the replay.
pub fn replay(records: &[AttemptRecord], cfg: &ReplayConfig) -> Result<ReplayResult> {
    if !(cfg.c.is_finite() && cfg.c >= 0.0 && cfg.deadline.is_finite() && cfg.deadline > 0.0) {
        return Err(SimError::Invalid(
            "c must be >= 0 and the deadline > 0 seconds".into(),
        ));
    }
    if !(0.0..1.0).contains(&cfg.train_share) {
        return Err(SimError::Invalid(
            "the train share must be in [0, 1)".into(),
        ));
    }
    let eps = episodes(records);
    if eps.len() < 2 {
        return Err(SimError::Invalid(format!(
            "the history holds {} failure episodes; at least 2 are needed",
            eps.len()
        )));
    }
    let train = ((eps.len() as f64) * cfg.train_share).round() as usize;
    let train = train.min(eps.len() - 1);
    // One estimate per (queue, class), from every episode (train and test).
    let key = |e: &EpisodeObs| (e.queue.clone(), e.failure.class.as_str().to_string());
    let mut by_group: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for (i, e) in eps.iter().enumerate() {
        by_group.entry(key(e)).or_default().push(i);
    }
    let mut groups = Vec::new();
    let mut group_of = vec![0usize; eps.len()];
    for (gi, ((queue, class), idx)) in by_group.into_iter().enumerate() {
        let obs: Vec<_> = idx.iter().map(|&i| eps[i].interval()).collect();
        for &i in &idx {
            group_of[i] = gi;
        }
        groups.push(GroupEstimate {
            queue,
            class,
            episodes: idx.len(),
            estimate: turnbull(&obs, 2000),
        });
    }
    let origin = eps[0].start - 1.0;
    let scenario = replay_scenario(&eps[0], cfg, eps.len(), train);
    let gens = (0..cfg.suite.seeds.max(1))
        .map(|seed| {
            let mut rng = SmallRng::seed_from_u64(seed_of(&["replay", &seed.to_string()]));
            let jobs = eps
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    let t0 = e.start - origin;
                    let est = &groups[group_of[i]].estimate;
                    let r = if e.failure.class.is_retryable() {
                        est.sample_within(e.interval(), &mut rng)
                    } else {
                        None
                    };
                    let (fault, truth) = match r {
                        Some(r) => (
                            Fault::Recovers {
                                at: t0 + r,
                                brownout: 0.0,
                            },
                            Truth::At(t0 + r),
                        ),
                        None => (Fault::Never, Truth::Never),
                    };
                    Job {
                        id: i as u32,
                        arrival: t0,
                        queue: e.queue.clone(),
                        tenant: e.tenant.clone(),
                        fault,
                        failure: e.failure.clone(),
                        truth,
                        warmup: i < train,
                        group: 0,
                        queue_depth: None,
                    }
                })
                .collect();
            let world_rng = SmallRng::seed_from_u64(seed_of(&["replay-world", &seed.to_string()]));
            Generated {
                jobs,
                world: World::new(origin, world_rng),
            }
        })
        .collect();
    let result = run_generated(&scenario, gens, &cfg.suite);
    let logged_records: Vec<JobRecord> = eps[train..]
        .iter()
        .map(|e| {
            let failed = e.failures.len() as u32;
            JobRecord {
                success: e.success.is_some(),
                elapsed: e.success.unwrap_or(cfg.deadline),
                attempts: failed + u32::from(e.success.is_some()),
                failed,
                first_retry_ok: (failed + u32::from(e.success.is_some()) >= 2)
                    .then_some(failed == 1 && e.success.is_some()),
                permanent_retries: 0,
                recovery_to_success: None,
                warmup: false,
                group: 0,
            }
        })
        .collect();
    Ok(ReplayResult {
        records: records.len(),
        train,
        test: eps.len() - train,
        groups,
        logged: compute(logged_records.iter(), cfg.c, cfg.deadline),
        result,
    })
}

/// A scenario value that carries the replay's c, deadline and split (its model is not used:
/// the jobs come from the history).
fn replay_scenario(first: &EpisodeObs, cfg: &ReplayConfig, n: usize, train: usize) -> Scenario {
    Scenario {
        number: 0,
        name: "replay".into(),
        title: "Replay of a recorded attempt history".into(),
        description: "Episodes from the history; each one's recovery time is drawn from the \
                      censored (Turnbull) estimate of its (queue, class), restricted to the \
                      interval the episode itself showed (after its last failure, at or \
                      before its success). Older episodes are the warm-up (train), newer ones \
                      are scored (test)."
            .into(),
        c: cfg.c,
        deadline: cfg.deadline,
        jobs: n,
        warmup_share: train as f64 / n as f64,
        static_cap: 60.0,
        static_base: 1.0,
        preset: smartretry::Preset::Background,
        queue: first.queue.clone(),
        arrival_rate: 1.0,
        model: Model::LogNormal {
            recovery: LogNormal {
                median: 1.0,
                sigma: 0.0,
            },
            failure: first.failure.clone(),
            brownout_share: 0.0,
        },
    }
}
