//! The Markdown report: how to reproduce, the score, one section per scenario (its model, the
//! table, the notes, the plots) and the decision-quality figures.

use super::figures::figures;
use super::table::{notes, rows};
use crate::suite::ScenarioResult;
use std::fmt::Write;

/// Render the report. `plots` lists, per scenario number, the SVG file names written beside it.
pub fn render(
    results: &[ScenarioResult],
    seeds: u32,
    command: &str,
    plots: &[(u32, Vec<String>)],
) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# smartretry simulation report\n");
    let _ = writeln!(
        md,
        "Reproduce with `{command}`. Deterministic: the same command prints the same numbers.\n"
    );
    let _ = writeln!(
        md,
        "Score of a job: **J = time to success (the deadline if it never succeeds) + c × failed \
         attempts**, in seconds; lower is better. Every figure is the mean over {seeds} seeds of \
         the steady-state jobs (after the warm-up share of each scenario); J warm-up is the same \
         score over the warm-up jobs. Failed attempts count the first attempt (which fails in \
         every scenario but contention). Time to success is over the jobs that succeeded. \
         Regret is J minus the oracle's, shown only where the oracle is a bound (all-or-nothing \
         recovery). Static baselines are blind (no classification, no Retry-After) and retry \
         until the deadline; \"best static\" is the best of exponential, full, equal and \
         decorrelated jitter (base 1 s, cap 60 s; 1 h in scenario 10).\n"
    );
    let summary = super::summary::lines(results);
    if !summary.is_empty() {
        let _ = writeln!(md, "## Summary\n");
        for l in &summary {
            let _ = writeln!(md, "- {}", l.sentence);
        }
        let _ = writeln!(
            md,
            "\n{}\n\n![{f}]({f})\n",
            super::summary::tally(&summary),
            f = super::overview::FILE
        );
    }
    let figs = figures(results);
    if !figs.is_empty() {
        let _ = writeln!(md, "## Decision-quality figures\n");
        md += &super::figures::table(&figs, "engine");
        md.push('\n');
    }
    for r in results {
        let s = &r.scenario;
        let _ = writeln!(md, "## {}. {} (`{}`)\n", s.number, s.title, s.name);
        let _ = writeln!(md, "{}\n", s.description.trim());
        let _ = writeln!(
            md,
            "c = {} s, deadline {} s, {} jobs per run, warm-up {:.0}%.\n",
            s.c,
            s.deadline,
            r.policies
                .first()
                .map_or(0.0, |p| p.steady.jobs + p.warmup.jobs),
            s.warmup_share * 100.0
        );
        let (head, rows) = rows(r);
        let _ = writeln!(md, "| {} |", head.join(" | "));
        let _ = writeln!(md, "|{}", " --- |".repeat(head.len()));
        for row in rows {
            let _ = writeln!(md, "| {} |", row.join(" | "));
        }
        md.push('\n');
        for n in notes(r) {
            let _ = writeln!(md, "- {n}");
        }
        if let Some((_, files)) = plots.iter().find(|(n, _)| *n == s.number) {
            md.push('\n');
            for f in files {
                let _ = writeln!(md, "![{f}]({f})");
            }
        }
        md.push('\n');
    }
    md
}
