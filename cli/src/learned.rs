//! `smartretry train` (history → model file, refused if it loses on the holdout),
//! `smartretry model` (what a model file says) and `simulate --ml` (the learned tier against the
//! Bayesian tier and the oracle, per scenario).

use smartretry::history::read_history;
use smartretry::learned::ModelFile;
use smartretry_sim::ml::{run_ml_with, MlResult};
use smartretry_sim::{Scenario, SimError};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// The attempt history (JSON Lines, as the engine writes it).
    #[arg(long)]
    history: PathBuf,
    /// Where to write the model file (only if it does not lose on the holdout).
    #[arg(long)]
    out: PathBuf,
    /// Price of one failed attempt, seconds (the c of J; use the policy's failure_cost).
    #[arg(long, default_value_t = 1.0)]
    cost: f64,
    /// What an episode that never succeeds costs, seconds (the policy's deadline).
    #[arg(long, default_value_t = 3600.0)]
    horizon: f64,
    /// Folds of cross-validation.
    #[arg(long, default_value_t = 5)]
    folds: u32,
    /// Share of the latest episodes held out.
    #[arg(long, default_value_t = 0.2)]
    holdout: f64,
    /// L2 penalty of the logistic regression.
    #[arg(long, default_value_t = 0.01)]
    l2: f64,
    /// The model: `logistic`, `boosted` (the logistic model plus small trees over what is known
    /// at the decision), or `auto` (both; the boosted one is kept only if its holdout J is lower
    /// by more than 1% and its log-loss no worse).
    #[arg(long, default_value = "auto")]
    algo: smartretry_train::Algo,
}

fn print_metrics(m: &smartretry::learned::Metrics) {
    println!(
        "cross-validation ({} folds): Brier {:.4}  log-loss {:.4}  AUC {:.3}",
        m.folds, m.cv_brier, m.cv_log_loss, m.cv_auc
    );
    println!(
        "holdout ({} episodes):        Brier {:.4}  log-loss {:.4}  AUC {:.3}",
        m.holdout_episodes, m.holdout_brier, m.holdout_log_loss, m.holdout_auc
    );
    println!(
        "holdout J per episode: model {:.2} s, schedule that ran {:.2} s",
        m.holdout_j_learned, m.holdout_j_baseline
    );
}

pub fn train(args: &TrainArgs) -> Result<(), String> {
    let records = read_history(&args.history).map_err(|e| e.to_string())?;
    let opts = smartretry_train::TrainOptions {
        folds: args.folds,
        holdout: args.holdout,
        l2: args.l2,
        failure_cost: args.cost,
        horizon: args.horizon,
        history: args.history.display().to_string(),
        algo: args.algo,
        ..Default::default()
    };
    let report = smartretry_train::train_report(records, &opts);
    for c in &report.candidates {
        let trees = c.model.trees.len();
        println!(
            "== {}{}",
            c.algo.name(),
            if c.algo == smartretry_train::Algo::Boosted {
                format!(" ({trees} trees)")
            } else {
                String::new()
            }
        );
        print_metrics(&c.metrics);
    }
    if let (Some(algo), true) = (report.chosen, report.candidates.len() > 1) {
        println!(
            "kept: {} (boosted only if its holdout J is lower by more than {:.0}% and its log-loss no worse)",
            algo.name(),
            100.0 * smartretry_train::BOOST_MARGIN
        );
    }
    match report.result {
        Ok(file) => {
            file.save(&args.out).map_err(|e| e.to_string())?;
            println!("model written: {}", args.out.display());
            Ok(())
        }
        Err(e) => Err(e.to_string()),
    }
}

#[derive(Debug, clap::Args)]
pub struct ModelArgs {
    /// The model file.
    path: PathBuf,
}

/// What a model file says: training metadata, metrics, the strongest weights.
pub fn model(args: &ModelArgs) -> Result<(), String> {
    let f = ModelFile::load(&args.path).map_err(|e| e.to_string())?;
    let t = &f.training;
    println!(
        "trained on {} rows of {:?} (queues {}), l2 {}, by {}",
        t.rows,
        t.history,
        t.queues.join(", "),
        t.l2,
        t.trainer
    );
    print_metrics(&f.metrics);
    let m = &f.model;
    if m.is_boosted() {
        println!(
            "boosted: {} trees over the decision-time features (mean output {:+.3})",
            m.trees.len(),
            m.trees.mean
        );
    }
    let mut w: Vec<(usize, f64)> = m.weights.iter().copied().enumerate().collect();
    w.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
    println!("strongest weights:");
    for (i, v) in w.into_iter().take(10) {
        println!("  {:<28} {v:+.3}", m.schema.names[i]);
    }
    Ok(())
}

/// The `--ml` comparison table, as Markdown.
pub fn render(results: &[MlResult], seeds: u32) -> String {
    let mut s = format!(
        "| # | scenario | J Bayesian | J learned | learned / Bayesian | Bayesian reseeded / Bayesian | J oracle | gap closed | refused | boosted | final modes ({seeds} seeds) | learned decisions | rollbacks |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    );
    for r in results {
        let ratio = r.j_learned / r.j_bayesian;
        s += &format!(
            "| {} | {} | {:.1} | {:.1} | {:.2}x | {:.2}x | {} | {} | {}/{} | {}/{} | {} | {} | {} |\n",
            r.scenario.number,
            r.scenario.name,
            r.j_bayesian,
            r.j_learned,
            ratio,
            r.j_bayesian_reseeded / r.j_bayesian,
            r.j_oracle.map_or("-".into(), |o| format!("{o:.1}")),
            r.gap_closed()
                .map_or("-".into(), |g| format!("{:.0}%", 100.0 * g)),
            r.refused,
            r.seeds,
            r.boosted,
            r.seeds,
            r.final_modes.join(" "),
            r.stats.decisions,
            r.stats.rollbacks
        );
    }
    s
}

/// `simulate --ml`: the learned tier's comparison for the selected scenarios.
pub fn simulate(
    which: &str,
    seeds: u32,
    jobs: Option<usize>,
    algo: smartretry_train::Algo,
    out: &std::path::Path,
    check: Option<&std::path::Path>,
) -> Result<(), SimError> {
    let scenarios = Scenario::select_ml(which)?;
    let started = std::time::Instant::now();
    let mut results = Vec::new();
    for s in &scenarios {
        // Incident replays and contention have no learned-tier story; they still run (the
        // shadow gate must keep them no worse).
        results.push(run_ml_with(s, seeds, jobs, algo)?);
        eprintln!("{}: done", s.name);
    }
    let mut table = render(&results, seeds);
    let figs = smartretry_sim::ml::figures(&results);
    table += "\n";
    table += &smartretry_sim::report::figures::table(&figs, "value");
    print!("{table}");
    println!(
        "\n{} scenarios x {seeds} seeds in {:.1} s",
        results.len(),
        started.elapsed().as_secs_f64()
    );
    std::fs::create_dir_all(out).map_err(|e| SimError::Invalid(e.to_string()))?;
    let path = out.join("ml.md");
    let doc = format!(
        "# The learned tier against the Bayesian tier\n\n`smartretry simulate --ml --algo {} --scenario {which} --seeds {seeds}`\n\n{table}",
        algo.name()
    );
    std::fs::write(&path, doc).map_err(|e| SimError::Invalid(e.to_string()))?;
    println!("report: {}", path.display());
    match check {
        Some(floor) => crate::simulate::check_floor(floor, &figs),
        None => Ok(()),
    }
}
