//! Engines pooling evidence through a real redis-server: nothing counted twice, nothing lost
//! when Redis is killed, restarted, flushed or paused while the engines keep deciding.

mod common;

use common::{outage, Lcg, RedisServer};
use smartretry::{Engine, ErrorClass, ManualClock, Policy};
use smartretry_redis::{FleetConfig, FleetStore};
use std::sync::Arc;
use std::time::Duration;

fn engine(clock: &Arc<ManualClock>) -> Engine {
    // A half-life far beyond the test's episodes: counts add up exactly enough to compare.
    let policy = Policy::from_json(r#"{"learning":{"half_life_episodes":1e9}}"#).unwrap();
    Engine::with_clock(policy, clock.clone()).unwrap()
}

fn config(server: &RedisServer, ns: &str) -> FleetConfig {
    let mut c = FleetConfig::new(&server.url()).namespace(ns);
    c.io_timeout = Duration::from_millis(200);
    c
}

fn episodes(e: &Engine) -> f64 {
    e.model_snapshot("q", None, ErrorClass::Unavailable)
        .map(|m| m.episodes)
        .unwrap_or(0.0)
}

fn run(e: &Engine, clock: &ManualClock, rng: &mut Lcg, n: usize) {
    for _ in 0..n {
        outage(e, clock, "q", 2.0 + 4.0 * rng.next());
        clock.advance(Duration::from_secs(60));
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * b.max(1.0)
}

#[test]
fn engines_pool_evidence_and_repeated_syncs_count_nothing_twice() {
    let server = RedisServer::start();
    let clock = ManualClock::shared(Duration::from_secs(1_700_000_000));
    let engines: Vec<Engine> = (0..3).map(|_| engine(&clock)).collect();
    let stores: Vec<FleetStore> = engines
        .iter()
        .map(|e| FleetStore::attach_manual(e, config(&server, "pool")).unwrap())
        .collect();
    let mut rng = Lcg(1);
    for (k, e) in engines.iter().enumerate() {
        run(e, &clock, &mut rng, 10 * (k + 1));
    }
    // Two rounds: the first publishes, the second brings everyone everything.
    for _ in 0..2 {
        stores.iter().for_each(|s| s.sync_now().unwrap());
    }
    for e in &engines {
        assert!(close(episodes(e), 60.0), "{}", episodes(e));
    }
    // Syncing again and again (retried pushes, repeated pulls) changes nothing.
    for _ in 0..5 {
        stores.iter().for_each(|s| s.sync_now().unwrap());
    }
    for e in &engines {
        assert!(close(episodes(e), 60.0), "{}", episodes(e));
    }
    // Learning goes on after pooling: new own episodes reach the others exactly once.
    run(&engines[0], &clock, &mut rng, 7);
    for _ in 0..3 {
        stores.iter().for_each(|s| s.sync_now().unwrap());
    }
    for e in &engines {
        assert!(close(episodes(e), 67.0), "{}", episodes(e));
    }
    // A newcomer gets the fleet's evidence at its first sync.
    let late = engine(&clock);
    let store = FleetStore::attach_manual(&late, config(&server, "pool")).unwrap();
    store.sync_now().unwrap();
    assert!(close(episodes(&late), 67.0), "{}", episodes(&late));
    assert_eq!(store.stats().peers, 3);
}

fn sync_all(stores: &[FleetStore]) -> usize {
    stores.iter().filter(|s| s.sync_now().is_ok()).count()
}

/// Two rounds of syncs succeed and every engine then holds all `expected` episodes.
fn pooled_after_two_rounds(engines: &[Engine], stores: &[FleetStore], expected: f64) {
    for _ in 0..2 {
        assert_eq!(sync_all(stores), stores.len());
    }
    for (e, s) in engines.iter().zip(stores) {
        assert!(
            close(episodes(e), expected),
            "{} vs {expected}",
            episodes(e)
        );
        assert_eq!(s.stats().last_error, None);
    }
}

#[test]
fn decisions_go_on_and_nothing_is_lost_through_kill_restart_flush_and_pause() {
    let mut server = RedisServer::start();
    let clock = ManualClock::shared(Duration::from_secs(1_700_000_000));
    let engines: Vec<Engine> = (0..3).map(|_| engine(&clock)).collect();
    let stores: Vec<FleetStore> = engines
        .iter()
        .map(|e| FleetStore::attach_manual(e, config(&server, "faults")).unwrap())
        .collect();
    let mut rng = Lcg(2);
    let mut total = 0;
    let mut round = |engines: &[Engine], n: usize| {
        for e in engines {
            run(e, &clock, &mut rng, n);
        }
        total += n * engines.len();
        total as f64
    };

    round(&engines, 5);
    assert_eq!(sync_all(&stores), 3);

    // Killed: every sync fails, the engines keep deciding and learning locally.
    server.kill();
    let expected = round(&engines, 8);
    assert_eq!(sync_all(&stores), 0);
    // Restarted empty: the next rounds put every engine's whole evidence back.
    server.restart();
    pooled_after_two_rounds(&engines, &stores, expected);

    // Flushed: same.
    let expected = round(&engines, 4);
    server.flush();
    pooled_after_two_rounds(&engines, &stores, expected);

    // Paused (a slow server): syncs time out, decisions go on; after it serves again, all is
    // pooled.
    let expected = round(&engines, 3);
    server.pause(60_000);
    assert_eq!(sync_all(&stores), 0);
    let expected_after = round(&engines, 2);
    assert!(expected_after > expected);
    server.unpause();
    pooled_after_two_rounds(&engines, &stores, expected_after);
    for s in &stores {
        let stats = s.stats();
        assert!(stats.failures >= 2, "{stats:?}");
    }
}

#[test]
fn the_background_thread_syncs_and_stops_when_the_store_is_dropped() {
    let server = RedisServer::start();
    let clock = ManualClock::shared(Duration::from_secs(1_700_000_000));
    let (a, b) = (engine(&clock), engine(&clock));
    let mut config_a = config(&server, "thread");
    config_a.sync_after_episodes = 1;
    let store_a = FleetStore::attach(&a, config_a).unwrap();
    let store_b = FleetStore::attach_manual(&b, config(&server, "thread")).unwrap();
    run(&a, &clock, &mut Lcg(3), 5);
    // Wait for the thread's push (woken by the episodes), observed through the server itself.
    let key = "smartretry:{thread}:evidence";
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        store_b.sync_now().unwrap();
        if close(episodes(&b), 5.0) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{:?}",
            store_a.stats()
        );
        let _: i64 = server.query(redis::cmd("HLEN").arg(key));
        std::thread::yield_now();
    }
    drop(store_a);
    assert!(close(episodes(&a), 5.0));
}
