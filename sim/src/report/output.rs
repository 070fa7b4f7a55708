//! Writes a suite's results into the folder the command names: REPORT.md, report.html (the
//! same for a browser, plots inlined), results.json (the numbers, for checks and for
//! BENCHMARKS.md) and the SVG plots.

use crate::error::{Result, SimError};
use crate::suite::ScenarioResult;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// Write everything; returns the path of the Markdown report.
pub fn write_all(
    results: &[ScenarioResult],
    dir: &Path,
    seeds: u32,
    command: &str,
) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(|e| SimError::io(dir, e))?;
    let mut plots = Vec::new();
    for r in results {
        plots.push((r.scenario.number, super::plots::write(r, dir)?));
    }
    super::overview::write(
        &super::summary::lines(results),
        &dir.join(super::overview::FILE),
    )?;
    let md = super::markdown::render(results, seeds, command, &plots);
    let report = dir.join("REPORT.md");
    std::fs::write(&report, md).map_err(|e| SimError::io(&report, e))?;
    let html = super::html::render(results, dir, command, &plots, super::overview::FILE)?;
    let html_path = dir.join("report.html");
    std::fs::write(&html_path, html).map_err(|e| SimError::io(&html_path, e))?;
    let json_path = dir.join("results.json");
    let text = serde_json::to_string_pretty(&to_json(results, seeds))
        .map_err(|e| SimError::Invalid(e.to_string()))?;
    std::fs::write(&json_path, text).map_err(|e| SimError::io(&json_path, e))?;
    Ok(report)
}

/// The numbers as JSON (NaN becomes null).
pub fn to_json(results: &[ScenarioResult], seeds: u32) -> Value {
    let scenarios: Vec<Value> = results
        .iter()
        .map(|r| {
            let policies: Vec<Value> = r
                .policies
                .iter()
                .map(|p| {
                    json!({
                        "policy": p.kind.label(),
                        "steady": p.steady,
                        "warmup": p.warmup,
                        "peak_attempts_per_s": p.peak_rps,
                        "total_calls": p.total_calls,
                        "regret": p.regret,
                        "reconverge_episodes": p.reconverge,
                        "others_j_with_noisy": p.others_j.map(|x| x.0),
                        "others_j_without_noisy": p.others_j.map(|x| x.1),
                    })
                })
                .collect();
            json!({
                "number": r.scenario.number,
                "name": r.scenario.name,
                "c": r.scenario.c,
                "deadline": r.scenario.deadline,
                "best_static": r.best_static().map(|b| b.kind.label()),
                "policies": policies,
                "skipped": r.skipped.iter().map(|(k, why)| json!({"policy": k.label(), "reason": why})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let figures: Vec<Value> = super::figures::figures(results)
        .into_iter()
        .map(|f| json!({"scenario": f.scenario, "figure": f.what, "value": f.value, "target": f.target, "met": f.met}))
        .collect();
    json!({ "seeds": seeds, "scenarios": scenarios, "figures": figures })
}
