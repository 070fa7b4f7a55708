//! A worker's side of a SQLite retry schedule, from the shell:
//! `smartretry-schedule claim DB NOW_US LEASE_US LIMIT [--hold]` claims the due retries, prints
//! their ids (one a line), and acks them; with `--hold` it first waits for standard input to
//! close (a worker busy with its claims: the kill -9 tests kill it there).

use smartretry_schedule::{kill_trial, RetrySchedule, SqliteSchedule};
use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let open = |db: &str| -> Result<Box<dyn RetrySchedule>, String> {
        Ok(Box::new(
            SqliteSchedule::open(Path::new(db)).map_err(|e| e.to_string())?,
        ))
    };
    match kill_trial::claim_command(&args, open) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("smartretry-schedule: {e}");
            ExitCode::FAILURE
        }
    }
}
