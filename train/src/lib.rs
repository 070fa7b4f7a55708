//! The learned tier's trainer (`smartretry train`): attempt history in, model file out.
//!
//! 1. `dataset`: episodes and rows from the history, features by the core's own encoding;
//! 2. k-fold cross-validation (folds by episode, so no episode is on both sides): Brier,
//!    log-loss, AUC;
//! 3. a time-ordered holdout (the latest episodes): the same metrics, and the counterfactual J
//!    of the model's schedule against the schedule that ran (the Bayesian tier's, when the
//!    history came from an engine that learns), priced by the core's shadow pricing;
//! 4. the model trained before the holdout is emitted only if its J on the holdout is not worse.
//!
//! Two algorithms (`Algo`): the logistic regression, and the same model boosted by small trees
//! over the decision-time features (`boost`). `auto` trains and evaluates both the same way and
//! keeps the boosted one only if its holdout J is lower by more than `BOOST_MARGIN` and its
//! log-loss no worse, so the trees ship only when they win; and the kept one is still refused
//! if it loses to the schedule that ran.

pub mod boost;
pub mod dataset;
pub mod fit;
pub mod metrics;

use dataset::{Dataset, Row};
use smartretry::learn::counterfactual::{realised_cost, Observed, Pricing};
use smartretry::learned::counterfactual::learned_cost;
use smartretry::learned::{FeatureInput, LogisticModel, Metrics, ModelFile, TrainingInfo};
use smartretry::AttemptRecord;

/// Which model to train.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algo {
    /// Logistic regression only.
    Logistic,
    /// Logistic regression plus boosted trees on its margin.
    Boosted,
    /// Both; keep the better on the holdout.
    Auto,
}

impl Algo {
    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Algo::Logistic => "logistic",
            Algo::Boosted => "boosted",
            Algo::Auto => "auto",
        }
    }
}

impl std::str::FromStr for Algo {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "logistic" => Ok(Algo::Logistic),
            "boosted" => Ok(Algo::Boosted),
            "auto" => Ok(Algo::Auto),
            _ => Err(format!(
                "unknown algorithm {s:?} (logistic, boosted or auto)"
            )),
        }
    }
}

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
    /// Which model to train.
    pub algo: Algo,
    /// The booster's settings (for `Boosted` and `Auto`).
    pub boost: boost::BoostOptions,
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
            algo: Algo::Auto,
            boost: boost::BoostOptions::default(),
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

/// One model per algorithm in `algos`, on `rows`: the logistic model is fitted once and is the
/// boosted model's base.
fn fit_rows(
    d: &Dataset,
    rows: &[&Row],
    o: &TrainOptions,
    algos: &[Algo],
) -> Result<Vec<LogisticModel>, TrainError> {
    let pos = rows.iter().filter(|r| r.y).count();
    if pos == 0 || pos == rows.len() {
        return Err(TrainError::Data(
            "every retried attempt had the same outcome".into(),
        ));
    }
    let base = fit::fit(&d.schema, rows, o.l2).map_err(|e| TrainError::Fit(e.0))?;
    let boosted = if algos.contains(&Algo::Boosted) {
        Some(add_trees(d, rows, o, &base)?)
    } else {
        None
    };
    Ok(algos
        .iter()
        .map(|a| match (a, &boosted) {
            (Algo::Boosted, Some(b)) => b.clone(),
            _ => base.clone(),
        })
        .collect())
}

