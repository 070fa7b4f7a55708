//! The `simulate` and `replay` subcommands: parse arguments into the simulator's config, run,
//! print, write the report.

use crate::ReplayArgs;
use smartretry_sim::report;
use smartretry_sim::{run_suite, Scenario, SimError, SuiteConfig};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// Scenario number or name (comma-separated list allowed), or `all`.
    #[arg(long, default_value = "all")]
    scenario: String,
    /// Number of seeds; every figure is the mean over them.
    #[arg(long, default_value_t = 5)]
    seeds: u32,
    /// Jobs per run (default: each scenario's own count).
    #[arg(long)]
    jobs: Option<usize>,
    /// Folder for REPORT.md, results.json and the SVG plots.
    #[arg(long, default_value = "out/sim")]
    out: PathBuf,
    /// A quick look: a quarter of the jobs and 2 seeds unless given.
    #[arg(long)]
    quick: bool,
    /// Worker threads (default: the machine's cores, at most 4).
    #[arg(long)]
    threads: Option<usize>,
}

pub fn run(args: &SimulateArgs) -> Result<(), SimError> {
    let scenarios = Scenario::select(&args.scenario)?;
    if args.seeds == 0 || args.seeds > 100 {
        return Err(SimError::Invalid(
            "--seeds must be between 1 and 100".into(),
        ));
    }
    if args.jobs == Some(0) {
        return Err(SimError::Invalid("--jobs must be at least 1".into()));
    }
    let mut cfg = SuiteConfig {
        seeds: args.seeds,
        jobs: args.jobs,
        ..SuiteConfig::default()
    };
    if let Some(t) = args.threads {
        cfg.threads = t.clamp(1, 64);
    }
    if args.quick {
        if args.seeds == 5 {
            cfg.seeds = 2;
        }
        if args.jobs.is_none() {
            // A quarter of each scenario's own count, set per scenario below.
            cfg.jobs = None;
        }
    }
    let scenarios: Vec<Scenario> = if args.quick && args.jobs.is_none() {
        scenarios
            .into_iter()
            .map(|mut s| {
                s.jobs = (s.jobs / 4).max(100);
                s
            })
            .collect()
    } else {
        scenarios
    };
    let started = Instant::now();
    let results = run_suite(&scenarios, &cfg)?;
    print!("{}", report::table::render(&results, cfg.seeds));
    let elapsed = started.elapsed().as_secs_f64();
    let command = format!(
        "smartretry simulate --scenario {} --seeds {}{}{}",
        args.scenario,
        cfg.seeds,
        args.jobs.map_or(String::new(), |j| format!(" --jobs {j}")),
        if args.quick { " --quick" } else { "" }
    );
    let report = report::output::write_all(&results, &args.out, cfg.seeds, &command)?;
    let figs = report::figures::figures(&results);
    let met = figs.iter().filter(|f| f.met == Some(true)).count();
    let judged = figs.iter().filter(|f| f.met.is_some()).count();
    println!(
        "\n{} scenarios × {} seeds simulated in {elapsed:.1} s",
        results.len(),
        cfg.seeds
    );
    if judged > 0 {
        println!("issue-3 figures met: {met} of {judged} (details in the report)");
    }
    println!("report: {}", report.display());
    println!("plots and results.json: {}", args.out.display());
    Ok(())
}

pub fn replay(_args: &ReplayArgs) -> Result<(), SimError> {
    Err(SimError::Invalid("replay is not implemented yet".into()))
}
