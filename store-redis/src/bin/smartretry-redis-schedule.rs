//! A worker's side of a retry schedule on Redis (or a SQLite file), from the shell:
//! `smartretry-redis-schedule claim LOCATION NOW_US LEASE_US LIMIT [--hold]` claims the due
//! retries of the namespace "default" at LOCATION (`redis://...` or a SQLite path), prints their
//! ids and acks them; with `--hold` it first waits for standard input to close (the kill -9
//! tests kill it there).

use smartretry_schedule::kill_trial;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let open = |location: &str| {
        smartretry_redis::open_schedule(location, "default").map_err(|e| e.to_string())
    };
    match kill_trial::claim_command(&args, open) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("smartretry-redis-schedule: {e}");
            ExitCode::FAILURE
        }
    }
}
