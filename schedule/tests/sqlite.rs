//! The SQLite backend: the conformance rules, and 100 kill -9 trials of a worker process that
//! dies holding its claim.

use smartretry_schedule::{conformance, kill_trial, SqliteSchedule};
use std::path::Path;

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
    let bin = Path::new(env!("CARGO_BIN_EXE_smartretry-schedule"));
    let report = kill_trial::run(&schedule, 100, bin, db.as_os_str());
    assert_eq!((report.redelivered, report.lost), (100, 0));
}
