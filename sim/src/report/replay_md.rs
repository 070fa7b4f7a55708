//! The replay's report: what the history held, the censored recovery estimate per group, how
//! the logging policy actually did on the test episodes, and every policy on the same episodes.

use super::table::{align, notes, rows};
use super::{num, pct};
use crate::replay::ReplayResult;
use std::fmt::Write;

/// Lines describing the history and its estimates (shared by the terminal and the report).
pub fn summary(r: &ReplayResult) -> Vec<String> {
    let mut out = vec![format!(
        "{} attempt records, {} failure episodes: {} train (warm-up), {} test (scored)",
        r.records,
        r.train + r.test,
        r.train,
        r.test
    )];
    for g in &r.groups {
        let q = |p: f64| g.estimate.quantile(p).map_or("never".to_string(), num);
        out.push(format!(
            "recovery of {} / {} ({} episodes, censored estimate): p10 {} s, p50 {} s, p90 {} s, never {}",
            g.queue,
            g.class,
            g.episodes,
            q(0.1),
            q(0.5),
            q(0.9),
            pct(g.estimate.never)
        ));
    }
    let l = &r.logged;
    out.push(format!(
        "as logged (test episodes): J {}, success {}, failed/job {}, TTS mean {} s",
        num(l.j),
        pct(l.success_rate),
        num(l.failed),
        num(l.tts_mean)
    ));
    out
}

/// Terminal rendering.
pub fn terminal(r: &ReplayResult) -> String {
    let mut s = String::new();
    for line in summary(r) {
        let _ = writeln!(s, "{line}");
    }
    let (head, rows) = rows(&r.result);
    s += &align(&head, &rows);
    for n in notes(&r.result) {
        let _ = writeln!(s, "   {n}");
    }
    s
}

/// Markdown rendering; `plots` are file names written beside the report.
pub fn markdown(r: &ReplayResult, command: &str, plots: &[String]) -> String {
    let mut md = String::from("# smartretry replay report\n\n");
    let _ = writeln!(md, "Reproduce with `{command}`.\n");
    let _ = writeln!(md, "{}\n", r.result.scenario.description);
    for line in summary(r) {
        let _ = writeln!(md, "- {line}");
    }
    md.push('\n');
    let (head, rows) = rows(&r.result);
    let _ = writeln!(md, "| {} |", head.join(" | "));
    let _ = writeln!(md, "|{}", " --- |".repeat(head.len()));
    for row in rows {
        let _ = writeln!(md, "| {} |", row.join(" | "));
    }
    md.push('\n');
    for n in notes(&r.result) {
        let _ = writeln!(md, "- {n}");
    }
    md.push('\n');
    for f in plots {
        let _ = writeln!(md, "![{f}]({f})");
    }
    md
}
