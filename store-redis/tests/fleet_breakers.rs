//! Circuit breakers shared by a fleet (`FleetConfig::share_breakers`) on a real redis-server: a
//! breaker one engine opens is open on the others until its deadline, and no longer.

mod common;

use common::RedisServer;
use smartretry::{BreakerState, Engine, ManualClock, Policy};
use smartretry_redis::{FleetConfig, FleetStore};
use std::sync::Arc;
use std::time::Duration;

fn engine(clock: &Arc<ManualClock>) -> Engine {
    let policy =
        Policy::from_json(r#"{"breaker":{"consecutive_failures":2,"open_for":10}}"#).unwrap();
    Engine::with_clock(policy, clock.clone()).unwrap()
}

fn state(e: &Engine, dependency: &str) -> BreakerState {
    e.breaker_state(dependency).unwrap().unwrap()
}

#[test]
fn an_open_breaker_opens_the_fleets_until_its_deadline() {
    let mut server = RedisServer::start();
    let clock = ManualClock::shared(Duration::from_secs(1_700_000_000));
    let engines: Vec<Engine> = (0..3).map(|_| engine(&clock)).collect();
    let config = FleetConfig::new(&server.url())
        .namespace("breakers")
        .share_breakers();
    let stores: Vec<FleetStore> = engines
        .iter()
        .map(|e| FleetStore::attach_manual(e, config.clone()).unwrap())
        .collect();
    // An engine outside the sharing (its own namespace's store, breakers not shared).
    let loner = engine(&clock);
    let _loner_store = FleetStore::attach_manual(
        &loner,
        FleetConfig::new(&server.url()).namespace("breakers"),
    )
    .unwrap();

    engines[0].record_dependency("db", false).unwrap();
    engines[0].record_dependency("db", false).unwrap();
    assert_eq!(state(&engines[0], "db"), BreakerState::Open);
    assert_eq!(state(&engines[1], "db"), BreakerState::Closed);
    clock.advance(Duration::from_secs(3));
    for s in &stores {
        s.sync_now().unwrap();
    }
    _loner_store.sync_now().unwrap();
    for e in &engines {
        assert_eq!(state(e, "db"), BreakerState::Open);
        assert_eq!(state(e, "cache"), BreakerState::Closed);
    }
    assert_eq!(state(&loner, "db"), BreakerState::Closed);
    assert_eq!(stores[1].stats().breakers_opened, 1);
    assert_eq!(stores[0].stats().breakers_opened, 0);
    // Syncing again changes nothing.
    for s in &stores {
        s.sync_now().unwrap();
    }
    assert_eq!(stores[1].stats().breakers_opened, 1);

    // Until the opener's deadline (10 s after it opened), then half-open everywhere.
    clock.advance(Duration::from_secs(7));
    for (i, e) in engines.iter().enumerate() {
        assert_eq!(state(e, "db"), BreakerState::HalfOpen, "engine {i}");
    }
    for s in &stores {
        s.sync_now().unwrap();
    }
    for e in &engines {
        assert_eq!(state(e, "db"), BreakerState::HalfOpen);
    }
    let left: Vec<String> = server.query(redis::cmd("HKEYS").arg("smartretry:{breakers}:breakers"));
    assert!(left.is_empty(), "{left:?}");

    // Redis gone: breakers stay local, syncs fail, nothing panics; back, sharing resumes.
    server.kill();
    engines[2].record_dependency("cache", false).unwrap();
    engines[2].record_dependency("cache", false).unwrap();
    assert!(stores[2].sync_now().is_err());
    assert_eq!(state(&engines[0], "cache"), BreakerState::Closed);
    server.restart();
    // The first call on a connection the restart broke fails and reconnects.
    let _ = stores[0].sync_now();
    stores[2].sync_now().unwrap();
    stores[0].sync_now().unwrap();
    assert_eq!(state(&engines[0], "cache"), BreakerState::Open);
}
