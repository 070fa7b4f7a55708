//! The SQLite backend: the conformance rules, and 100 kill -9 trials of a worker process that
//! dies holding its claim.

use smartretry_schedule::{conformance, kill_trial, SqliteSchedule};
use std::process::Command;

#[test]
fn follows_the_rules() {
    let dir = tempfile::tempdir().unwrap();
    conformance::check(&SqliteSchedule::open(&dir.path().join("retries.db")).unwrap());
}

#[test]
fn a_worker_killed_mid_claim_has_its_retries_redelivered_100_of_100() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("retries.db");
    let schedule = SqliteSchedule::open(&db).unwrap();
    let report = kill_trial::run(&schedule, 100, |now, lease| {
        let mut worker = Command::new(env!("CARGO_BIN_EXE_smartretry-schedule"));
        worker
            .arg("claim")
            .arg(&db)
            .arg(now.as_micros().to_string())
            .arg(lease.as_micros().to_string())
            .arg("10")
            .arg("--hold");
        worker
    });
    assert_eq!((report.redelivered, report.lost), (100, 0));
}
