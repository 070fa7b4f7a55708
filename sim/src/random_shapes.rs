//! Outage shapes the suite does not contain, drawn at random: recovery from milliseconds to
//! hours, outages shared by every job, brown-outs, blips, drift, rate-limit windows (with and
//! without Retry-After), permanent errors mixed in, and crowds of writers; each with its own price of a failed attempt, deadline,
//! arrival rate and static baselines at a scale a user of that dependency would pick. The engine
//! runs on its presets, as a new user's would: nothing here is tuned to it. `smartretry simulate
//! --random-shapes N` runs them; the summary figures say how the engine fares over all of them,
//! which no hand-picked scenario can.

use crate::error::Result;
use crate::report::figures::Figure;
use crate::scenario::Scenario;
use crate::suite::ScenarioResult;
use crate::PolicyKind;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// The scenario number the summary figures are filed under (no shape uses it).
pub const SUMMARY: u32 = 0;
/// First scenario number of a drawn shape.
const FIRST: u32 = 5000;
/// "Worse than the best static schedule": J above this multiple of it.
const WORSE: f64 = 1.1;

/// `n` shapes drawn from `seed`, each as the TOML text of a scenario file and parsed.
pub fn shapes(seed: u64, n: usize) -> Result<Vec<(String, Scenario)>> {
    let mut rng = SmallRng::seed_from_u64(seed ^ 0x005E_ED0F_5AFE);
    (0..n)
        .map(|i| {
            let text = draw(&mut rng, seed, i);
            let s = Scenario::from_toml(&format!("random shape {i}"), &text)?;
            Ok((text, s))
        })
        .collect()
}

/// 10^u for u uniform in [a, b): a scale drawn evenly over decades.
fn decades(rng: &mut SmallRng, a: f64, b: f64) -> f64 {
    10f64.powf(rng.random_range(a..b))
}

/// A brown-out's pass rate: none with probability `none`, else uniform in [0.01, `most`).
fn brownout(rng: &mut SmallRng, none: f64, most: f64) -> f64 {
    if rng.random::<f64>() < none {
        0.0
    } else {
        rng.random_range(0.01..most)
    }
}

fn log_normal(median: f64, sigma: f64) -> String {
    format!("{{ median = {median:.6e}, sigma = {sigma:.3} }}")
}

/// One shape's scenario file.
fn draw(rng: &mut SmallRng, seed: u64, i: usize) -> String {
    const FAILURES: [&str; 4] = [
        r#"{ class = "unavailable", http_status = 503 }"#,
        r#"{ class = "connection", error_code = "ECONNREFUSED" }"#,
        r#"{ class = "timeout", error_code = "ETIMEDOUT" }"#,
        r#"{ class = "server_error", http_status = 500 }"#,
    ];
    const FAMILIES: [&str; 10] = [
        "log_normal",
        "log_normal",
        "log_normal",
        "outages",
        "outages",
        "blips",
        "drift",
        "rate_limit",
        "mixed",
        "contention",
    ];
    let family = FAMILIES[rng.random_range(0..FAMILIES.len())];
    let failure = FAILURES[rng.random_range(0..FAILURES.len())];
    let median = decades(rng, -2.0, 3.3);
    let sigma = rng.random_range(0.1..2.5);
    // The shape's time scale: what the price of an attempt, the deadline and the static
    // baselines are drawn around.
    let mut scale = median;
    let mut rate = decades(rng, -1.0, 1.0);
    let model = match family {
        "log_normal" => {
            let brownout = brownout(rng, 0.6, 0.6);
            format!(
                "kind = \"log_normal\"\nrecovery = {}\nfailure = {failure}\nbrownout_share = {brownout:.3}\n",
                log_normal(median, sigma)
            )
        }
        "outages" => {
            // Down for `median` (log-normal), up for a few to a hundred times as long.
            let up = median * decades(rng, 0.5, 2.0);
            let brownout = brownout(rng, 0.8, 0.5);
            format!(
                "kind = \"outages\"\nduration = {}\nup = {up:.6e}\nfailure = {failure}\nbrownout_share = {brownout:.3}\n",
                log_normal(median, sigma.min(1.5))
            )
        }
        "blips" => format!(
            "kind = \"blips\"\ninstant_share = {:.3}\nslow = {}\nfailure = {failure}\n",
            rng.random_range(0.3..0.95),
            log_normal(median, sigma)
        ),
        "drift" => {
            let after = median * decades(rng, -1.5, 1.5);
            scale = median.max(after);
            format!(
                "kind = \"drift\"\nbefore = {}\nafter = {}\nshift_share = {:.3}\nfailure = {failure}\n",
                log_normal(median, sigma),
                log_normal(after, rng.random_range(0.1..2.0)),
                rng.random_range(0.3..0.7)
            )
        }
        "rate_limit" => {
            let period = decades(rng, -0.5, 3.0);
            scale = period;
            format!(
                "kind = \"rate_limit\"\nperiod = {period:.6e}\nopen_share = {:.3}\nretry_after = {}\nfailure = {{ class = \"rate_limited\", http_status = 429 }}\n",
                rng.random_range(0.05..0.8),
                rng.random::<bool>()
            )
        }
        "mixed" => format!(
            "kind = \"mixed\"\nrecovery = {}\nfailure = {failure}\npermanent = [{{ share = {:.3}, failure = {{ class = \"client_error\", http_status = 400 }} }}]\n",
            log_normal(median, sigma),
            rng.random_range(0.05..0.5)
        ),
        _ => {
            let window = decades(rng, -3.0, -0.5);
            scale = window * 20.0;
            rate = 0.5;
            format!(
                "kind = \"contention\"\nclients = {}\nwindow = {window:.6e}\nround_gap = {:.6e}\nfailure = {{ class = \"conflict\", http_status = 409 }}\n",
                rng.random_range(2..=200),
                window * decades(rng, 2.0, 4.0)
            )
        }
    };
    let c = (scale * decades(rng, -2.5, 0.0)).clamp(0.001, 30.0);
    let deadline = (10.0 * scale).max(scale * decades(rng, 1.0, 2.5)).max(1.0);
    let base = (scale * decades(rng, -1.5, -0.5)).max(0.001);
    let cap = (base * 4.0).max(scale * decades(rng, 0.3, 1.5));
    let preset = if scale < 1.0 { "request" } else { "background" };
    let number = FIRST + i as u32;
    format!(
        "number = {number}\nname = \"random-{seed}-{i:03}-{family}\"\ntitle = \"Random shape {i} of seed {seed}: {family}\"\n\
         description = \"Drawn by smartretry simulate --random-shapes (seed {seed}).\"\n\
         c = {c:.6e}\ndeadline = {deadline:.6e}\njobs = 2000\nqueue = \"random\"\narrival_rate = {rate:.4e}\n\
         static_base = {base:.6e}\nstatic_cap = {cap:.6e}\npreset = \"{preset}\"\n\n[model]\n{model}"
    )
}

