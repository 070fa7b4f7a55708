//! The `simulate` and `replay` subcommands: parse arguments into the simulator's config, run,
//! print, write the report.

use crate::ReplayArgs;
use smartretry_sim::generate::generate;
use smartretry_sim::history;
use smartretry_sim::replay::ReplayConfig;
use smartretry_sim::report;
use smartretry_sim::runner::run_logged;
use smartretry_sim::{run_suite, PolicyKind, Scenario, SimError, SuiteConfig};
use std::path::PathBuf;

/// `println!` through [`say`].
macro_rules! sayln {
    ($($arg:tt)*) => {
        say(&format!("{}\n", format!($($arg)*)))
    };
}
use std::time::Instant;

#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// Scenario number or name (comma-separated list allowed), or `all`.
    #[arg(long, default_value = "all")]
    scenario: String,
    /// A scenario of your own: a TOML file in the format of `sim/scenarios/*.toml` (an outage
    /// shape, its costs and the static baselines' scale). Runs instead of the embedded
    /// scenarios; repeat the option for several files.
    #[arg(long, value_name = "FILE")]
    scenario_file: Vec<PathBuf>,
    /// Run this many outage shapes drawn at random instead of the embedded scenarios (recovery
    /// from milliseconds to hours, outages shared by every job, brown-outs, blips, drift,
    /// rate-limit windows, permanent errors, crowds of writers), and report how the engine fares over all of them. Each
    /// shape's file is written to OUT/shapes/ (rerun one with --scenario-file).
    #[arg(long, value_name = "N")]
    random_shapes: Option<usize>,
    /// The seed the random shapes are drawn from.
    #[arg(long, default_value_t = 1)]
    random_seed: u64,
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
    /// Engine policy file (JSON, as `Policy::from_json` reads it) to start the engine runs
    /// from instead of the defaults; learning on/off, c, deadline and seed are still set per run.
    #[arg(long)]
    engine_policy: Option<PathBuf>,
    /// Compare the learned (ML) tier with the Bayesian tier instead: train on another seed's
    /// history, roll out shadow -> canary -> full on evidence, report J per scenario.
    #[arg(long)]
    ml: bool,
    /// With `--ml`: the trainer's algorithm (`logistic`, `boosted`, `auto`).
    #[arg(long, default_value = "auto")]
    algo: smartretry_train::Algo,
    /// Fail (exit 1) if any figure listed in this file (one `scenario<TAB>figure` per line, as the
    /// report names them) is missed: the decision-quality floor every change must keep. With
    /// `--ml`, the learned tier's figures (`sim/ml-floor.tsv`).
    #[arg(long)]
    check: Option<PathBuf>,
}

