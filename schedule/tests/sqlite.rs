//! The SQLite backend: the conformance rules, and 100 kill -9 trials of a worker process that
//! dies holding its claim.

use smartretry_schedule::{conformance, RetrySchedule, SqliteSchedule};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

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
    let (trials, lease) = (100u64, Duration::from_secs(30));
    let mut now = Duration::from_secs(1_700_000_000);
    let (mut redelivered, mut duplicates) = (0, 0);
    for i in 0..trials {
        let job = format!("job-{i}");
        schedule.schedule(&job, job.as_bytes(), now).unwrap();
        // A worker claims the due retry, then is killed -9 while working on it.
        let mut worker = Command::new(env!("CARGO_BIN_EXE_smartretry-schedule"))
            .arg("claim")
            .arg(&db)
            .arg(now.as_micros().to_string())
            .arg(lease.as_micros().to_string())
            .arg("10")
            .arg("--hold")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(worker.stdout.take().unwrap()).lines();
        let claimed = lines.next().unwrap().unwrap();
        // (Checked before reading on: a worker that claimed nothing prints no second line.)
        assert_eq!(claimed, format!("{job} 1"));
        let count = lines.next().unwrap().unwrap();
        worker.kill().unwrap(); // SIGKILL
        worker.wait().unwrap();
        assert_eq!(
            (claimed.as_str(), count.as_str()),
            (format!("{job} 1").as_str(), "claimed 1")
        );
        // Nobody else gets it while the dead worker's lease runs...
        let during = schedule
            .claim_due(now + lease - Duration::from_micros(1), 10, lease)
            .unwrap();
        assert!(during.is_empty(), "{during:?}");
        // ... and it is handed out again when the lease ends.
        now += lease;
        let back = schedule.claim_due(now, 10, lease).unwrap();
        assert_eq!(back.len(), 1, "{back:?}");
        assert_eq!(
            (back[0].job_id.as_str(), back[0].payload.as_slice()),
            (job.as_str(), job.as_bytes())
        );
        redelivered += 1;
        duplicates += back[0].deliveries - 1;
        assert!(schedule.ack(&job).unwrap());
        assert!(!schedule.ack(&job).unwrap(), "acks are idempotent");
        now += Duration::from_secs(1);
    }
    println!("kill -9 trials: {trials}, redelivered {redelivered}, lost {}, deliveries beyond the first {duplicates}", trials - redelivered);
    assert_eq!(redelivered, trials);
    assert!(
        schedule.is_empty().unwrap(),
        "{} left",
        schedule.len().unwrap()
    );
}
