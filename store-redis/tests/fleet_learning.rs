//! Four workers each seeing a quarter of the episodes, pooling through a real redis-server,
//! reach the learned plan after about as many episodes in total as a lone worker that sees them
//! all (the figure in BENCHMARKS.md, section 11; print it with `--nocapture`).

mod common;

use common::{outage, Lcg, RedisServer};
use smartretry::learn::ArmChoice;
use smartretry::{Engine, ErrorClass, Failure, ManualClock, Policy, Tier};
use smartretry_redis::{FleetConfig, FleetStore};
use std::sync::Arc;
use std::time::Duration;

const SEEDS: u64 = 6;
const MAX_EPISODES: usize = 2000;

fn worker(clock: &Arc<ManualClock>, seed: u64) -> Engine {
    let mut p = Policy::from_json(
        r#"{"classes":{"unavailable":{"max_attempts":20,"max_delay":120}},"deadline":900}"#,
    )
    .unwrap();
    p.learning.failure_cost = Some(Duration::from_secs(5));
    p.seed = Some(seed);
    Engine::with_clock(p, clock.clone()).unwrap()
}

/// The worker runs the learned plan: the portfolio prefers it, the first retry comes from the
/// Bayesian tier, and it waits near the optimum (9-14.6 s, as in the core's convergence test).
fn learned(e: &Engine) -> bool {
    let prefers = e
        .model_report("pay", None, ErrorClass::Unavailable)
        .is_some_and(|r| r.preferred == ArmChoice::Learned);
    let first = e.preview("pay", None, &Failure::http(503), 1).ok();
    let step = first.as_ref().and_then(|v| v.first());
    prefers
        && step.is_some_and(|r| {
            r.tier == Tier::Bayesian && (9.0..=14.6).contains(&r.delay.as_secs_f64())
        })
}

/// Episodes (over all workers) until every worker prefers the learned plan. Episodes go to the
/// workers in turn; between two episodes (100 s apart on the manual clock) every worker syncs,
/// as a background sync every second would (unless `pool` is false: workers learning alone).
fn episodes_to_learn(workers: usize, pool: bool, server: &RedisServer, seed: u64) -> usize {
    let clock = ManualClock::shared(Duration::from_secs(1_700_000_000));
    let engines: Vec<Engine> = (0..workers)
        .map(|w| worker(&clock, seed * 100 + w as u64))
        .collect();
    let ns = format!("learn-{workers}-{pool}-{seed}");
    let stores: Vec<FleetStore> = engines
        .iter()
        .map(|e| {
            FleetStore::attach_manual(e, FleetConfig::new(&server.url()).namespace(&ns)).unwrap()
        })
        .collect();
    let mut rng = Lcg(seed);
    for n in 0..MAX_EPISODES {
        let e = &engines[n % workers];
        // Outages of 6-12 s: with a failed attempt worth 5 s, waiting ~10 s beats backing off.
        outage(e, &clock, "pay", 6.0 + 6.0 * rng.next());
        clock.advance(Duration::from_secs(100));
        if pool {
            for s in &stores {
                s.sync_now().unwrap();
            }
        }
        if engines.iter().all(learned) {
            return n + 1;
        }
    }
    MAX_EPISODES
}

#[test]
fn four_workers_learn_in_about_the_episodes_of_one() {
    let server = RedisServer::start();
    let (mut lone, mut fleet, mut alone_each) = (Vec::new(), Vec::new(), Vec::new());
    for seed in 1..=SEEDS {
        lone.push(episodes_to_learn(1, false, &server, seed));
        fleet.push(episodes_to_learn(4, true, &server, seed));
        alone_each.push(episodes_to_learn(4, false, &server, seed));
    }
    let mean = |v: &[usize]| v.iter().sum::<usize>() as f64 / v.len() as f64;
    let (l, f) = (mean(&lone), mean(&fleet));
    println!("episodes to the learned plan, {SEEDS} seeds:");
    println!("  lone worker:               {lone:?} mean {l:.1}");
    println!(
        "  4 workers on Redis, total: {fleet:?} mean {f:.1} ({:.2}x the lone worker)",
        f / l
    );
    let a = mean(&alone_each);
    println!(
        "  4 workers alone, total:    {alone_each:?} mean {a:.1} ({:.2}x)",
        a / l
    );
    assert!(lone.iter().all(|n| *n < MAX_EPISODES), "{lone:?}");
    assert!(f <= 1.5 * l, "fleet {f} vs lone {l}");
}
