//! Scenario 19 (the throttled fleet) in `simulate`: it has its own runner, so it runs beside
//! the suite (`--scenario all`) or alone (`--scenario 19` / `throttle-fleet`), prints its table,
//! writes `fleet.md` next to the report, and adds its figures to the floor check.

use smartretry_sim::fleet::{self, FleetScenario};
use smartretry_sim::report::figures::Figure;
use smartretry_sim::SimError;
use std::path::Path;

/// The fleet scenario if the selection names it.
pub fn selected(selection: &str) -> Result<Option<FleetScenario>, SimError> {
    let s = FleetScenario::load()?;
    Ok(s.selected_by(selection).then_some(s))
}

/// Run it (if selected): print, write `fleet.md` into `out`, return its figures.
pub fn run_with_suite(
    scenario: Option<FleetScenario>,
    seeds: u32,
    out: &Path,
) -> Result<Vec<Figure>, SimError> {
    let Some(s) = scenario else {
        return Ok(Vec::new());
    };
    let result = fleet::run(&s, seeds)?;
    let text = result.markdown();
    println!("\n{text}");
    std::fs::create_dir_all(out)
        .map_err(|e| SimError::Invalid(format!("{}: {e}", out.display())))?;
    let path = out.join("fleet.md");
    std::fs::write(&path, &text)
        .map_err(|e| SimError::Invalid(format!("{}: {e}", path.display())))?;
    println!("fleet report: {}", path.display());
    Ok(result.figures())
}

/// `--scenario 19` on its own: run it and check the floor's rows for it.
pub fn run_alone(
    scenario: Option<FleetScenario>,
    seeds: u32,
    out: &Path,
    check: Option<&Path>,
) -> Result<(), SimError> {
    let number = scenario.as_ref().map(|s| s.number);
    let figs = run_with_suite(scenario, seeds, out)?;
    match (check, number) {
        (Some(path), Some(n)) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| SimError::Invalid(format!("{}: {e}", path.display())))?;
            let own: String = text
                .lines()
                .filter(|l| l.split('\t').next().and_then(|x| x.trim().parse().ok()) == Some(n))
                .map(|l| format!("{l}\n"))
                .collect();
            let tmp = std::env::temp_dir()
                .join(format!("smartretry-floor-{n}-{}.tsv", std::process::id()));
            std::fs::write(&tmp, own).map_err(|e| SimError::Invalid(e.to_string()))?;
            let r = crate::simulate::check_floor(&tmp, &figs);
            let _ = std::fs::remove_file(&tmp);
            r
        }
        _ => Ok(()),
    }
}
