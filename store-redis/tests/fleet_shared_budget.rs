//! The engines' own retry budgets shared by a fleet (`FleetConfig::share_budgets`) on a real
//! redis-server: eight engines on one manual clock, each failing far more often than the budget
//! allows, never retry more than the one budget allows the whole fleet (plus one refill
//! interval's worth), with Redis up, killed, restarted empty or paused.

mod common;

use common::RedisServer;
use smartretry::{BudgetConfig, Engine, Failure, ManualClock, Policy};
use smartretry_redis::{FleetConfig, FleetStore};
use std::sync::Arc;
use std::time::Duration;

const ENGINES: u32 = 8;
/// Retries per second the budget refills (the fleet's), and what it banks.
const PER_SEC: f64 = 20.0;
const CAPACITY: f64 = 40.0;
/// Each engine begins a request every TICK; each fails once and asks to retry.
const TICK: Duration = Duration::from_millis(50);
/// The stores sync every SYNC (their `sync_interval`; here driven by the test on the clock).
const SYNC: Duration = Duration::from_millis(500);

fn engine(clock: &Arc<ManualClock>) -> Engine {
    let policy = Policy {
        budget: Some(BudgetConfig::Ratio {
            ratio: 0.0,
            min_per_sec: PER_SEC,
            capacity: CAPACITY,
        }),
        ..Policy::default()
    };
    Engine::with_clock(policy, clock.clone()).unwrap()
}

fn config(server: &RedisServer, ns: &str) -> FleetConfig {
    let mut c = FleetConfig::new(&server.url())
        .namespace(ns)
        .share_budgets(ENGINES);
    c.io_timeout = Duration::from_millis(200);
    c
}

/// One request on each engine that fails once: how many of the failures the budget let retry.
fn tick(engines: &[Engine]) -> u64 {
    let mut retries = 0;
    for e in engines {
        let mut ep = e.begin("payments", None).unwrap();
        let rec = e.on_failure(&mut ep, &Failure::http(503)).unwrap();
        retries += u64::from(rec.should_retry());
        e.abandon(&mut ep);
    }
    retries
}

/// Run for `secs` of manual time, syncing every SYNC (failures tolerated: Redis may be down).
fn run(engines: &[Engine], stores: &[FleetStore], clock: &ManualClock, secs: u32) -> u64 {
    let ticks_per_sync = (SYNC.as_millis() / TICK.as_millis()) as u32;
    let mut retries = 0;
    for t in 0..secs * 1000 / TICK.as_millis() as u32 {
        if t % ticks_per_sync == 0 {
            for s in stores {
                let _ = s.sync_now();
            }
        }
        retries += tick(engines);
        clock.advance(TICK);
    }
    retries
}

fn allowed(secs: u32) -> f64 {
    CAPACITY + PER_SEC * f64::from(secs)
}

#[test]
fn eight_engines_never_exceed_the_fleet_budget() {
    let server = RedisServer::start();
    let clock = ManualClock::shared(Duration::from_secs(1_700_000_000));
    let engines: Vec<Engine> = (0..ENGINES).map(|_| engine(&clock)).collect();
    let stores: Vec<FleetStore> = engines
        .iter()
        .map(|e| FleetStore::attach_manual(e, config(&server, "shared")).unwrap())
        .collect();
    let secs = 60;
    let retries = run(&engines, &stores, &clock, secs) as f64;
    let slack = PER_SEC * SYNC.as_secs_f64();
    println!(
        "fleet budget: {ENGINES} engines, {secs} s, {} requests: {retries} retries, budget {}",
        u64::from(ENGINES) * u64::from(secs) * 20,
        allowed(secs)
    );
    assert!(
        retries <= allowed(secs) + slack,
        "{retries} > {}",
        allowed(secs)
    );
    // Not starved either: leases follow the refill.
    assert!(retries >= 0.9 * allowed(secs), "{retries}");
    for s in &stores {
        let stats = s.stats();
        assert_eq!(stats.failures, 0, "{stats:?}");
        assert!(stats.budget_rounds > 0);
    }

    // The control: the same engines with budgets of their own retry eight times as much.
    let alone: Vec<Engine> = (0..ENGINES).map(|_| engine(&clock)).collect();
    let retries = run(&alone, &[], &clock, secs) as f64;
    assert!(retries > 6.0 * allowed(secs), "{retries}");
}

#[test]
fn without_redis_each_engine_keeps_to_its_share_and_leases_again_after() {
    let mut server = RedisServer::start();
    let clock = ManualClock::shared(Duration::from_secs(1_700_000_000));
    let engines: Vec<Engine> = (0..ENGINES).map(|_| engine(&clock)).collect();
    let stores: Vec<FleetStore> = engines
        .iter()
        .map(|e| FleetStore::attach_manual(e, config(&server, "faults")).unwrap())
        .collect();
    let mut retries = run(&engines, &stores, &clock, 10);

    server.kill();
    let down = run(&engines, &stores, &clock, 20);
    println!("Redis down 20 s: {down} retries (budget {})", allowed(20));
    // Alone, each engine has 1/8 of the budget: the fleet together stays within it.
    assert!(down as f64 <= allowed(20), "{down}");
    assert!(down as f64 >= 0.9 * PER_SEC * 20.0, "{down}");
    for s in &stores {
        assert!(s.stats().failures > 0);
    }
    retries += down;

    // Back, empty: a new full bucket, from which the engines' debts are taken first.
    server.restart();
    retries += run(&engines, &stores, &clock, 10);
    // Slow: writes held past the I/O timeout, rounds lost and resent.
    server.pause(1500);
    retries += run(&engines, &stores, &clock, 2);
    server.unpause();
    retries += run(&engines, &stores, &clock, 10);
    let secs = 52;
    // Restarting Redis empty hands out one new bucket (CAPACITY); nothing else is extra.
    let bound = allowed(secs) + CAPACITY + PER_SEC * SYNC.as_secs_f64();
    println!("fleet budget with faults: {retries} retries in {secs} s, bound {bound}");
    assert!(retries as f64 <= bound, "{retries} > {bound}");
    for e in &engines {
        let mut leasing = true;
        e.for_each_budget(|_, _, b| leasing &= b.is_leasing());
        assert!(leasing);
    }
}

