//! Runs scenarios × policies × seeds, in parallel over a few threads (each run is independent
//! and deterministic, so the thread count never changes a number), and summarises each policy
//! per scenario: steady state and warm-up metrics, mean of the seeds.

use crate::dist::seed_of;
use crate::error::Result;
use crate::generate::{generate, Generated};
use crate::metrics::{compute, job_cost, mean_over, reconvergence, Metrics};
use crate::policy::PolicyKind;
use crate::runner::{run, RunResult};
use crate::scenario::{Model, OracleKind, Scenario};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// What to run.
#[derive(Debug, Clone)]
pub struct SuiteConfig {
    /// Seeds 0..seeds.
    pub seeds: u32,
    /// Jobs per run (each scenario's own count when `None`).
    pub jobs: Option<usize>,
    /// Worker threads.
    pub threads: usize,
    pub policies: Vec<PolicyKind>,
    /// Starting policy of the engine runs (`Policy::default()` when `None`).
    pub engine_policy: Option<smartretry::Policy>,
}

impl Default for SuiteConfig {
    fn default() -> Self {
        SuiteConfig {
            seeds: 5,
            jobs: None,
            threads: std::thread::available_parallelism().map_or(2, |n| n.get().min(4)),
            policies: PolicyKind::ALL.to_vec(),
            engine_policy: None,
        }
    }
}

/// One policy's results in one scenario.
#[derive(Debug, Clone)]
pub struct PolicySummary {
    pub kind: PolicyKind,
    pub steady: Metrics,
    pub warmup: Metrics,
    /// Most attempts per second of simulated time (mean over seeds of each run's peak).
    pub peak_rps: f64,
    /// All attempts of a run (mean over seeds).
    pub total_calls: f64,
    /// Steady-state J minus the oracle's, where the oracle runs.
    pub regret: Option<f64>,
    /// Scenario 6: episodes after the shift until back within 10% of the new steady state.
    pub reconverge: Option<usize>,
    /// Scenario 7: the other tenants' steady-state J with and without the noisy tenant.
    pub others_j: Option<(f64, f64)>,
    /// The learned recovery curve after seed 0's run, when the policy learns one.
    pub curve: Option<Vec<(f64, f64)>>,
    /// Steady-state times to success, all seeds (for the plots).
    pub tts: Vec<f64>,
    /// The policy's decision counts, summed over seeds.
    pub diagnostics: Vec<(String, u64)>,
}

/// All policies' results in one scenario.
#[derive(Debug, Clone)]
pub struct ScenarioResult {
    pub scenario: Scenario,
    pub policies: Vec<PolicySummary>,
    /// Policies that could not run, with the reason.
    pub skipped: Vec<(PolicyKind, String)>,
    /// True recovery delays of seed 0's jobs, sorted (the "true curve" of the plots).
    pub recovery_sample: Vec<f64>,
}

impl ScenarioResult {
    pub fn get(&self, kind: PolicyKind) -> Option<&PolicySummary> {
        self.policies.iter().find(|p| p.kind == kind)
    }

