//! `inspect` (each model: evidence, survival curve, plan) and `stats` (counters and metrics of
//! a live engine).

use crate::source::{CmdResult, Source, SourceArgs};
use crate::table::{pct, secs, Table};
use serde_json::Value;

/// The curve at a few landmarks: P(recovered) by 1 s, 10 s, 1 min, 10 min.
fn curve_at(curve: &Value, t: f64) -> Option<f64> {
    curve
        .as_array()?
        .iter()
        .filter_map(|p| Some((p[0].as_f64()?, p[1].as_f64()?)))
        .take_while(|(x, _)| *x <= t)
        .last()
        .map(|(_, p)| p)
}

pub fn inspect(args: &SourceArgs) -> CmdResult {
    let source = Source::open(args)?;
    let models = source.get("/models")?;
    if args.json {
        println!("{models:#}");
        return Ok(());
    }
    let list = models.as_array().cloned().unwrap_or_default();
    if list.is_empty() {
        println!("no learned models yet");
        return Ok(());
    }
    let mut t = Table::new(&[
        "key",
        "tenant",
        "class",
        "episodes",
        "pass",
        "P(up) 1s/10s/1m/10m",
        "prefers",
        "plan",
    ]);
    for m in &list {
        let r = &m["report"];
        let curve = [1.0, 10.0, 60.0, 600.0]
            .map(|x| pct(curve_at(&m["curve"], x)))
            .join("/");
        let plan: Vec<String> = m["plan"]
            .as_array()
            .into_iter()
            .flatten()
            .take(6)
            .map(|s| s["delay"].as_f64().map_or("stop".into(), |d| secs(Some(d))))
            .collect();
        t.row(vec![
            m["key"].as_str().unwrap_or("?").to_string(),
            m["tenant"].as_str().unwrap_or("-").to_string(),
            m["class"].as_str().unwrap_or("?").to_string(),
            format!("{:.1}", r["episodes"].as_f64().unwrap_or(0.0)),
            pct(r["pass_rate"].as_f64()),
            curve,
            r["preferred"].as_str().unwrap_or("?").to_string(),
            plan.join(", "),
        ]);
    }
    print!("{}", t.render());
    Ok(())
}

pub fn stats(args: &SourceArgs) -> CmdResult {
    let source = Source::open(args)?;
    let stats = source.get("/stats")?;
    let metrics = source.get("/metrics.json")?;
    if args.json {
        println!(
            "{:#}",
            serde_json::json!({ "stats": stats, "metrics": metrics })
        );
        return Ok(());
    }
    let mut t = Table::new(&["counter", "value"]);
    for (k, v) in stats.as_object().into_iter().flatten() {
        t.row(vec![k.clone(), v.to_string()]);
    }
    print!("{}", t.render());
    println!();
    let mut t = Table::new(&["metric", "value"]);
    for (name, group) in [
        ("decisions", &metrics["decisions_by_tier"]),
        ("clamps", &metrics["clamps"]),
    ] {
        for (k, v) in group.as_object().into_iter().flatten() {
            t.row(vec![format!("{name}[{k}]"), v.to_string()]);
        }
    }
    t.row(vec!["fallbacks".into(), metrics["fallbacks"].to_string()]);
    for (class, v) in metrics["calls_avoided"].as_object().into_iter().flatten() {
        t.row(vec![
            format!("calls avoided[{class}]"),
            format!("{} (extra {})", v["avoided"], v["extra"]),
        ]);
    }
    let lat = &metrics["recommendation_latency_seconds"];
    t.row(vec![
        "recommendation latency p50/p99 (bucket bound)".into(),
        format!(
            "<= {} / <= {}",
            secs(lat["p50_le"].as_f64()),
            secs(lat["p99_le"].as_f64())
        ),
    ]);
    let tts = &metrics["time_to_success_seconds"];
    t.row(vec![
        "time to success p50 (bucket bound)".into(),
        format!("<= {}", secs(tts["p50_le"].as_f64())),
    ]);
    for m in metrics["models"].as_array().into_iter().flatten() {
        t.row(vec![
            format!(
                "model {}/{} brier, drift",
                m["key"].as_str().unwrap_or("?"),
                m["class"].as_str().unwrap_or("?")
            ),
            format!(
                "{}, {:.3} ({} scored)",
                m["brier"]
                    .as_f64()
                    .map_or("-".into(), |b| format!("{b:.3}")),
                m["drift"].as_f64().unwrap_or(0.0),
                m["scored"]
            ),
        ]);
    }
    print!("{}", t.render());
    Ok(())
}