/// `base` boosted on `rows`.
fn add_trees(
    d: &Dataset,
    rows: &[&Row],
    o: &TrainOptions,
    base: &LogisticModel,
) -> Result<LogisticModel, TrainError> {
    // The trees start from the logistic model's logit, taken out of fold (cross-fitting): the
    // logistic model overfits its own rows (hundreds of one-hot features), so on them its
    // residuals are too small and the trees would learn nothing that holds on new rows. Each
    // half of the episodes gets the margin of a logistic model fitted on the other half; the
    // trees then stop early on a share of the episodes they are not grown on.
    let half = |e: usize| ((e as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9) >> 40) % 2 == 0;
    let mut margins = vec![0.0; rows.len()];
    for side in [true, false] {
        let other: Vec<&Row> = rows
            .iter()
            .copied()
            .filter(|r| half(r.episode) != side)
            .collect();
        let pos = other.iter().filter(|r| r.y).count();
        let m = if pos == 0 || pos == other.len() {
            base.clone()
        } else {
            fit::fit(&d.schema, &other, o.l2).map_err(|e| TrainError::Fit(e.0))?
        };
        for (z, r) in margins.iter_mut().zip(rows) {
            if half(r.episode) == side {
                *z = m.logit(&r.x);
            }
        }
    }
    let valid_episode = |e: usize| ((e as u64).wrapping_mul(0xD1B5_4A32_D192_ED03) >> 40) % 5 == 0;
    let (mut grow, mut valid) = (Vec::new(), Vec::new());
    for (r, &margin) in rows.iter().zip(&margins) {
        let b = boost::BoostRow {
            d: &r.d,
            margin,
            waits: [r.x.dense[1], r.x.dense[2]],
            y: r.y,
        };
        if valid_episode(r.episode) {
            valid.push(b);
        } else {
            grow.push(b);
        }
    }
    let trees = boost::boost(&grow, &valid, &o.boost);
    Ok(base.clone().with_trees(trees))
}

fn scores(m: &LogisticModel, rows: &[&Row]) -> (f64, f64, f64) {
    let p: Vec<f64> = rows
        .iter()
        .map(|r| smartretry::learned::model::sigmoid(m.margin(&r.x, &r.d)))
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

/// One algorithm's evaluation: its metrics, and the model trained before the holdout.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The algorithm.
    pub algo: Algo,
    /// Its cross-validation and holdout metrics.
    pub metrics: Metrics,
    /// The model trained before the holdout.
    pub model: LogisticModel,
}

/// What a training run found: every algorithm evaluated, and the model file (or why none).
#[derive(Debug)]
pub struct Report {
    /// Each algorithm tried, in order (logistic first).
    pub candidates: Vec<Candidate>,
    /// The one kept (None when training failed before any was evaluated).
    pub chosen: Option<Algo>,
    /// The model file, or why none is emitted.
    pub result: Result<ModelFile, TrainError>,
}

