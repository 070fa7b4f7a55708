//! The learned tier's trainer (`smartretry train`): attempt history in, model file out.
//!
//! 1. `dataset`: episodes and rows from the history, features by the core's own encoding;
//! 2. k-fold cross-validation (folds by episode, so no episode is on both sides): Brier,
//!    log-loss, AUC;
//! 3. a time-ordered holdout (the latest episodes): the same metrics, and the counterfactual J
//!    of the model's schedule against the schedule that ran (the Bayesian tier's, when the
//!    history came from an engine that learns), priced by the core's shadow pricing;
//! 4. the model trained before the holdout is emitted only if its J on the holdout is not worse.

pub mod dataset;
pub mod fit;
pub mod metrics;

use dataset::{Dataset, Row};
use smartretry::learn::counterfactual::{realised_cost, Observed, Pricing};
use smartretry::learned::counterfactual::learned_cost;
use smartretry::learned::{FeatureInput, LogisticModel, Metrics, ModelFile, TrainingInfo};
use smartretry::AttemptRecord;

/// What the trainer is told.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Folds of cross-validation.
    pub folds: u32,
    /// Share of the latest episodes held out.
    pub holdout: f64,
    /// L2 penalty.
    pub l2: f64,
    /// Price of a failed attempt, seconds (the `c` of J).
    pub failure_cost: f64,
    /// What an episode that never succeeds costs, seconds (the deadline).
    pub horizon: f64,
    /// The history's name, for the model's metadata.
    pub history: String,
    /// Fewest retried attempts to train on.
    pub min_rows: usize,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            folds: 5,
            holdout: 0.2,
            l2: 0.01,
            failure_cost: 1.0,
            horizon: 3600.0,
            history: String::new(),
            min_rows: 50,
        }
    }
}

/// Why no model was emitted.
#[derive(Debug)]
pub enum TrainError {
    /// Not enough data, or only one outcome.
    Data(String),
    /// The optimiser failed.
    Fit(String),
    /// The model loses to the schedule that ran on the holdout: not emitted.
    Refused(Box<Metrics>),
}

impl std::fmt::Display for TrainError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TrainError::Data(m) => write!(f, "not enough data: {m}"),
            TrainError::Fit(m) => write!(f, "fit failed: {m}"),
            TrainError::Refused(m) => write!(
                f,
                "refused: on the holdout the model's schedule costs J = {:.2} s per episode, the schedule that ran {:.2} s ({} episodes)",
                m.holdout_j_learned, m.holdout_j_baseline, m.holdout_episodes
            ),
        }
    }
}

fn fit_rows(d: &Dataset, rows: &[&Row], l2: f64) -> Result<LogisticModel, TrainError> {
    let pos = rows.iter().filter(|r| r.y).count();
    if pos == 0 || pos == rows.len() {
        return Err(TrainError::Data(
            "every retried attempt had the same outcome".into(),
        ));
    }
    fit::fit(&d.schema, rows, l2).map_err(|e| TrainError::Fit(e.0))
}

fn scores(m: &LogisticModel, rows: &[&Row]) -> (f64, f64, f64) {
    let p: Vec<f64> = rows
        .iter()
        .map(|r| smartretry::learned::model::sigmoid(m.logit(&r.x)))
        .collect();
    let y: Vec<bool> = rows.iter().map(|r| r.y).collect();
    (
        metrics::brier(&p, &y),
        metrics::log_loss(&p, &y),
        metrics::auc(&p, &y),
    )
}

