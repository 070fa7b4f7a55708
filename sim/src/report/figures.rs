//! The decision-quality figures set for the engine, computed from a suite's results so the report (and
//! later the lead's `check`) state plainly which are met and by how much each is missed.

use super::{num, pct};
use crate::policy::PolicyKind;
use crate::suite::ScenarioResult;

/// One figure: what is measured, the value, the target, and whether it is met (`None` when the
/// engine did not run).
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub scenario: u32,
    pub what: String,
    pub value: String,
    pub target: String,
    pub met: Option<bool>,
}

fn fig(scenario: u32, what: &str, value: String, target: String, met: Option<bool>) -> Figure {
    Figure {
        scenario,
        what: what.to_string(),
        value,
        target,
        met,
    }
}

/// `figs` as a Markdown table; `value` heads the column of measured values.
pub fn table(figs: &[Figure], value: &str) -> String {
    let mut md = format!(
        "| scenario | figure | {value} | target | met |\n| --- | --- | --- | --- | --- |\n"
    );
    for f in figs {
        let met = match f.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "-",
        };
        md += &format!(
            "| {} | {} | {} | {} | {met} |\n",
            f.scenario, f.what, f.value, f.target
        );
    }
    md
}

/// Every figure that applies to the scenarios in `results`.
pub fn figures(results: &[ScenarioResult]) -> Vec<Figure> {
    let mut out = Vec::new();
    for r in results {
        let n = r.scenario.number;
        let engine = r.get(PolicyKind::Engine);
        let best = r.best_static();
        if let Some(b) = best {
            let (value, met) = match engine {
                Some(e) => (
                    format!(
                        "J {} ({:+.1}%), success {}",
                        num(e.steady.j),
                        (e.steady.j / b.steady.j - 1.0) * 100.0,
                        pct(e.steady.success_rate)
                    ),
                    Some(
                        e.steady.j <= b.steady.j
                            && e.steady.success_rate + 1e-9 >= b.steady.success_rate,
                    ),
                ),
                None => ("engine not run".into(), None),
            };
            out.push(fig(
                n,
                "J(engine) ≤ J(best static), success rate not lower",
                value,
                format!(
                    "≤ {} ({}), success ≥ {}",
                    num(b.steady.j),
                    b.kind.label(),
                    pct(b.steady.success_rate)
                ),
                met,
            ));
        }
        if crate::suite::oracle_is_bound(&r.scenario) {
            if let (Some(b), Some(o)) = (best, r.get(PolicyKind::Oracle)) {
                let gap = b.steady.j - o.steady.j;
                let closed = engine.map(|e| (b.steady.j - e.steady.j) / gap);
                out.push(fig(
                    n,
                    "share of the static-oracle gap closed",
                    closed.map_or("engine not run".into(), pct),
                    "≥ 50.0%".into(),
                    closed.map(|c| c >= 0.5),
                ));
            }
        }
        match n {
            3 => out.push(fig(
                n,
                "first-retry success",
                engine.map_or("engine not run".into(), |e| {
                    pct(e.steady.first_retry_success)
                }),
                "≥ 95.0%".into(),
                engine.map(|e| e.steady.first_retry_success >= 0.95),
            )),
            6 => out.push(fig(
                n,
                "episodes after the shift to come back within 10% of the new steady-state J",
                engine.map_or("engine not run".into(), |e| {
                    e.reconverge.map_or("never".into(), |k| k.to_string())
                }),
                "≤ 200".into(),
                engine.map(|e| e.reconverge.is_some_and(|k| k <= 200)),
            )),
            7 => out.push(fig(
                n,
                "other tenants' J change when the noisy tenant is added",
                engine
                    .and_then(|e| e.others_j)
                    .map_or("engine not run".into(), |(w, wo)| {
                        format!(
                            "{:+.1}% ({} vs {})",
                            (w / wo - 1.0) * 100.0,
                            num(w),
                            num(wo)
                        )
                    }),
                "within ±5%".into(),
                engine
                    .and_then(|e| e.others_j)
                    .map(|(w, wo)| (w / wo - 1.0).abs() <= 0.05),
            )),
            8 | 13 => {
                if let Some(fj) = r.get(PolicyKind::FullJitter) {
                    out.push(fig(
                        n,
                        "mean completion time vs full jitter",
                        engine.map_or("engine not run".into(), |e| {
                            format!(
                                "{} s vs {} s",
                                num(e.steady.tts_mean),
                                num(fj.steady.tts_mean)
                            )
                        }),
                        format!("≤ {} s", num(fj.steady.tts_mean)),
                        engine.map(|e| e.steady.tts_mean <= fj.steady.tts_mean),
                    ));
                    out.push(fig(
                        n,
                        "total calls vs full jitter",
                        engine.map_or("engine not run".into(), |e| {
                            // Calls alone reward giving up: show the success rate beside them.
                            format!(
                                "{} ({:+.1}%), success {} vs {}",
                                num(e.total_calls),
                                (e.total_calls / fj.total_calls - 1.0) * 100.0,
                                pct(e.steady.success_rate),
                                pct(fj.steady.success_rate)
                            )
                        }),
                        format!("≤ {} (+5%)", num(fj.total_calls * 1.05)),
                        engine.map(|e| e.total_calls <= fj.total_calls * 1.05),
                    ));
                }
            }
            9 => out.push(fig(
                n,
                "retries of permanent errors",
                engine.map_or("engine not run".into(), |e| num(e.steady.permanent_retries)),
                "0".into(),
                engine.map(|e| e.steady.permanent_retries == 0.0),
            )),
            10 => {
                if let Some(fj) = r.get(PolicyKind::FullJitter) {
                    let ratio = |f: fn(&crate::metrics::Metrics) -> f64| {
                        engine.map(|e| f(&e.steady) / f(&fj.steady))
                    };
                    let failed = ratio(|m| m.failed);
                    out.push(fig(
                        n,
                        "failed attempts per job vs full jitter (cap 1 h)",
                        failed.map_or("engine not run".into(), |x| {
                            format!(
                                "{x:.2}× (success {})",
                                pct(engine.map_or(f64::NAN, |e| e.steady.success_rate))
                            )
                        }),
                        "≤ 0.50×".into(),
                        failed.map(|x| x <= 0.5),
                    ));
                    let rts = ratio(|m| m.recovery_to_success);
                    out.push(fig(
                        n,
                        "mean time from recovery to success vs full jitter",
                        rts.map_or("engine not run".into(), |x| format!("{x:.2}×")),
                        "≤ 0.75×".into(),
                        rts.map(|x| x <= 0.75),
                    ));
                    out.push(fig(
                        n,
                        "success rate vs full jitter",
                        engine.map_or("engine not run".into(), |e| pct(e.steady.success_rate)),
                        format!("≥ {}", pct(fj.steady.success_rate)),
                        engine.map(|e| e.steady.success_rate + 1e-9 >= fj.steady.success_rate),
                    ));
                }
            }
            _ => {}
        }
    }
    out
}