/// Cross-validate and hold out every algorithm of `algos` on the same folds and holdout.
fn evaluate(d: &Dataset, o: &TrainOptions, algos: &[Algo]) -> Result<Vec<Candidate>, TrainError> {
    let k = o.folds.max(2) as usize;
    let mut cv = vec![(0.0, 0.0, 0.0); algos.len()];
    for fold in 0..k {
        // Folds by a hash of the episode, not its index: a history's order may alternate.
        let fold_of =
            |e: usize| ((e as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as usize % k;
        let (test, train): (Vec<&Row>, Vec<&Row>) =
            d.rows.iter().partition(|r| fold_of(r.episode) == fold);
        for (m, cv) in fit_rows(d, &train, o, algos)?.iter().zip(&mut cv) {
            let s = scores(m, &test);
            *cv = (
                cv.0 + s.0 / k as f64,
                cv.1 + s.1 / k as f64,
                cv.2 + s.2 / k as f64,
            );
        }
    }
    // Episodes are in time order (records were sorted): the latest share is the holdout.
    let cut = holdout_cut(d, o);
    let (train, test): (Vec<&Row>, Vec<&Row>) = d.rows.iter().partition(|r| r.episode < cut);
    let models = fit_rows(d, &train, o, algos)?;
    let pricing = Pricing {
        failure_cost: o.failure_cost,
        horizon: o.horizon,
    };
    let holdout = &d.episodes[cut.min(d.episodes.len())..];
    let candidates = algos
        .iter()
        .zip(models)
        .zip(cv)
        .map(|((&algo, m), cv)| {
            let h = scores(&m, &test);
            let (j_ran, j_learned) = counterfactual_j(&m, holdout, pricing);
            Candidate {
                algo,
                metrics: Metrics {
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
                },
                model: m,
            }
        })
        .collect();
    Ok(candidates)
}

fn holdout_cut(d: &Dataset, o: &TrainOptions) -> usize {
    ((d.episodes.len() as f64) * (1.0 - o.holdout.clamp(0.05, 0.5))).round() as usize
}

/// How much lower (as a share) the boosted model's holdout J must be for `auto` to keep it: a
/// holdout of a few hundred episodes moves J by about that much from noise alone, and the trees
/// should ship only when they win, not when they tie.
pub const BOOST_MARGIN: f64 = 0.01;

/// Whether the boosted candidate `b` beats the logistic `a`: a holdout J lower by more than
/// `BOOST_MARGIN`, and a holdout log-loss no worse.
fn beats(b: &Metrics, a: &Metrics) -> bool {
    b.holdout_j_learned < (1.0 - BOOST_MARGIN) * a.holdout_j_learned
        && b.holdout_log_loss <= a.holdout_log_loss
}

/// Train on a history: cross-validate, hold out the latest episodes, and return the model file
/// (trained before the holdout) only if it does not lose there.
pub fn train(records: Vec<AttemptRecord>, o: &TrainOptions) -> Result<ModelFile, TrainError> {
    train_report(records, o).result
}

/// `train`, with every algorithm's metrics: under `Algo::Auto` the logistic and the boosted
/// model are evaluated alike, and the boosted one is kept only if it beats the logistic one on
/// the holdout (`beats`: J lower by more than `BOOST_MARGIN`, log-loss no worse).
pub fn train_report(records: Vec<AttemptRecord>, o: &TrainOptions) -> Report {
    let failed = |e: TrainError| Report {
        candidates: Vec::new(),
        chosen: None,
        result: Err(e),
    };
    let d = dataset::build(records, 20);
    if d.rows.len() < o.min_rows {
        return failed(TrainError::Data(format!(
            "{} retried attempts (at least {} needed)",
            d.rows.len(),
            o.min_rows
        )));
    }
    let algos: &[Algo] = match o.algo {
        Algo::Auto => &[Algo::Logistic, Algo::Boosted],
        Algo::Logistic => &[Algo::Logistic],
        Algo::Boosted => &[Algo::Boosted],
    };
    let candidates = match evaluate(&d, o, algos) {
        Ok(c) => c,
        Err(e) => return failed(e),
    };
    let mut best = 0;
    for (i, c) in candidates.iter().enumerate().skip(1) {
        if beats(&c.metrics, &candidates[best].metrics) {
            best = i;
        }
    }
    let chosen = &candidates[best];
    let metrics = chosen.metrics.clone();
    let result = if metrics.holdout_episodes == 0
        || metrics.holdout_j_learned > metrics.holdout_j_baseline
    {
        Err(TrainError::Refused(Box::new(metrics)))
    } else {
        let cut = holdout_cut(&d, o);
        let mut queues: Vec<String> = d
            .episodes
            .iter()
            .filter_map(|e| e.records.first().map(|r| r.queue.clone()))
            .collect();
        queues.sort();
        queues.dedup();
        Ok(ModelFile {
            model: chosen.model.clone(),
            training: TrainingInfo {
                trained_at: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0.0, |d| d.as_secs_f64()),
                history: o.history.clone(),
                rows: d.rows.iter().filter(|r| r.episode < cut).count() as u64,
                queues,
                l2: o.l2,
                trainer: concat!("smartretry-train ", env!("CARGO_PKG_VERSION")).into(),
            },
            metrics,
        })
    };
    let chosen = Some(chosen.algo);
    Report {
        candidates,
        chosen,
        result,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trees_ship_only_when_they_win_clearly() {
        let m = |j: f64, ll: f64| Metrics {
            holdout_j_learned: j,
            holdout_log_loss: ll,
            ..Default::default()
        };
        let logistic = m(100.0, 0.30);
        assert!(beats(&m(95.0, 0.29), &logistic));
        // A tie, or a win inside the noise, keeps the logistic model.
        assert!(!beats(&m(100.0, 0.20), &logistic));
        assert!(!beats(&m(99.5, 0.29), &logistic));
        // A lower J with a worse calibration does not ship either.
        assert!(!beats(&m(90.0, 0.31), &logistic));
    }
}
