//! The plain-words ending of a simulation: per scenario, the engine against the best static
//! schedule, as a sentence with the numbers; then the tally over all scenarios.

use super::{num, pct};
use crate::policy::PolicyKind;
use crate::suite::ScenarioResult;

/// Relative differences within this share count as "about the same".
const SAME: f64 = 0.02;

/// How the engine compared with the best static schedule in one scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Better,
    Same,
    Worse,
}

/// One scenario's comparison.
#[derive(Debug, Clone)]
pub struct Line {
    pub scenario: u32,
    pub title: String,
    /// The best static schedule's name.
    pub best_static: String,
    pub engine_j: f64,
    pub static_j: f64,
    pub verdict: Verdict,
    pub sentence: String,
}

/// What J is, for a reader who has not read the report.
pub const J_IN_WORDS: &str = "Cost per job (J) = seconds until the job succeeds (the deadline \
    if it never does) + c seconds for each failed attempt, c being each scenario's price of a \
    wasted call; lower is better. The best static schedule is the best of exponential backoff, \
    full, equal and decorrelated jitter and a fixed schedule, picked after the fact.";

/// Compare the engine with the best static schedule in every scenario where both ran.
pub fn lines(results: &[ScenarioResult]) -> Vec<Line> {
    results
        .iter()
        .filter_map(|r| {
            let engine = r.get(PolicyKind::Engine)?;
            let best = r.best_static()?;
            let (e, s) = (engine.steady.j, best.steady.j);
            if !(e.is_finite() && s.is_finite()) {
                return None;
            }
            let change = if s > 0.0 { (e - s) / s } else { 0.0 };
            let (verdict, how) = if change.abs() <= SAME {
                (Verdict::Same, "about the same as".to_string())
            } else if change < 0.0 {
                (Verdict::Better, format!("{:.0}% lower than", -change * 100.0))
            } else {
                (Verdict::Worse, format!("{:.0}% higher than", change * 100.0))
            };
            let sentence = format!(
                "{}. {}: the engine costs {} s per job, {how} the best static schedule \
                 ({}, {} s); it completes {} of jobs (best static: {}) with {} failed attempts per job (best static: {}).",
                r.scenario.number,
                r.scenario.title,
                num(e),
                best.kind.label(),
                num(s),
                pct(engine.steady.success_rate),
                pct(best.steady.success_rate),
                num(engine.steady.failed),
                num(best.steady.failed),
            );
            Some(Line {
                scenario: r.scenario.number,
                title: r.scenario.title.clone(),
                best_static: best.kind.label().to_string(),
                engine_j: e,
                static_j: s,
                verdict,
                sentence,
            })
        })
        .collect()
}

/// The closing tally: "better in 14 of 18 scenarios, about the same in 2, worse in 2".
pub fn tally(lines: &[Line]) -> String {
    let count = |v: Verdict| lines.iter().filter(|l| l.verdict == v).count();
    format!(
        "Over {} scenarios the engine costs less per job than the best static schedule in {}, \
         about the same (within {:.0}%) in {}, and more in {}.",
        lines.len(),
        count(Verdict::Better),
        SAME * 100.0,
        count(Verdict::Same),
        count(Verdict::Worse)
    )
}

/// The whole summary as plain text (the end of `smartretry simulate`).
pub fn render(results: &[ScenarioResult]) -> String {
    let lines = lines(results);
    let mut out = String::from("\nSummary: the engine against the best static schedule\n\n");
    for l in &lines {
        out.push_str(&l.sentence);
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&tally(&lines));
    out.push('\n');
    out.push_str(J_IN_WORDS);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(engine_j: f64, static_j: f64, verdict: Verdict) -> Line {
        Line {
            scenario: 1,
            title: "t".into(),
            best_static: "full-jitter".into(),
            engine_j,
            static_j,
            verdict,
            sentence: String::new(),
        }
    }

    #[test]
    fn tally_counts_each_verdict() {
        let ls = [
            line(1.0, 2.0, Verdict::Better),
            line(2.0, 2.0, Verdict::Same),
            line(3.0, 2.0, Verdict::Worse),
            line(1.0, 3.0, Verdict::Better),
        ];
        assert_eq!(
            tally(&ls),
            "Over 4 scenarios the engine costs less per job than the best static schedule in 2, \
             about the same (within 2%) in 1, and more in 1."
        );
    }
}
