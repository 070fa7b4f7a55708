//! A worker's side of a SQLite retry schedule, from the shell:
//! `smartretry-schedule claim DB NOW_US LEASE_US LIMIT [--hold]` claims the due retries, prints
//! their ids (one a line), and acks them; with `--hold` it first waits for standard input to
//! close (a worker busy with its claims: the kill -9 tests kill it there).

use smartretry_schedule::{RetrySchedule, SqliteSchedule};
use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

fn run(args: &[String]) -> Result<(), String> {
    let [cmd, db, now, lease, limit, rest @ ..] = args else {
        return Err("usage: smartretry-schedule claim DB NOW_US LEASE_US LIMIT [--hold]".into());
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
    let limit = number("LIMIT", limit)? as usize;
    let hold = rest.iter().any(|a| a == "--hold");
    let schedule = SqliteSchedule::open(Path::new(db)).map_err(|e| e.to_string())?;
    let claims = schedule
        .claim_due(now, limit, lease)
        .map_err(|e| e.to_string())?;
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
        schedule.ack(&c.job_id).map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("smartretry-schedule: {e}");
            ExitCode::FAILURE
        }
    }
}
