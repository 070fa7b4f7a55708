//! The terminal table: one block per scenario, one row per policy, steady state first.

use super::{num, pct};
use crate::suite::ScenarioResult;
use std::fmt::Write;

/// Column headers and one row of cells per policy.
pub fn rows(r: &ScenarioResult) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let head = vec![
        "policy",
        "J",
        "J warm-up",
        "success",
        "failed/job",
        "attempts/job",
        "TTS mean",
        "p50",
        "p95",
        "p99",
        "1st retry ok",
        "peak/s",
        "regret",
    ];
    let rows = r
        .policies
        .iter()
        .map(|p| {
            let m = &p.steady;
            vec![
                p.kind.label().to_string(),
                num(m.j),
                num(p.warmup.j),
                pct(m.success_rate),
                num(m.failed),
                num(m.attempts),
                num(m.tts_mean),
                num(m.tts_p50),
                num(m.tts_p95),
                num(m.tts_p99),
                pct(m.first_retry_success),
                num(p.peak_rps),
                p.regret.map_or("-".into(), num),
            ]
        })
        .collect();
    (head, rows)
}

/// Scenario-specific lines printed under the table.
pub fn notes(r: &ScenarioResult) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(b) = r.best_static() {
        out.push(format!(
            "best static: {} (J {})",
            b.kind.label(),
            num(b.steady.j)
        ));
    }
    for p in &r.policies {
        if let Some(k) = p.reconverge {
            out.push(format!(
                "{}: back within 10% of its new steady-state J {k} episodes after the shift",
                p.kind.label()
            ));
        }
        if let Some((with, without)) = p.others_j {
            out.push(format!(
                "{}: other tenants' J {} with the noisy tenant, {} without ({:+.1}%)",
                p.kind.label(),
                num(with),
                num(without),
                (with / without - 1.0) * 100.0
            ));
        }
        if p.steady.permanent_retries > 0.0 {
            out.push(format!(
                "{}: {} retries of permanent errors per run",
                p.kind.label(),
                num(p.steady.permanent_retries)
            ));
        }
    }
    for p in r.policies.iter().filter(|p| !p.diagnostics.is_empty()) {
        let total: u64 = p.diagnostics.iter().map(|(_, v)| v).sum();
        let mut d = p.diagnostics.clone();
        d.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let parts: Vec<String> = d
            .iter()
            .take(6)
            .map(|(k, v)| format!("{k} {}", pct(*v as f64 / total.max(1) as f64)))
            .collect();
        out.push(format!(
            "{} decisions: {}",
            p.kind.label(),
            parts.join(", ")
        ));
    }
    if r.scenario.number == 8 {
        let calls: Vec<String> = r
            .policies
            .iter()
            .map(|p| format!("{} {}", p.kind.label(), num(p.total_calls)))
            .collect();
        out.push(format!("total calls per run: {}", calls.join(", ")));
    }
    if r.scenario.number == 10 {
        let rts: Vec<String> = r
            .policies
            .iter()
            .map(|p| format!("{} {}", p.kind.label(), num(p.steady.recovery_to_success)))
            .collect();
        out.push(format!(
            "mean s from recovery to success: {}",
            rts.join(", ")
        ));
    }
    for (k, why) in &r.skipped {
        out.push(format!("skipped {}: {why}", k.label()));
    }
    out
}

/// Render cells as aligned text columns (first column left-aligned, others right-aligned).
pub fn align(head: &[&str], rows: &[Vec<String>]) -> String {
    let mut w: Vec<usize> = head.iter().map(|h| h.len()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if let Some(x) = w.get_mut(i) {
                *x = (*x).max(c.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            let pad = w[i].saturating_sub(c.chars().count());
            if i == 0 {
                let _ = write!(s, "{c}{}", " ".repeat(pad));
            } else {
                let _ = write!(s, "  {}{c}", " ".repeat(pad));
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = line(head.to_vec());
    for r in rows {
        out += &line(r.iter().map(String::as_str).collect());
    }
    out
}

/// The whole terminal report.
pub fn render(results: &[ScenarioResult], seeds: u32) -> String {
    let mut out = String::new();
    for r in results {
        let s = &r.scenario;
        let jobs = r.policies.first().map_or(0.0, |p| p.steady.jobs);
        let _ = writeln!(
            out,
            "\n== {} {}: {} ==\n   c = {} s, deadline {} s, {seeds} seeds, {} steady-state jobs per seed; J in seconds",
            s.number,
            s.name,
            s.title,
            s.c,
            s.deadline,
            num(jobs)
        );
        let (head, rows) = rows(r);
        out += &align(&head, &rows);
        for n in notes(r) {
            let _ = writeln!(out, "   {n}");
        }
    }
    out
}