/// Poll (a readiness check on the store's own thread, not a timer) until `done`.
fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn the_background_thread_leases_early_when_a_bucket_is_new_or_runs_low() {
    let server = RedisServer::start();
    let clock = ManualClock::shared(Duration::from_secs(1_700_000_000));
    let e = engine(&clock);
    // Regular syncs an hour apart: every round below is an early one.
    let store = FleetStore::attach(
        &e,
        config(&server, "early").sync_interval(Duration::from_secs(3600)),
    )
    .unwrap();
    eventually("the first sync", || store.stats().syncs == 1);
    // A new bucket asks for its first round.
    assert_eq!(tick(std::slice::from_ref(&e)), 1);
    let leasing = |e: &Engine| {
        let mut on = false;
        e.for_each_budget(|_, _, b| on = b.is_leasing());
        on
    };
    eventually("the first lease", || leasing(&e));
    let rounds = store.stats().budget_rounds;
    // Spending the lease down asks for another.
    for _ in 0..5 {
        tick(std::slice::from_ref(&e));
    }
    eventually("an early round", || store.stats().budget_rounds > rounds);
    assert_eq!(store.stats().syncs, 1, "no whole sync for a lease");
}

#[test]
fn aws_refunds_reach_the_fleet_bucket() {
    let server = RedisServer::start();
    let clock = ManualClock::shared(Duration::from_secs(1_700_000_000));
    let aws = Policy {
        budget: Some(BudgetConfig::AwsStandard {
            capacity: 40.0,
            retry_cost: 5.0,
            timeout_cost: 10.0,
            throttling_cost: None,
            no_retry_increment: 0.0,
        }),
        ..Policy::default()
    };
    let engines: Vec<Engine> = (0..4)
        .map(|_| Engine::with_clock(aws.clone(), clock.clone()).unwrap())
        .collect();
    let stores: Vec<FleetStore> = engines
        .iter()
        .map(|e| {
            let c = config(&server, "aws").share_budgets(4);
            FleetStore::attach_manual(e, c).unwrap()
        })
        .collect();
    // Every retry succeeds and is refunded its cost: the budget never runs dry, provided the
    // refunds, earned on each engine, reach the fleet's bucket (the engines' leases alone hold
    // 40 tokens: eight retries).
    let (mut asked, mut allowed) = (0, 0);
    for round in 0..50 {
        for s in &stores {
            s.sync_now().unwrap();
        }
        for e in &engines {
            let mut ep = e.begin("payments", None).unwrap();
            let rec = e.on_failure(&mut ep, &Failure::http(503)).unwrap();
            if round > 0 {
                asked += 1;
                allowed += usize::from(rec.should_retry());
            }
            if rec.should_retry() {
                clock.advance(rec.delay);
                e.on_success(&mut ep).unwrap();
            } else {
                e.abandon(&mut ep);
            }
        }
    }
    assert_eq!(allowed, asked, "refunds did not come back");
    let held: Option<i64> = server.query(
        redis::cmd("HGET")
            .arg("smartretry:{aws}:budget:queue:payments")
            .arg("milli"),
    );
    assert!(held.is_some_and(|m| (0..=40_000).contains(&m)), "{held:?}");
}

#[test]
fn grpc_throttling_follows_the_fleets_failures() {
    let server = RedisServer::start();
    let clock = ManualClock::shared(Duration::from_secs(1_700_000_000));
    let grpc = Policy {
        budget: Some(BudgetConfig::grpc(10.0, 0.1)),
        ..Policy::default()
    };
    let (a, b) = (
        Engine::with_clock(grpc.clone(), clock.clone()).unwrap(),
        Engine::with_clock(grpc, clock.clone()).unwrap(),
    );
    let sa = FleetStore::attach_manual(&a, config(&server, "grpc").share_budgets(2)).unwrap();
    let sb = FleetStore::attach_manual(&b, config(&server, "grpc").share_budgets(2)).unwrap();
    // Open the buckets, then one round each: both mirror the fleet's full level (10).
    tick(&[a.clone(), b.clone()]);
    for s in [&sa, &sb] {
        s.sync_now().unwrap();
    }
    let level = |e: &Engine| {
        let mut t = 0.0;
        e.for_each_budget(|_, _, bucket| t = bucket.tokens());
        t
    };
    assert_eq!((level(&a), level(&b)), (10.0, 10.0));
    // Engine a sees five failures (a retry is throttled at or below 5 tokens).
    let retried = (0..5)
        .filter(|_| tick(std::slice::from_ref(&a)) == 1)
        .count();
    assert_eq!(retried, 4);
    assert_eq!(tick(std::slice::from_ref(&b)), 1, "b has not heard yet");
    sa.sync_now().unwrap();
    sb.sync_now().unwrap();
    // The fleet's level counts both: 10 - 5 (a) - 1 (b) = 4, below the threshold.
    assert_eq!(level(&b), 4.0);
    assert_eq!(
        tick(std::slice::from_ref(&b)),
        0,
        "b is throttled by a's failures"
    );
}