pub fn run(args: &SimulateArgs) -> Result<(), SimError> {
    let own = !args.scenario_file.is_empty();
    if own && (args.ml || args.scenario.trim() != "all" || args.check.is_some()) {
        return Err(SimError::Invalid(
            "--scenario-file runs its own scenarios: give it without --ml, --scenario and --check"
                .into(),
        ));
    }
    let random = args.random_shapes.is_some();
    if random && (own || args.ml || args.scenario.trim() != "all") {
        return Err(SimError::Invalid(
            "--random-shapes runs its own shapes: give it without --scenario-file, --ml and --scenario"
                .into(),
        ));
    }
    if args.ml {
        let seeds = if args.quick && args.seeds == 5 {
            2
        } else {
            args.seeds
        };
        return crate::learned::simulate(
            &args.scenario,
            seeds,
            args.jobs,
            args.algo,
            &args.out,
            args.check.as_deref(),
        );
    }
    let fleet = if own || random {
        None
    } else {
        crate::fleet::selected(&args.scenario)?
    };
    if fleet.is_some() && args.scenario.trim() != "all" {
        return crate::fleet::run_alone(fleet, args.seeds, &args.out, args.check.as_deref());
    }
    let scenarios = if let Some(n) = args.random_shapes {
        random_shapes(n, args.random_seed, &args.out)?
    } else if own {
        scenario_files(&args.scenario_file)?
    } else {
        Scenario::select(&args.scenario)?
    };
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
    if let Some(path) = &args.engine_policy {
        let text = std::fs::read_to_string(path).map_err(|e| io(path, e))?;
        cfg.engine_policy = Some(smartretry::Policy::from_json(&text)?);
    }
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
    say(&report::table::render(&results, cfg.seeds));
    let elapsed = started.elapsed().as_secs_f64();
    let selection = if let Some(n) = args.random_shapes {
        format!("--random-shapes {n} --random-seed {}", args.random_seed)
    } else if own {
        let files: Vec<String> = args
            .scenario_file
            .iter()
            .map(|p| format!("--scenario-file {}", p.display()))
            .collect();
        files.join(" ")
    } else {
        format!("--scenario {}", args.scenario)
    };
    let command = format!(
        "smartretry simulate {} --seeds {}{}{}",
        selection,
        cfg.seeds,
        args.jobs.map_or(String::new(), |j| format!(" --jobs {j}")),
        if args.quick { " --quick" } else { "" }
    ) + &args.engine_policy.as_ref().map_or(String::new(), |p| {
        format!(" --engine-policy {}", p.display())
    });
    let report = report::output::write_all(&results, &args.out, cfg.seeds, &command)?;
    let mut figs = report::figures::figures(&results);
    if random {
        let summary = smartretry_sim::random_shapes::summary_figures(&results);
        sayln!(
            "\nOver all {} random shapes (seed {}):",
            results.len(),
            args.random_seed
        );
        for f in &summary {
            match f.met {
                Some(met) => {
                    let mark = if met { "met" } else { "MISSED" };
                    sayln!("  {}: {} (target {}: {mark})", f.what, f.value, f.target);
                }
                None => sayln!("  {}: {}", f.what, f.value),
            }
        }
        let worst = smartretry_sim::random_shapes::worst(&results, 5);
        let listed: Vec<String> = worst.iter().map(|(n, x)| format!("{n} {x:.2}x")).collect();
        sayln!(
            "  worst against the best static schedule: {}",
            listed.join(", ")
        );
        figs.extend(summary);
    }
    figs.extend(crate::fleet::run_with_suite(fleet, cfg.seeds, &args.out)?);
    let met = figs.iter().filter(|f| f.met == Some(true)).count();
    let judged = figs.iter().filter(|f| f.met.is_some()).count();
    sayln!(
        "\n{} scenarios × {} seeds simulated in {elapsed:.1} s",
        results.len(),
        cfg.seeds
    );
    say(&report::summary::render(&results));
    if judged > 0 {
        sayln!(
            "Decision-quality checks (targets on specific behaviours, listed in the report): \
             {met} of {judged} met."
        );
    }
    sayln!("\nreport: {}", report.display());
    sayln!("in a browser: {}", args.out.join("report.html").display());
    sayln!("plots and results.json: {}", args.out.display());
    if let Some(path) = &args.check {
        check_floor(path, &figs)?;
    }
    Ok(())
}

/// Draw `n` random shapes and write each one's scenario file to `out/shapes/`.
fn random_shapes(n: usize, seed: u64, out: &std::path::Path) -> Result<Vec<Scenario>, SimError> {
    if n == 0 || n > 1000 {
        return Err(SimError::Invalid(
            "--random-shapes must be between 1 and 1000".into(),
        ));
    }
    let dir = out.join("shapes");
    std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
    let mut scenarios = Vec::with_capacity(n);
    for (text, s) in smartretry_sim::random_shapes::shapes(seed, n)? {
        let path = dir.join(format!("{}.toml", s.name));
        std::fs::write(&path, text).map_err(|e| io(&path, e))?;
        scenarios.push(s);
    }
    Ok(scenarios)
}

/// Load a user's scenario files; two with the same number or name are refused (the report
/// names scenarios by both).
fn scenario_files(paths: &[PathBuf]) -> Result<Vec<Scenario>, SimError> {
    let mut out: Vec<Scenario> = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(path).map_err(|e| io(path, e))?;
        let s = Scenario::from_toml(&path.display().to_string(), &text)?;
        if out.iter().any(|o| o.number == s.number || o.name == s.name) {
            return Err(SimError::Invalid(format!(
                "{}: scenario number {} or name {:?} is already used by another file",
                path.display(),
                s.number,
                s.name
            )));
        }
        out.push(s);
    }
    Ok(out)
}