    /// The best steady-state J among the common static baselines.
    pub fn best_static(&self) -> Option<&PolicySummary> {
        self.policies
            .iter()
            .filter(|p| p.kind.is_common_static())
            .min_by(|a, b| a.steady.j.total_cmp(&b.steady.j))
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Variant {
    Full,
    /// Scenario 7 without the noisy tenant's jobs.
    WithoutNoisy,
}

struct Task {
    seed: u32,
    policy: PolicyKind,
    variant: Variant,
    world: Arc<Generated>,
}

type TaskOutput = std::result::Result<RunResult, String>;

/// Run the suite: each scenario's jobs generated per seed, then every policy on them.
pub fn run_suite(scenarios: &[Scenario], cfg: &SuiteConfig) -> Result<Vec<ScenarioResult>> {
    scenarios
        .iter()
        .map(|s| {
            let gens = (0..cfg.seeds.max(1))
                .map(|seed| generate(s, u64::from(seed), cfg.jobs))
                .collect::<Result<Vec<_>>>()?;
            Ok(run_generated(s, gens, cfg))
        })
        .collect()
}

/// Run every policy of `cfg` on already generated jobs (one `Generated` per seed, seed = index).
/// The replay uses this with jobs built from a recorded history.
pub fn run_generated(s: &Scenario, gens: Vec<Generated>, cfg: &SuiteConfig) -> ScenarioResult {
    let mut tasks = Vec::new();
    let mut sample = Vec::new();
    for (seed, g) in gens.into_iter().enumerate() {
        let seed = seed as u32;
        let g = Arc::new(g);
        if seed == 0 {
            sample = g.jobs.iter().filter_map(|j| j.recovery_delay()).collect();
            sample.sort_by(f64::total_cmp);
        }
        let without = if matches!(s.model, Model::NoisyTenant { .. }) {
            let mut w = (*g).clone();
            w.jobs.retain(|j| j.group == 0);
            Some(Arc::new(w))
        } else {
            None
        };
        for &p in cfg.policies.iter().filter(|p| p.applies_to(s)) {
            tasks.push(Task {
                seed,
                policy: p,
                variant: Variant::Full,
                world: g.clone(),
            });
            if let Some(w) = &without {
                tasks.push(Task {
                    seed,
                    policy: p,
                    variant: Variant::WithoutNoisy,
                    world: w.clone(),
                });
            }
        }
    }
    let outputs = execute(s, &tasks, cfg);
    let mut policies = Vec::new();
    let mut skipped = Vec::new();
    for &p in cfg.policies.iter().filter(|p| p.applies_to(s)) {
        let mine = |v: Variant| -> Vec<(u32, &TaskOutput)> {
            tasks
                .iter()
                .zip(&outputs)
                .filter(|(t, _)| t.policy == p && t.variant == v)
                .map(|(t, o)| (t.seed, o))
                .collect()
        };
        let full = mine(Variant::Full);
        if let Some((_, Err(e))) = full.iter().find(|(_, o)| o.is_err()) {
            skipped.push((p, e.clone()));
            continue;
        }
        let runs: Vec<&RunResult> = full.iter().filter_map(|(_, o)| o.as_ref().ok()).collect();
        let without: Vec<&RunResult> = mine(Variant::WithoutNoisy)
            .iter()
            .filter_map(|(_, o)| o.as_ref().ok())
            .collect();
        policies.push(summarise(s, p, &runs, &without));
    }
    // Regret only where the oracle is a bound; elsewhere it is a reference a lucky policy
    // can beat, and a negative "regret" would mislead.
    let oracle = policies
        .iter()
        .find(|p| p.kind == PolicyKind::Oracle)
        .map(|o| o.steady.j)
        .filter(|_| oracle_is_bound(s));
    if let Some(oracle) = oracle {
        for p in &mut policies {
            p.regret = Some(p.steady.j - oracle);
        }
    }
    ScenarioResult {
        scenario: s.clone(),
        policies,
        skipped,
        recovery_sample: sample,
    }
}

/// Run every task on `threads` workers; outputs in task order.
fn execute(s: &Scenario, tasks: &[Task], cfg: &SuiteConfig) -> Vec<TaskOutput> {
    let threads = cfg.threads.max(1);
    let next = AtomicUsize::new(0);
    let out: Mutex<Vec<Option<TaskOutput>>> = Mutex::new(vec![None; tasks.len()]);
    std::thread::scope(|scope| {
        for _ in 0..threads.min(tasks.len().max(1)) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(t) = tasks.get(i) else { break };
                let seed = seed_of(&[&s.name, t.policy.label(), &t.seed.to_string()]);
                let r = t
                    .policy
                    .build_with(s, seed, t.world.world.epoch, cfg.engine_policy.as_ref())
                    .map(|mut policy| {
                        run(
                            &t.world.jobs,
                            t.world.world.clone(),
                            policy.as_mut(),
                            s.deadline,
                        )
                    })
                    .map_err(|e| e.to_string());
                if let Ok(mut o) = out.lock() {
                    o[i] = Some(r);
                }
            });
        }
    });
    out.into_inner()
        .unwrap_or_default()
        .into_iter()
        .map(|o| o.unwrap_or_else(|| Err("run did not complete".into())))
        .collect()
}

fn summarise(
    s: &Scenario,
    kind: PolicyKind,
    runs: &[&RunResult],
    without: &[&RunResult],
) -> PolicySummary {
    let (c, d) = (s.c, s.deadline);
    let steady: Vec<Metrics> = runs
        .iter()
        .map(|r| compute(r.records.iter().filter(|j| !j.warmup), c, d))
        .collect();
    let warm: Vec<Metrics> = runs
        .iter()
        .map(|r| compute(r.records.iter().filter(|j| j.warmup), c, d))
        .collect();
    let reconverge = matches!(s.model, Model::Drift { .. })
        .then(|| {
            let per_seed: Vec<Vec<f64>> = runs
                .iter()
                .map(|r| {
                    r.records
                        .iter()
                        .filter(|j| j.group == 1)
                        .map(|j| job_cost(j, c, d))
                        .collect()
                })
                .collect();
            reconvergence(&per_seed, 50, 0.10)
        })
        .flatten();
    let others_j = (!without.is_empty()).then(|| {
        let others = |rs: &[&RunResult]| {
            let ms: Vec<Metrics> = rs
                .iter()
                .map(|r| compute(r.records.iter().filter(|j| !j.warmup && j.group == 0), c, d))
                .collect();
            mean_over(&ms).j
        };
        (others(runs), others(without))
    });
    let n = runs.len().max(1) as f64;
    PolicySummary {
        kind,
        steady: mean_over(&steady),
        warmup: mean_over(&warm),
        peak_rps: runs.iter().map(|r| f64::from(r.peak_rps)).sum::<f64>() / n,
        total_calls: runs.iter().map(|r| r.total_attempts as f64).sum::<f64>() / n,
        regret: None,
        reconverge,
        others_j,
        curve: runs.first().and_then(|r| r.curve.clone()),
        diagnostics: {
            let mut m = std::collections::BTreeMap::new();
            for (k, v) in runs.iter().flat_map(|r| r.diagnostics.iter()) {
                *m.entry(k.clone()).or_insert(0u64) += v;
            }
            m.into_iter().collect()
        },
        tts: runs
            .iter()
            .flat_map(|r| r.records.iter().filter(|j| !j.warmup && j.success))
            .map(|j| j.elapsed)
            .collect(),
    }
}

/// Whether the oracle's J is a bound in this scenario (for the checks).
pub fn oracle_is_bound(s: &Scenario) -> bool {
    s.oracle() == OracleKind::Bound
}
