//! `smartretry`: the command-line tool. Today `simulate` (the suite that measures the engine
//! against static backoff) and `replay` (evaluate policies on a recorded attempt history);
//! `preview`, `inspect` and `tui` join the same subcommand enum later.

mod fleet;
mod policy_ref;
mod simulate;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "smartretry",
    version,
    about = "A retry engine that learns: simulate, replay, and (soon) preview and inspect."
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
        Command::Simulate(args) => simulate::run(&args),
        Command::Replay(args) => simulate::replay(&args),
        Command::History(args) => simulate::export_history(&args),
        Command::PolicySchema { format } => {
            print!("{}", policy_ref::render(format));
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("smartretry: {e}");
            ExitCode::FAILURE
        }
    }
}
