//! The fleet budget against a real redis-server: the same arithmetic as the engine's local
//! bucket, atomic under eight concurrent processes, and a local share while Redis is down.

mod common;

use common::{Lcg, RedisServer};
use smartretry::budget::RetryBudget;
use smartretry::{BudgetConfig, Clock, ErrorClass, ManualClock};
use smartretry_redis::{BudgetMode, FleetBudget, FleetConfig};
use std::sync::Arc;
use std::time::Duration;

const START: Duration = Duration::from_secs(1_700_000_000);

fn budget(
    server: &RedisServer,
    ns: &str,
    config: &BudgetConfig,
    clock: &Arc<ManualClock>,
) -> FleetBudget {
    let fleet = FleetConfig::new(&server.url()).namespace(ns);
    FleetBudget::new(&fleet, "payments", config.clone(), 0.125, clock.clone()).unwrap()
}

#[test]
fn every_preset_spends_exactly_like_the_local_bucket() {
    let server = RedisServer::start();
    let presets = [
        ("ratio", BudgetConfig::ratio(0.1, 10.0)),
        ("grpc", BudgetConfig::grpc(10.0, 0.1)),
        ("aws", BudgetConfig::aws_standard()),
    ];
    for (ns, config) in presets {
        let clock = ManualClock::shared(START);
        let fleet = budget(&server, ns, &config, &clock);
        let mut local = RetryBudget::new(config.clone(), START);
        let mut rng = Lcg(9);
        let classes = [
            ErrorClass::Unavailable,
            ErrorClass::Timeout,
            ErrorClass::RateLimited,
        ];
        for step in 0..2000 {
            let now = clock.now();
            let r = rng.next();
            if r < 0.3 {
                assert_eq!(fleet.on_request(), BudgetMode::Fleet);
                local.on_request(now);
            } else if r < 0.45 {
                fleet.on_failure(true);
                local.on_failure(true);
            } else if r < 0.6 {
                let cost = (rng.next() < 0.5).then_some(5.0);
                fleet.on_success(cost);
                local.on_success(cost);
            } else {
                let class = classes[(rng.next() * 3.0) as usize % 3];
                let (spent, mode) = fleet.try_spend(class);
                assert_eq!(mode, BudgetMode::Fleet);
                assert_eq!(spent, local.try_spend(class, now), "{ns} step {step}");
            }
            clock.advance(Duration::from_millis((rng.next() * 50.0) as u64));
        }
        let tokens = fleet.tokens().unwrap();
        local.on_request(clock.now());
        assert_eq!(
            tokens,
            local.tokens() - local_request_credit(&config),
            "{ns}"
        );
    }
}

/// A ratio budget that earns nothing per request: `capacity` tokens refilled at `per_sec`.
fn flat(per_sec: f64, capacity: f64) -> BudgetConfig {
    BudgetConfig::Ratio {
        ratio: 0.0,
        min_per_sec: per_sec,
        capacity,
    }
}

/// `tokens()` refills without a request's credit; the local bucket's request adds it.
fn local_request_credit(config: &BudgetConfig) -> f64 {
    match config {
        BudgetConfig::Ratio { ratio, .. } => *ratio,
        _ => 0.0,
    }
}

#[test]
fn eight_processes_spend_one_budget_atomically() {
    let server = RedisServer::start();
    let clock = ManualClock::shared(START);
    // 50 tokens, no refill while the clock stands still: exactly 50 retries for the fleet.
    let config = flat(1.0, 50.0);
    let spent: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let b = budget(&server, "atomic", &config, &clock);
                s.spawn(move || {
                    (0..40)
                        .filter(|_| b.try_spend(ErrorClass::Unavailable).0.is_some())
                        .count()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(spent, 50);
}

#[test]
fn a_fleet_of_eight_never_overspends_the_budget() {
    // 20 tokens and 10 per second, 60 s of a retry storm from eight processes (threads, one
    // fleet budget each), every process asking for 4 retries every 10 ms. The budget allows
    // 20 + 10 t retries by time t; the fleet may not exceed it at any step by more than one
    // refill step's worth (0.1 token, so not at all in whole retries).
    let server = RedisServer::start();
    let clock = ManualClock::shared(START);
    let config = flat(10.0, 20.0);
    let (steps, step) = (6000u32, Duration::from_millis(10));
    let barrier = std::sync::Barrier::new(8);
    let per_step: Vec<Vec<usize>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|p| {
                let b = budget(&server, "storm", &config, &clock);
                let (barrier, clock) = (&barrier, &clock);
                s.spawn(move || {
                    let mut allowed = Vec::with_capacity(steps as usize);
                    for _ in 0..steps {
                        barrier.wait();
                        if p == 0 {
                            clock.advance(step);
                        }
                        barrier.wait();
                        let got = (0..4)
                            .filter(|_| b.try_spend(ErrorClass::Unavailable).0.is_some())
                            .count();
                        allowed.push(got);
                    }
                    allowed
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut spent = 0usize;
    let mut worst_excess = f64::MIN;
    for i in 0..steps as usize {
        spent += per_step.iter().map(|p| p[i]).sum::<usize>();
        let t = step.as_secs_f64() * (i + 1) as f64;
        let allowance = 20.0 + 10.0 * t;
        worst_excess = worst_excess.max(spent as f64 - allowance);
    }
    let asked = 8 * 4 * steps as usize;
    println!(
        "fleet budget, 8 processes, 60 s storm: asked {asked}, allowed {spent} (budget {}), worst excess over the budget at any step {worst_excess:.2} tokens; 8 local buckets would allow {}",
        20 + 600,
        8 * (20 + 600)
    );
    assert!(worst_excess <= 0.1 + 1e-9, "{worst_excess}");
    assert!(spent >= 620 - 1, "the budget is used, not starved: {spent}");
}

#[test]
fn an_unreachable_redis_leaves_each_process_its_local_share() {
    let mut server = RedisServer::start();
    let clock = ManualClock::shared(START);
    let config = flat(0.0, 80.0);
    let b = budget(&server, "down", &config, &clock).retry_after(Duration::from_secs(5));
    assert_eq!(b.try_spend(ErrorClass::Unavailable).1, BudgetMode::Fleet);
    server.kill();
    // The local share is an eighth of 80 tokens: 10 local retries, then no.
    let local: Vec<_> = (0..20)
        .map(|_| b.try_spend(ErrorClass::Unavailable))
        .collect();
    assert!(local.iter().all(|(_, mode)| *mode == BudgetMode::Local));
    assert_eq!(local.iter().filter(|(s, _)| s.is_some()).count(), 10);
    // Redis back: after `retry_after` the fleet bucket decides again (fresh, the server was
    // restarted empty).
    server.restart();
    assert_eq!(b.try_spend(ErrorClass::Unavailable).1, BudgetMode::Local);
    clock.advance(Duration::from_secs(5));
    assert_eq!(
        b.try_spend(ErrorClass::Unavailable),
        (Some(1.0), BudgetMode::Fleet)
    );
    assert_eq!(b.tokens(), Some(79.0));
}