/// Every figure the floor file lists must be met; a listed figure that no longer exists is an
/// error too, so the floor cannot silently shrink.
pub(crate) fn check_floor(
    path: &std::path::Path,
    figs: &[report::figures::Figure],
) -> Result<(), SimError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| SimError::Invalid(format!("{}: {e}", path.display())))?;
    let mut missed = Vec::new();
    let mut kept = 0;
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (scenario, what) = line
            .split_once('\t')
            .ok_or_else(|| SimError::Invalid(format!("{}: bad line {line:?}", path.display())))?;
        let scenario: u32 = scenario.trim().parse().map_err(|_| {
            SimError::Invalid(format!("{}: bad scenario in {line:?}", path.display()))
        })?;
        match figs
            .iter()
            .find(|f| f.scenario == scenario && f.what == what.trim())
        {
            Some(f) if f.met == Some(true) => kept += 1,
            Some(f) => missed.push(format!(
                "scenario {scenario}: {} = {} (target {})",
                f.what, f.value, f.target
            )),
            None => missed.push(format!("scenario {scenario}: {what} was not measured")),
        }
    }
    if missed.is_empty() {
        sayln!("decision-quality floor: all {kept} listed figures met");
        Ok(())
    } else {
        Err(SimError::Invalid(format!(
            "decision-quality floor broken ({} of {} listed figures missed):\n  {}",
            missed.len(),
            missed.len() + kept,
            missed.join("\n  ")
        )))
    }
}

pub fn replay(args: &ReplayArgs) -> Result<(), SimError> {
    let records = if args.history == "example" {
        history::parse(history::EXAMPLE)?
    } else {
        history::read(std::path::Path::new(&args.history))?
    };
    if args.seeds == 0 || args.seeds > 100 {
        return Err(SimError::Invalid(
            "--seeds must be between 1 and 100".into(),
        ));
    }
    let cfg = ReplayConfig {
        c: args.c,
        deadline: args.deadline,
        train_share: args.train,
        suite: SuiteConfig {
            seeds: args.seeds,
            ..SuiteConfig::default()
        },
    };
    let r = smartretry_sim::replay::replay(&records, &cfg)?;
    say(&report::replay_md::terminal(&r));
    std::fs::create_dir_all(&args.out).map_err(|e| io(&args.out, e))?;
    let plots = report::plots::write(&r.result, &args.out)?;
    let command = format!(
        "smartretry replay --history {} --c {} --deadline {} --train {} --seeds {}",
        args.history, args.c, args.deadline, args.train, args.seeds
    );
    let path = args.out.join("REPORT.md");
    std::fs::write(&path, report::replay_md::markdown(&r, &command, &plots))
        .map_err(|e| io(&path, e))?;
    sayln!("report: {}", path.display());
    Ok(())
}

pub fn export_history(args: &HistoryArgs) -> Result<(), SimError> {
    let s = match &args.scenario_file {
        Some(file) => scenario_files(std::slice::from_ref(file))?,
        None => Scenario::select(&args.scenario)?,
    };
    let [s] = s.as_slice() else {
        return Err(SimError::Invalid(
            "--scenario must name exactly one scenario".into(),
        ));
    };
    let kind = PolicyKind::from_label(&args.policy).ok_or_else(|| {
        let names: Vec<&str> = PolicyKind::ALL.iter().map(|k| k.label()).collect();
        SimError::Invalid(format!(
            "unknown policy {:?} (one of: {})",
            args.policy,
            names.join(", ")
        ))
    })?;
    let g = generate(s, args.seed, Some(args.jobs.clamp(1, 1_000_000)))?;
    let seed = smartretry_sim::dist::seed_of(&[&s.name, kind.label(), &args.seed.to_string()]);
    let mut policy = kind.build(s, seed, g.world.epoch)?;
    let mut log = Vec::new();
    run_logged(
        &g.jobs,
        g.world.clone(),
        policy.as_mut(),
        s.deadline,
        Some(&mut log),
    );
    let records = history::from_log(&g.jobs, &log, g.world.epoch);
    std::fs::write(&args.out, history::to_jsonl(&records)).map_err(|e| io(&args.out, e))?;
    sayln!(
        "{} attempts of {} jobs written to {}",
        records.len(),
        g.jobs.len(),
        args.out.display()
    );
    Ok(())
}

/// Print to stdout, ignoring a closed pipe (`smartretry simulate | head` must not panic).
fn say(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

fn io(path: &std::path::Path, e: std::io::Error) -> SimError {
    SimError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Arguments of `smartretry history`.
#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    /// The scenario to simulate (number or name).
    #[arg(long, default_value = "1")]
    scenario: String,
    /// A scenario file of your own (as `simulate --scenario-file` takes), instead of `--scenario`.
    #[arg(long, value_name = "FILE")]
    scenario_file: Option<PathBuf>,
    /// The logging policy (a label from the tables: full-jitter, engine, ...).
    #[arg(long, default_value = "full-jitter")]
    policy: String,
    /// Jobs to simulate.
    #[arg(long, default_value_t = 300)]
    jobs: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output file (JSON Lines).
    #[arg(long, default_value = "history.jsonl")]
    out: PathBuf,
}
