//! Prometheus text exposition (version 0.0.4) of the monitor's metrics and the engine's counters.

use super::{Histogram, Monitor};
use std::fmt::Write;

/// Escape a label value: backslash, double quote and newline.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn histogram(out: &mut String, name: &str, help: &str, h: &Histogram) {
    header(out, name, "histogram", help);
    for (bound, count) in h.cumulative() {
        let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {count}");
    }
    let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", h.count());
    let _ = writeln!(out, "{name}_sum {}", h.sum());
    let _ = writeln!(out, "{name}_count {}", h.count());
}

fn labelled<'a>(
    out: &mut String,
    name: &str,
    kind: &str,
    help: &str,
    label_name: &str,
    values: impl Iterator<Item = (&'a str, u64)>,
) {
    header(out, name, kind, help);
    for (v, n) in values {
        let _ = writeln!(out, "{name}{{{label_name}=\"{}\"}} {n}", label(v));
    }
}

impl Monitor {
    /// Every metric, in the Prometheus text format.
    pub fn prometheus(&self) -> String {
        let mut out = String::with_capacity(4096);
        if let Some(engine) = self.engine() {
            let st = engine.stats();
            let counters: [(&str, u64, &str); 9] = [
                ("episodes", st.episodes, "Failure episodes begun."),
                ("failures", st.failures, "Failed attempts recorded."),
                ("successes", st.successes, "Successful attempts recorded."),
                ("retries", st.retries, "Retries recommended."),
                ("give_ups", st.give_ups, "Episodes given up."),
                ("escalations", st.escalations, "Episodes escalated."),
                (
                    "budget_denials",
                    st.budget_denials,
                    "Retries a budget denied.",
                ),
                (
                    "breaker_delays",
                    st.breaker_delays,
                    "Retries an open breaker delayed.",
                ),
                (
                    "guardrail_clamps",
                    st.guardrail_clamps,
                    "Decisions a guardrail changed.",
                ),
            ];
            for (name, value, help) in counters {
                let name = format!("smartretry_{name}_total");
                header(&mut out, &name, "counter", help);
                let _ = writeln!(out, "{name} {value}");
            }
            header(
                &mut out,
                "smartretry_models",
                "gauge",
                "Learned models held.",
            );
            let _ = writeln!(out, "smartretry_models {}", st.models);
            header(
                &mut out,
                "smartretry_overrides",
                "gauge",
                "Operator overrides in force.",
            );
            let _ = writeln!(out, "smartretry_overrides {}", engine.overrides().len());
        }
        let s = self.state.lock();
        labelled(
            &mut out,
            "smartretry_decisions_total",
            "counter",
            "Decisions by the tier that made them.",
            "tier",
            s.by_tier.iter().map(|(k, v)| (*k, *v)),
        );
        labelled(
            &mut out,
            "smartretry_actions_total",
            "counter",
            "Decisions by action (retry, give_up, escalate).",
            "action",
            s.actions.iter().map(|(k, v)| (*k, *v)),
        );
        labelled(
            &mut out,
            "smartretry_clamps_total",
            "counter",
            "Guardrail overrides of a proposed delay, by guardrail.",
            "guardrail",
            s.clamps.iter().map(|(k, v)| (*k, *v)),
        );
        header(
            &mut out,
            "smartretry_fallbacks_total",
            "counter",
            "Decisions that fell back to the class schedule while a model was still learning.",
        );
        let _ = writeln!(out, "smartretry_fallbacks_total {}", s.fallbacks);
        labelled(
            &mut out,
            "smartretry_calls_avoided_total",
            "counter",
            "Attempts the class's static schedule would have made beyond those made (lower bound).",
            "class",
            s.avoided.iter().map(|(c, (a, _))| (c.as_str(), *a)),
        );
        labelled(
            &mut out,
            "smartretry_calls_extra_total",
            "counter",
            "Attempts made beyond those the class's static schedule would have made.",
            "class",
            s.avoided.iter().map(|(c, (_, e))| (c.as_str(), *e)),
        );
        if let Some(h) = &s.latency {
            histogram(
                &mut out,
                "smartretry_recommendation_latency_seconds",
                "Time from recording a failure to its recommendation.",
                h,
            );
        }
        if let Some(h) = &s.time_to_success {
            histogram(
                &mut out,
                "smartretry_time_to_success_seconds",
                "Seconds from an episode's first failure to its success.",
                h,
            );
        }
        let models: [(&str, &str, &str); 3] = [
            (
                "smartretry_model_brier",
                "gauge",
                "Brier score of p(success) per model.",
            ),
            (
                "smartretry_model_drift",
                "gauge",
                "|recent mean of (outcome - p)| per model.",
            ),
            (
                "smartretry_model_scored_total",
                "counter",
                "Retries scored per model.",
            ),
        ];
        for (name, kind, help) in models {
            header(&mut out, name, kind, help);
            for ((key, class), cal) in &s.calibration {
                let value = match name {
                    "smartretry_model_brier" => match cal.brier() {
                        Some(b) => b,
                        None => continue,
                    },
                    "smartretry_model_drift" => cal.drift(),
                    _ => cal.scored as f64,
                };
                let _ = writeln!(
                    out,
                    "{name}{{key=\"{}\",class=\"{}\"}} {value}",
                    label(key),
                    class.as_str()
                );
            }
        }
        out
    }

    /// The same figures as JSON, for the CLI and the bindings' own metric clients.
    pub fn metrics_json(&self) -> serde_json::Value {
        let s = self.state.lock();
        let hist = |h: &Option<Histogram>| {
            h.as_ref().map(|h| {
                serde_json::json!({
                    "count": h.count(),
                    "sum": h.sum(),
                    "p50_le": h.quantile_bound(0.5),
                    "p99_le": h.quantile_bound(0.99),
                    "buckets": h.cumulative(),
                })
            })
        };
        let models: Vec<_> = s
            .calibration
            .iter()
            .map(|((key, class), cal)| {
                serde_json::json!({
                    "key": key, "class": class.as_str(), "scored": cal.scored,
                    "brier": cal.brier(), "drift": cal.drift(), "bias": cal.bias,
                })
            })
            .collect();
        let avoided: serde_json::Map<_, _> = s
            .avoided
            .iter()
            .map(|(c, (a, e))| {
                (
                    c.as_str().to_string(),
                    serde_json::json!({"avoided": a, "extra": e}),
                )
            })
            .collect();
        serde_json::json!({
            "decisions_by_tier": s.by_tier,
            "actions": s.actions,
            "clamps": s.clamps,
            "fallbacks": s.fallbacks,
            "calls_avoided": avoided,
            "recommendation_latency_seconds": hist(&s.latency),
            "time_to_success_seconds": hist(&s.time_to_success),
            "models": models,
        })
    }
}
