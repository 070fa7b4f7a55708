//! Scenario 19, the throttled fleet: many clients, each with its own engine, share a server
//! that throttles with a token bucket. Unlike the episode scenarios (one failing job at a time
//! against a hidden fault), this one is a load test: what counts is how many calls the server
//! had to throttle and how much it served, with and without the adaptive client rate limiter.
//! Its own file format (`scenarios/19-throttle-fleet.toml`), runner and figures live here.

mod run;
mod server;

pub use run::{arrivals, client_policy, run_arm, ArmRun};
pub use server::Server;

use crate::dist::{percentile, seed_of};
use crate::error::{Result, SimError};
use crate::report::figures::Figure;
use serde::Deserialize;

/// The scenario file, embedded.
pub const FILE: (&str, &str) = (
    "19-throttle-fleet.toml",
    include_str!("../../scenarios/19-throttle-fleet.toml"),
);

/// Throttled calls of the adaptive arm, at most this share of full jitter's.
pub const THROTTLED_TARGET: f64 = 0.3;
/// Throughput of the adaptive arm, at least this share of the server's limit.
pub const THROUGHPUT_TARGET: f64 = 0.9;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSpec {
    /// Requests per second admitted.
    pub rate: f64,
    /// Token bucket size (requests).
    pub burst: f64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetrySpec {
    /// Full jitter base and cap, seconds.
    pub base: f64,
    pub cap: f64,
    /// Attempts in all, the first included.
    pub max_attempts: u32,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetScenario {
    pub number: u32,
    pub name: String,
    pub title: String,
    pub description: String,
    pub clients: usize,
    /// New requests per second, all clients together.
    pub offered_rate: f64,
    /// Simulated seconds of the run.
    pub duration: f64,
    /// Seconds at the start left out of the figures.
    pub warmup: f64,
    /// Seconds a request may take from its arrival; past it, it is given up.
    pub deadline: f64,
    pub server: ServerSpec,
    pub retry: RetrySpec,
}

impl FleetScenario {
    /// The embedded scenario, validated.
    pub fn load() -> Result<FleetScenario> {
        let bad = |reason: String| SimError::Scenario {
            name: FILE.0.to_string(),
            reason,
        };
        let s: FleetScenario = toml::from_str(FILE.1).map_err(|e| bad(e.to_string()))?;
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if !(1..=10_000).contains(&s.clients)
            || !positive(s.offered_rate)
            || !positive(s.server.rate)
            || s.server.burst < 1.0
            || !positive(s.retry.base)
            || s.retry.cap < s.retry.base
            || s.retry.max_attempts == 0
            || !positive(s.duration)
            || !(0.0..s.duration).contains(&s.warmup)
            || !positive(s.deadline)
        {
            return Err(bad("a parameter is out of range".into()));
        }
        Ok(s)
    }

    /// Whether a `--scenario` selection names this scenario (`all` included).
    pub fn selected_by(&self, selection: &str) -> bool {
        selection
            .split(',')
            .map(str::trim)
            .any(|s| s == "all" || s == self.name || s.parse::<u32>().ok() == Some(self.number))
    }

    fn window(&self) -> f64 {
        self.duration - self.warmup
    }
}

/// One arm's figures, mean over seeds.
#[derive(Debug, Clone, PartialEq)]
pub struct ArmSummary {
    pub label: &'static str,
    /// Per second of the measured window.
    pub sent: f64,
    pub throttled: f64,
    pub served: f64,
    pub gave_up: f64,
    pub shed: f64,
    /// Seconds from arrival to success: p50 and p99, all seeds pooled.
    pub latency_p50: f64,
    pub latency_p99: f64,
    /// Mean limiter wait per sent attempt, seconds.
    pub limiter_wait: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FleetResult {
    pub scenario: FleetScenario,
    pub seeds: u32,
    /// Full jitter alone (the anchor), then full jitter with the adaptive rate limiter.
    pub anchor: ArmSummary,
    pub adaptive: ArmSummary,
}

fn summarise(label: &'static str, runs: &[ArmRun], window: f64) -> ArmSummary {
    let n = runs.len().max(1) as f64;
    let per_s = |f: fn(&ArmRun) -> u64| runs.iter().map(|r| f(r) as f64).sum::<f64>() / n / window;
    let mut lat: Vec<f64> = runs.iter().flat_map(|r| r.latencies.clone()).collect();
    lat.sort_by(f64::total_cmp);
    let sent: u64 = runs.iter().map(|r| r.sent).sum();
    let (p50, p99) = if lat.is_empty() {
        (f64::NAN, f64::NAN)
    } else {
        (percentile(&lat, 0.5), percentile(&lat, 0.99))
    };
    ArmSummary {
        label,
        sent: per_s(|r| r.sent),
        throttled: per_s(|r| r.throttled),
        served: per_s(|r| r.served),
        gave_up: per_s(|r| r.gave_up),
        shed: per_s(|r| r.shed),
        latency_p50: p50,
        latency_p99: p99,
        limiter_wait: runs.iter().map(|r| r.limiter_wait).sum::<f64>() / sent.max(1) as f64,
    }
}

/// Run both arms on seeds 0..seeds (the same arrivals for both arms of a seed).
pub fn run(s: &FleetScenario, seeds: u32) -> Result<FleetResult> {
    let mut anchor = Vec::new();
    let mut adaptive = Vec::new();
    for seed in 0..u64::from(seeds) {
        let base = seed_of(&[&s.name, &seed.to_string()]);
        let arr = arrivals(s, base);
        anchor.push(run_arm(s, &arr, false, base)?);
        adaptive.push(run_arm(s, &arr, true, base)?);
    }
    Ok(FleetResult {
        scenario: s.clone(),
        seeds,
        anchor: summarise("full-jitter", &anchor, s.window()),
        adaptive: summarise("full-jitter + adaptive", &adaptive, s.window()),
    })
}

impl FleetResult {
    /// Throttled calls of the adaptive arm as a share of the anchor's.
    pub fn throttled_ratio(&self) -> f64 {
        self.adaptive.throttled / self.anchor.throttled
    }

    /// Served requests per second of the adaptive arm as a share of the server's limit.
    pub fn throughput_ratio(&self) -> f64 {
        self.adaptive.served / self.scenario.server.rate
    }

    /// The scenario's figures, in the suite's form (the floor file can list them).
    pub fn figures(&self) -> Vec<Figure> {
        let n = self.scenario.number;
        let t = self.throttled_ratio();
        let q = self.throughput_ratio();
        vec![
            Figure {
                scenario: n,
                what: "throttled calls vs full jitter alone".into(),
                value: format!(
                    "{t:.3}x ({:.1} vs {:.1} per s)",
                    self.adaptive.throttled, self.anchor.throttled
                ),
                target: format!("≤ {THROTTLED_TARGET}x"),
                met: Some(t <= THROTTLED_TARGET),
            },
            Figure {
                scenario: n,
                what: "throughput vs the server's limit".into(),
                value: format!(
                    "{q:.3}x ({:.1} of {} req/s)",
                    self.adaptive.served, self.scenario.server.rate
                ),
                target: format!("≥ {THROUGHPUT_TARGET}x"),
                met: Some(q >= THROUGHPUT_TARGET),
            },
        ]
    }

    /// The scenario's table (Markdown), arms side by side, then its figures.
    pub fn markdown(&self) -> String {
        let s = &self.scenario;
        let mut out = format!(
            "## {}. {}\n\n{}\nMean of {} seeds, per second of the measured window ({} s to {} s).\n\n",
            s.number,
            s.title,
            s.description.trim(),
            self.seeds,
            s.warmup,
            s.duration
        );
        out += "| arm | sent/s | throttled/s | served/s | gave up after throttles/s | shed by the limiter/s | limiter wait per call | latency p50 | latency p99 |\n";
        out += "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n";
        for a in [&self.anchor, &self.adaptive] {
            out += &format!(
                "| {} | {:.1} | {:.1} | {:.1} | {:.2} | {:.2} | {:.3} s | {:.2} s | {:.2} s |\n",
                a.label,
                a.sent,
                a.throttled,
                a.served,
                a.gave_up,
                a.shed,
                a.limiter_wait,
                a.latency_p50,
                a.latency_p99
            );
        }
        out += "\n| figure | value | target | met |\n| --- | --- | --- | --- |\n";
        for f in self.figures() {
            out += &format!(
                "| {} | {} | {} | {} |\n",
                f.what,
                f.value,
                f.target,
                if f.met == Some(true) { "yes" } else { "no" }
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scenario_file_loads_and_is_selected() {
        let s = FleetScenario::load().unwrap();
        assert_eq!(s.number, 19);
        assert!(s.selected_by("all"));
        assert!(s.selected_by("19"));
        assert!(s.selected_by("1,throttle-fleet"));
        assert!(!s.selected_by("2"));
    }

    #[test]
    fn both_arms_see_the_same_arrivals() {
        let s = FleetScenario::load().unwrap();
        let a = arrivals(&s, 7);
        assert_eq!(a, arrivals(&s, 7));
        let total: usize = a.iter().map(Vec::len).sum();
        let expected = s.offered_rate * s.duration;
        assert!((total as f64 - expected).abs() < 0.05 * expected, "{total}");
    }

    #[test]
    fn without_the_limiter_nothing_waits_and_the_server_is_overrun() {
        let s = FleetScenario {
            duration: 30.0,
            warmup: 5.0,
            ..FleetScenario::load().unwrap()
        };
        let arr = arrivals(&s, 1);
        let anchor = run_arm(&s, &arr, false, 1).unwrap();
        assert_eq!(anchor.limiter_wait, 0.0);
        assert!(anchor.throttled > anchor.served / 2, "{anchor:?}");
        let adaptive = run_arm(&s, &arr, true, 1).unwrap();
        assert!(adaptive.limiter_wait > 0.0);
        assert!(adaptive.throttled < anchor.throttled, "{adaptive:?}");
    }
}