/// Mean J per episode of the schedule that ran and of the model's, on `episodes`.
pub fn counterfactual_j(
    m: &LogisticModel,
    episodes: &[dataset::Episode],
    pricing: Pricing,
) -> (f64, f64) {
    let (mut ran, mut learned) = (0.0, 0.0);
    for ep in episodes {
        let Some(first) = ep.records.first() else {
            continue;
        };
        let success = ep
            .records
            .iter()
            .find(|r| r.outcome == "success")
            .map(|r| r.since_episode_start);
        let last_failure = ep
            .records
            .iter()
            .filter(|r| r.outcome != "success")
            .map(|r| r.since_episode_start)
            .fold(0.0, f64::max);
        let failures = ep.records.iter().filter(|r| r.outcome != "success").count();
        let obs = Observed {
            last_failure,
            success,
        };
        ran += realised_cost(obs, failures.saturating_sub(1) as f64, pricing);
        let at = |t: f64, attempt: u32| {
            let (sod, dow) = smartretry::learned::context::seconds_of_day(ep.origin + t);
            FeatureInput {
                elapsed: t,
                delay: 0.0,
                attempt,
                second_of_day: sod,
                day_of_week: dow,
                payload_size: first.payload_size,
                queue_depth: first.queue_depth,
                latency_ms: first.downstream_latency.map(|s| s * 1000.0),
                tenant: first.tenant.as_deref(),
                worker_version: first.worker_version.as_deref(),
                recent_failure_rate: ep.rates.0,
                similar_success_rate: ep.rates.1,
            }
        };
        learned += learned_cost(m, at, obs, pricing);
    }
    let n = episodes.len().max(1) as f64;
    (ran / n, learned / n)
}

/// Train on a history: cross-validate, hold out the latest episodes, and return the model file
/// (trained before the holdout) only if it does not lose there.
pub fn train(records: Vec<AttemptRecord>, o: &TrainOptions) -> Result<ModelFile, TrainError> {
    let d = dataset::build(records, 20);
    if d.rows.len() < o.min_rows {
        return Err(TrainError::Data(format!(
            "{} retried attempts (at least {} needed)",
            d.rows.len(),
            o.min_rows
        )));
    }
    let k = o.folds.max(2) as usize;
    let mut cv = (0.0, 0.0, 0.0);
    for fold in 0..k {
        // Folds by a hash of the episode, not its index: a history's order may alternate.
        let fold_of =
            |e: usize| ((e as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as usize % k;
        let (test, train): (Vec<&Row>, Vec<&Row>) =
            d.rows.iter().partition(|r| fold_of(r.episode) == fold);
        let m = fit_rows(&d, &train, o.l2)?;
        let s = scores(&m, &test);
        cv = (
            cv.0 + s.0 / k as f64,
            cv.1 + s.1 / k as f64,
            cv.2 + s.2 / k as f64,
        );
    }
    // Episodes are in time order (records were sorted): the latest share is the holdout.
    let cut = ((d.episodes.len() as f64) * (1.0 - o.holdout.clamp(0.05, 0.5))).round() as usize;
    let (train, test): (Vec<&Row>, Vec<&Row>) = d.rows.iter().partition(|r| r.episode < cut);
    let m = fit_rows(&d, &train, o.l2)?;
    let h = scores(&m, &test);
    let pricing = Pricing {
        failure_cost: o.failure_cost,
        horizon: o.horizon,
    };
    let holdout = &d.episodes[cut.min(d.episodes.len())..];
    let (j_ran, j_learned) = counterfactual_j(&m, holdout, pricing);
    let metrics = Metrics {
        folds: k as u32,
        cv_brier: cv.0,
        cv_log_loss: cv.1,
        cv_auc: cv.2,
        holdout_brier: h.0,
        holdout_log_loss: h.1,
        holdout_auc: h.2,
        holdout_j_learned: j_learned,
        holdout_j_baseline: j_ran,
        holdout_episodes: holdout.len() as u64,
    };
    if holdout.is_empty() || j_learned > j_ran {
        return Err(TrainError::Refused(Box::new(metrics)));
    }
    let mut queues: Vec<String> = d
        .episodes
        .iter()
        .filter_map(|e| e.records.first().map(|r| r.queue.clone()))
        .collect();
    queues.sort();
    queues.dedup();
    Ok(ModelFile {
        model: m,
        training: TrainingInfo {
            trained_at: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64()),
            history: o.history.clone(),
            rows: train.len() as u64,
            queues,
            l2: o.l2,
            trainer: concat!("smartretry-train ", env!("CARGO_PKG_VERSION")).into(),
        },
        metrics,
    })
}
