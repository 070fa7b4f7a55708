//! `smartretry`: the command-line tool. `simulate` (the suite that measures the engine against
//! static backoff), `replay` (evaluate policies on a recorded attempt history), and the
//! operator's commands on a live engine's admin endpoint or a local policy and snapshot:
//! `preview`, `explain`, `inspect`, `stats`, `override`, `export-config`, and the console `tui`;
//! `worker` runs the due retries of a durable schedule.

mod decisions;
mod fleet;
mod inspect;
mod learned;
mod overrides;
mod policy_ref;
mod rollout;
mod simulate;
mod source;
mod table;
mod tui;
mod worker;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "smartretry",
    version,
    about = "A retry engine that learns: simulate and replay; preview, explain, inspect and steer a live engine."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the deterministic simulator: every scenario × policy × seed, then print the table
    /// and write the Markdown report and SVG plots.
    Simulate(simulate::SimulateArgs),
    /// Evaluate policies on a recorded attempt history (JSON Lines, see sim/HISTORY.md):
    /// estimate the recovery distribution with censoring, then train/test.
    Replay(ReplayArgs),
    /// Export a simulated run as an attempt history (JSON Lines), e.g. to try `replay` on it.
    History(simulate::HistoryArgs),
    /// Print the policy file's JSON Schema, or what is generated from it: the Markdown
    /// reference (docs/policy.md), Python TypedDicts or TypeScript types.
    PolicySchema {
        #[arg(long, value_enum, default_value = "json")]
        format: policy_ref::Format,
    },
    /// The whole schedule a failure would get if every attempt failed, with the reasons.
    Preview(decisions::PreviewArgs),
    /// One decision taken apart: every tier's proposal and every guardrail clamp.
    Explain(decisions::ExplainArgs),
    /// Learned models: evidence, survival curve and plan (from --endpoint or --snapshot).
    Inspect(source::SourceArgs),
    /// Counters and metrics of a live engine (--endpoint).
    Stats(source::SourceArgs),
    /// Read and change a live engine's overrides per queue or tenant.
    #[command(subcommand)]
    Override(overrides::OverrideCmd),
    /// The policy in force and its overrides, as one JSON document.
    ExportConfig(source::SourceArgs),
    /// The operator console: configuration and models, live recommendations, analytics and
    /// alerts (three panels, or tabs 1-4 on a narrow terminal).
    Tui(tui::TuiArgs),
    /// Train the learned tier's model on an attempt history: k-fold cross-validation, a
    /// time-ordered holdout, counterfactual J against the schedule that ran; refuses a model
    /// that loses.
    Train(learned::TrainArgs),
    /// What a learned-tier model file says: training, metrics, strongest weights.
    Model(learned::ModelArgs),
    /// A live engine's learned-tier rollout per queue: list, set (model, mode), promote on
    /// evidence, roll back.
    #[command(subcommand)]
    Rollout(rollout::RolloutCmd),
    /// Run the due retries of a durable schedule (SQLite file or redis:// URL): claim each with
    /// a lease, hand it to a command (or print it as a JSON line), ack or nack it.
    Worker(worker::WorkerArgs),
}

#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// The attempt history (JSON Lines); `example` uses the history shipped with the simulator.
    #[arg(long, default_value = "example")]
    history: String,
    /// Price of one failed attempt, in seconds.
    #[arg(long, default_value_t = 2.0)]
    c: f64,
    /// Job deadline, in seconds.
    #[arg(long, default_value_t = 3600.0)]
    deadline: f64,
    /// Share of the episodes (oldest first) used for training; the rest is the test set.
    #[arg(long, default_value_t = 0.7)]
    train: f64,
    /// Seeds for the counterfactual draws.
    #[arg(long, default_value_t = 5)]
    seeds: u32,
    /// Folder for the report.
    #[arg(long, default_value = "out/replay")]
    out: PathBuf,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Simulate(args) => simulate::run(&args).map_err(|e| e.to_string()),
        Command::Replay(args) => simulate::replay(&args).map_err(|e| e.to_string()),
        Command::History(args) => simulate::export_history(&args).map_err(|e| e.to_string()),
        Command::Preview(args) => decisions::preview(&args),
        Command::Explain(args) => decisions::explain(&args),
        Command::Inspect(args) => inspect::inspect(&args),
        Command::Stats(args) => inspect::stats(&args),
        Command::Override(cmd) => overrides::run(&cmd),
        Command::ExportConfig(args) => overrides::export_config(&args),
        Command::PolicySchema { format } => {
            print!("{}", policy_ref::render(format));
            Ok(())
        }
        Command::Tui(args) => tui::run(&args),
        Command::Worker(args) => worker::run(&args),
        Command::Train(args) => learned::train(&args),
        Command::Model(args) => learned::model(&args),
        Command::Rollout(cmd) => rollout::run(&cmd),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("smartretry: {e}");
            ExitCode::FAILURE
        }
    }
}
