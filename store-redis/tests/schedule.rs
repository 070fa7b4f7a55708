//! The Redis backend of the retry schedule against a real redis-server: the same rules as the
//! SQLite backend, claims that survive a worker vanishing mid-claim, and 100 kill -9 trials of a
//! worker process holding its claim.

mod common;

use common::RedisServer;
use smartretry_redis::{FleetConfig, RedisSchedule};
use smartretry_schedule::{conformance, RetrySchedule};
use std::time::Duration;

#[test]
fn follows_the_rules() {
    let server = RedisServer::start();
    let q = RedisSchedule::open(&FleetConfig::new(&server.url()).namespace("rules")).unwrap();
    conformance::check(&q);
}

#[test]
fn a_worker_that_vanishes_mid_claim_has_its_retries_redelivered_and_two_workers_never_share_one() {
    let server = RedisServer::start();
    let config = FleetConfig::new(&server.url()).namespace("vanish");
    let q = RedisSchedule::open(&config).unwrap();
    let (lease, now) = (Duration::from_secs(30), Duration::from_secs(1_700_000_000));
    for i in 0..100 {
        q.schedule(&format!("job-{i}"), b"x", now).unwrap();
    }
    // Eight workers claim concurrently: every job goes to exactly one of them.
    let claimed: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let w = RedisSchedule::open(&config).unwrap();
                s.spawn(move || {
                    let mut mine = Vec::new();
                    loop {
                        let got = w.claim_due(now, 3, lease).unwrap();
                        if got.is_empty() {
                            return mine;
                        }
                        mine.extend(got.into_iter().map(|c| c.job_id));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let mut unique = claimed.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((claimed.len(), unique.len()), (100, 100));
    // The workers vanish without acking: after the lease all 100 come back, once each.
    let back = q.claim_due(now + lease, 1000, lease).unwrap();
    assert_eq!(back.len(), 100);
    assert!(back.iter().all(|c| c.deliveries == 2));
    for c in &back {
        assert!(q.ack(&c.job_id).unwrap());
    }
    assert!(q.is_empty().unwrap());
}

#[test]
fn a_worker_killed_mid_claim_has_its_retries_redelivered_100_of_100() {
    let server = RedisServer::start();
    let url = server.url();
    let q = RedisSchedule::open(&FleetConfig::new(&url).namespace("default")).unwrap();
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_smartretry-redis-schedule"));
    let report = smartretry_schedule::kill_trial::run(&q, 100, bin, url.as_ref());
    assert_eq!((report.redelivered, report.lost), (100, 0));
}