/// The figures over all shapes: the geometric means of the engine's J against the best static
/// schedule's and against full jitter's, and how many shapes the engine loses by more than 10%.
pub fn summary_figures(results: &[ScenarioResult]) -> Vec<Figure> {
    let mut vs_best = Vec::new();
    let mut vs_full_jitter = Vec::new();
    let mut peaks = Vec::new();
    for r in results {
        let (Some(e), Some(best), Some(fj)) = (
            r.get(PolicyKind::Engine),
            r.best_static(),
            r.get(PolicyKind::FullJitter),
        ) else {
            continue;
        };
        if best.steady.j > 0.0 && fj.steady.j > 0.0 {
            vs_best.push(e.steady.j / best.steady.j);
            vs_full_jitter.push(e.steady.j / fj.steady.j);
        }
        if e.peak_rps > 0.0 && fj.peak_rps > 0.0 {
            peaks.push(e.peak_rps / fj.peak_rps);
        }
    }
    let geomean = |xs: &[f64]| (xs.iter().map(|x| x.ln()).sum::<f64>() / xs.len() as f64).exp();
    let worse = vs_best.iter().filter(|x| **x > WORSE).count();
    let n = vs_best.len();
    let figure = |what: &str, value: f64, target: f64, shown: String| Figure {
        scenario: SUMMARY,
        what: what.to_string(),
        value: shown,
        target: format!("≤ {target}"),
        met: Some(value <= target),
    };
    if n == 0 {
        return Vec::new();
    }
    let mut out = vec![
        figure(
            "geometric mean of J(engine) / J(best static)",
            geomean(&vs_best),
            0.85,
            format!("{:.3}", geomean(&vs_best)),
        ),
        figure(
            "geometric mean of J(engine) / J(full jitter)",
            geomean(&vs_full_jitter),
            0.78,
            format!("{:.3}", geomean(&vs_full_jitter)),
        ),
        figure(
            "share of shapes with J(engine) > 1.1 J(best static)",
            worse as f64 / n as f64,
            0.1,
            format!("{worse} of {n}"),
        ),
    ];
    // Shown, not judged: J prices an attempt at c, and the simulated dependencies do not slow
    // down under load (crowds of writers aside), so a busier peak costs nothing in J.
    if !peaks.is_empty() {
        out.push(Figure {
            scenario: SUMMARY,
            what: "geometric mean of the busiest second's attempts, engine / full jitter".into(),
            value: format!("{:.2}", geomean(&peaks)),
            target: "-".into(),
            met: None,
        });
    }
    out
}

/// The shapes where the engine fares worst against the best static schedule, worst first, with
/// that ratio: where to look next.
pub fn worst(results: &[ScenarioResult], k: usize) -> Vec<(String, f64)> {
    let mut all: Vec<(String, f64)> = results
        .iter()
        .filter_map(|r| {
            let (e, best) = (r.get(PolicyKind::Engine)?, r.best_static()?);
            (best.steady.j > 0.0).then(|| (r.scenario.name.clone(), e.steady.j / best.steady.j))
        })
        .collect();
    all.sort_by(|a, b| b.1.total_cmp(&a.1));
    all.truncate(k);
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_parse_are_distinct_and_reproducible() {
        let a = shapes(7, 80).unwrap();
        let b = shapes(7, 80).unwrap();
        assert_eq!(
            a.iter().map(|x| &x.0).collect::<Vec<_>>(),
            b.iter().map(|x| &x.0).collect::<Vec<_>>()
        );
        let mut names: Vec<&str> = a.iter().map(|x| x.1.name.as_str()).collect();
        names.dedup();
        assert_eq!(names.len(), 80);
        assert_ne!(a[0].0, shapes(8, 1).unwrap()[0].0);
        // Every family appears in a few dozen draws.
        for family in [
            "log_normal",
            "blips",
            "drift",
            "rate_limit",
            "mixed",
            "contention",
        ] {
            assert!(a.iter().any(|x| x.1.name.ends_with(family)), "{family}");
        }
    }
}
