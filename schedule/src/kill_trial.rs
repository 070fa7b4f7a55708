//! Kill -9 trials, shared by the backends' tests: a worker process claims a due retry and is
//! killed with SIGKILL while holding it; the retry must come back once the lease ends, to
//! exactly one claimant, with its payload. Both halves live here: the worker's side (run by each
//! backend's small claim binary) and the trial loop (run by each backend's test).

use crate::RetrySchedule;
use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The worker's side: claim up to `limit` retries due at `now`, print `JOB_ID DELIVERIES` per
/// claim and `claimed N`, then (with `hold`) wait for standard input to close, a worker busy with
/// its claims, and ack them.
pub fn claim_and_hold(
    q: &dyn RetrySchedule,
    now: Duration,
    lease: Duration,
    limit: usize,
    hold: bool,
) -> Result<(), String> {
    let claims = q.claim_due(now, limit, lease).map_err(|e| e.to_string())?;
    let mut out = std::io::stdout().lock();
    for c in &claims {
        writeln!(out, "{} {}", c.job_id, c.deliveries).map_err(|e| e.to_string())?;
    }
    writeln!(out, "claimed {}", claims.len()).map_err(|e| e.to_string())?;
    out.flush().map_err(|e| e.to_string())?;
    if hold {
        let mut sink = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut sink);
    }
    for c in &claims {
        q.ack(&c.job_id).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The claim binaries' command line, `claim LOCATION NOW_US LEASE_US LIMIT [--hold]`: opens
/// the schedule at LOCATION with `open` and runs [`claim_and_hold`].
pub fn claim_command(
    args: &[String],
    open: impl FnOnce(&str) -> Result<Box<dyn RetrySchedule>, String>,
) -> Result<(), String> {
    let [cmd, location, now, lease, limit, rest @ ..] = args else {
        return Err("usage: claim LOCATION NOW_US LEASE_US LIMIT [--hold]".into());
    };
    if cmd != "claim" {
        return Err(format!("unknown command {cmd:?} (known: claim)"));
    }
    let number = |what: &str, v: &str| -> Result<u64, String> {
        v.parse()
            .map_err(|_| format!("{what} must be a whole number, got {v:?}"))
    };
    let now = Duration::from_micros(number("NOW_US", now)?);
    let lease = Duration::from_micros(number("LEASE_US", lease)?);
    let limit = usize::try_from(number("LIMIT", limit)?).map_err(|e| e.to_string())?;
    let hold = rest.iter().any(|a| a == "--hold");
    let schedule = open(location)?;
    claim_and_hold(schedule.as_ref(), now, lease, limit, hold)
}

/// What the trials saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrialReport {
    pub trials: u64,
    pub redelivered: u64,
    pub lost: u64,
    /// Deliveries beyond the first, counted over the redeliveries.
    pub duplicates: u64,
}

/// Run `trials` kill -9 trials on `q`, whose workers are `claim_binary` (a program running
/// [`claim_command`]) opening the same schedule at `location`. Panics with the broken rule.
pub fn run(
    q: &dyn RetrySchedule,
    trials: u64,
    claim_binary: &Path,
    location: &OsStr,
) -> TrialReport {
    let lease = Duration::from_secs(30);
    let mut now = Duration::from_secs(1_700_000_000);
    let (mut redelivered, mut duplicates) = (0, 0);
    for i in 0..trials {
        let job = format!("job-{i}");
        q.schedule(&job, job.as_bytes(), now).expect("schedule");
        // A worker claims the due retry, then is killed -9 while working on it.
        let mut child = Command::new(claim_binary)
            .arg("claim")
            .arg(location)
            .arg(now.as_micros().to_string())
            .arg(lease.as_micros().to_string())
            .arg("10")
            .arg("--hold")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn the worker");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let claimed = lines.next().expect("a line").expect("read");
        // (Checked before reading on: a worker that claimed nothing prints no second line.)
        assert_eq!(claimed, format!("{job} 1"));
        let count = lines.next().expect("a line").expect("read");
        child.kill().expect("SIGKILL");
        child.wait().expect("wait");
        assert_eq!(count, "claimed 1");
        // Nobody else gets it while the dead worker's lease runs...
        let during = q
            .claim_due(now + lease - Duration::from_micros(1), 10, lease)
            .expect("claim");
        assert!(during.is_empty(), "{during:?}");
        // ... and it is handed out again when the lease ends.
        now += lease;
        let back = q.claim_due(now, 10, lease).expect("claim");
        assert_eq!(back.len(), 1, "{back:?}");
        assert_eq!(
            (back[0].job_id.as_str(), back[0].payload.as_slice()),
            (job.as_str(), job.as_bytes())
        );
        redelivered += 1;
        duplicates += u64::from(back[0].deliveries - 1);
        assert!(q.ack(&job).expect("ack"));
        assert!(!q.ack(&job).expect("ack again"), "acks are idempotent");
        now += Duration::from_secs(1);
    }
    let report = TrialReport {
        trials,
        redelivered,
        lost: trials - redelivered,
        duplicates,
    };
    println!(
        "kill -9 trials: {trials}, redelivered {redelivered}, lost {}, deliveries beyond the first {duplicates}",
        report.lost
    );
    assert!(q.is_empty().expect("len"), "{} left", q.len().expect("len"));
    report
}
