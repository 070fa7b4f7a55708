//! One run of the throttled fleet: Poisson arrivals per client, every attempt preceded by the
//! client engine's `acquire` (zero when the engine has no rate limiter), sent to the shared
//! throttling server, its outcome recorded in that client's engine, and a throttled attempt
//! retried after the engine's recommended delay. Discrete events on one manual clock: no sleeps.

use super::server::Server;
use super::FleetScenario;
use crate::dist::exponential;
use rand::rngs::SmallRng;
use rand::SeedableRng;
use smartretry::{Engine, Episode, Failure, ManualClock, Policy};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::time::Duration;

/// The key every client calls the server under.
const KEY: &str = "throttling-api";
/// What simulated time 0 reads on the engines' clock (Unix seconds).
const EPOCH: f64 = 1_700_000_000.0;

/// What one arm did inside the measured window.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ArmRun {
    /// Attempts sent to the server.
    pub sent: u64,
    /// Attempts the server throttled.
    pub throttled: u64,
    /// Attempts the server admitted.
    pub served: u64,
    /// Requests that ran out of attempts or time after a throttle.
    pub gave_up: u64,
    /// Requests the client's rate limiter shed: their token was further away than their
    /// deadline, so they were never sent.
    pub shed: u64,
    /// Seconds from arrival to success, of requests served in the window.
    pub latencies: Vec<f64>,
    /// Seconds the clients' rate limiters held attempts back, summed.
    pub limiter_wait: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    /// Take the limiter's token (and wait for it if told to).
    Acquire,
    /// Send the attempt.
    Send,
}

/// A heap entry, earliest first: (time as the bits of a non-negative f64, which order as the
/// numbers do; then scheduling order; the job; its step).
type Event = Reverse<(u64, u64, usize, Step)>;

fn event(t: f64, seq: u64, job: usize, step: Step) -> Event {
    Reverse((t.max(0.0).to_bits(), seq, job, step))
}

struct Job {
    client: usize,
    arrival: f64,
    episode: Option<Episode>,
}

/// Each client's request arrival times (seconds), the same for every arm of a seed.
pub fn arrivals(s: &FleetScenario, seed: u64) -> Vec<Vec<f64>> {
    let per_client = s.offered_rate / s.clients as f64;
    (0..s.clients)
        .map(|c| {
            let mut rng = SmallRng::seed_from_u64(seed ^ (c as u64).wrapping_mul(0x9E37_79B9));
            let mut t = 0.0;
            let mut out = Vec::new();
            loop {
                t += exponential(&mut rng, 1.0 / per_client);
                if t >= s.duration {
                    return out;
                }
                out.push(t);
            }
        })
        .collect()
}

/// The engine policy of one arm's clients: the scenario's full-jitter schedule for throttles,
/// learning off, with or without the adaptive rate limiter.
pub fn client_policy(s: &FleetScenario, adaptive: bool, seed: u64) -> crate::Result<Policy> {
    let json = serde_json::json!({
        "seed": seed,
        "deadline": null,
        "learning": { "enabled": false },
        "classes": { "rate_limited": {
            "strategy": { "kind": "full_jitter", "base": s.retry.base, "factor": 2.0 },
            "max_delay": s.retry.cap,
            "max_attempts": s.retry.max_attempts,
        }},
    });
    let mut policy = Policy::from_json(&json.to_string())?;
    policy.rate_limit = adaptive.then(smartretry::RateLimitConfig::default);
    Ok(policy)
}

/// Run one arm over `arrivals`.
pub fn run_arm(
    s: &FleetScenario,
    arrivals: &[Vec<f64>],
    adaptive: bool,
    seed: u64,
) -> crate::Result<ArmRun> {
    let clock = ManualClock::shared(Duration::from_secs_f64(EPOCH));
    let engines = (0..s.clients)
        .map(|c| {
            let policy = client_policy(s, adaptive, seed.wrapping_mul(1000) + c as u64)?;
            Ok(Engine::with_clock(policy, clock.clone())?)
        })
        .collect::<crate::Result<Vec<Engine>>>()?;
    let mut jobs = Vec::new();
    let mut heap = BinaryHeap::new();
    let mut seq = 0u64;
    for (client, times) in arrivals.iter().enumerate() {
        for &t in times {
            heap.push(event(t, seq, jobs.len(), Step::Acquire));
            seq += 1;
            jobs.push(Job {
                client,
                arrival: t,
                episode: None,
            });
        }
    }
    let mut server = Server::new(s.server.rate, s.server.burst);
    let mut out = ArmRun::default();
    let failure = Failure::http(429);
    while let Some(Reverse((bits, _, idx, step))) = heap.pop() {
        let t = f64::from_bits(bits);
        if t > s.duration {
            break;
        }
        set(&clock, t);
        let in_window = t >= s.warmup;
        let job = &mut jobs[idx];
        let engine = &engines[job.client];
        let next = match step {
            Step::Acquire => {
                if job.episode.is_none() {
                    job.episode = Some(engine.begin(KEY, None)?);
                }
                let left = (job.arrival + s.deadline - t).max(0.0);
                match engine.acquire_within(KEY, None, Duration::from_secs_f64(left))? {
                    Some(wait) => {
                        if in_window {
                            out.limiter_wait += wait.as_secs_f64();
                        }
                        Some((t + wait.as_secs_f64(), Step::Send))
                    }
                    None => {
                        if let Some(ep) = job.episode.as_mut() {
                            engine.abandon(ep);
                        }
                        if in_window {
                            out.shed += 1;
                        }
                        None
                    }
                }
            }
            Step::Send => {
                let Some(ep) = job.episode.as_mut() else {
                    continue;
                };
                let admitted = server.admit(t);
                if in_window {
                    out.sent += 1;
                }
                if admitted {
                    engine.on_success(ep)?;
                    if in_window {
                        out.served += 1;
                        out.latencies.push(t - job.arrival);
                    }
                    None
                } else {
                    if in_window {
                        out.throttled += 1;
                    }
                    let rec = engine.on_failure(ep, &failure)?;
                    let at = t + rec.delay.as_secs_f64();
                    if rec.should_retry() && at <= job.arrival + s.deadline {
                        Some((at, Step::Acquire))
                    } else {
                        engine.abandon(ep);
                        if in_window {
                            out.gave_up += 1;
                        }
                        None
                    }
                }
            }
        };
        if let Some((t, step)) = next {
            heap.push(event(t, seq, idx, step));
            seq += 1;
        }
    }
    Ok(out)
}

/// Move the shared clock to simulated time `t` (events come in time order).
fn set(clock: &Arc<ManualClock>, t: f64) {
    clock.set(Duration::from_secs_f64(EPOCH + t));
}
