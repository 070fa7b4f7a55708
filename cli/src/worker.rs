//! `smartretry worker`: the worker loop of a durable retry schedule (SQLite file or Redis), for
//! jobs that are shell commands or for a consumer reading JSON lines. Each due retry is claimed
//! with a lease, handed over, then acked (done) or nacked (run again later); a worker killed
//! mid-job loses nothing, the retry comes back when its lease ends.

use serde_json::json;
use smartretry::{Clock, SystemClock};
use smartretry_schedule::Claim;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct WorkerArgs {
    /// The schedule: the path of a SQLite file, or a redis:// (rediss://) URL.
    #[arg(long)]
    schedule: String,
    /// The fleet namespace of a Redis schedule (`smartretry:{NS}:schedule:*`).
    #[arg(long, default_value = "default")]
    namespace: String,
    /// Seconds a claimed retry is held before another worker may get it.
    #[arg(long, default_value_t = 60.0)]
    lease: f64,
    /// Retries claimed per poll.
    #[arg(long, default_value_t = 16)]
    batch: usize,
    /// Run each retry as `sh -c COMMAND`, its payload on stdin and `SMARTRETRY_JOB_ID`,
    /// `SMARTRETRY_DELIVERIES` in its environment: exit 0 acks it, anything else nacks it.
    /// Without it each retry is printed as a JSON line and acked.
    #[arg(long)]
    exec: Option<String>,
    /// Seconds after a failed command before the retry is due again.
    #[arg(long, default_value_t = 60.0)]
    retry_after: f64,
    /// Seconds between polls when nothing is due.
    #[arg(long, default_value_t = 1.0)]
    poll: f64,
    /// Stop as soon as a poll finds nothing due, instead of polling forever.
    #[arg(long)]
    drain: bool,
}

/// What a worker did, printed on stderr when it stops.
#[derive(Debug, Default)]
struct Tally {
    acked: u64,
    nacked: u64,
}

fn seconds(what: &str, v: f64, zero_ok: bool) -> Result<Duration, String> {
    let ok = v.is_finite() && (v > 0.0 || (zero_ok && v == 0.0)) && v < 1e12;
    if !ok {
        let range = if zero_ok { "0 or more" } else { "above 0" };
        return Err(format!("--{what} must be {range} seconds, got {v}"));
    }
    Ok(Duration::from_secs_f64(v))
}

pub fn run(args: &WorkerArgs) -> Result<(), String> {
    let lease = seconds("lease", args.lease, false)?;
    let retry_after = seconds("retry-after", args.retry_after, true)?;
    let poll = seconds("poll", args.poll, false)?;
    if args.batch == 0 {
        return Err("--batch must be at least 1".into());
    }
    let schedule = smartretry_redis::open_schedule(&args.schedule, &args.namespace)
        .map_err(|e| format!("{}: {e}", args.schedule))?;
    let clock = SystemClock::new();
    let mut tally = Tally::default();
    loop {
        let claims = schedule
            .claim_due(clock.now(), args.batch, lease)
            .map_err(|e| e.to_string())?;
        if claims.is_empty() {
            if args.drain {
                break;
            }
            clock.sleep(poll);
            continue;
        }
        for claim in &claims {
            let done = match &args.exec {
                Some(command) => run_command(command, claim)?,
                None => print_line(claim)?,
            };
            if done {
                schedule.ack(&claim.job_id).map_err(|e| e.to_string())?;
                tally.acked += 1;
            } else {
                let due = clock.now().saturating_add(retry_after);
                schedule
                    .nack(&claim.job_id, due)
                    .map_err(|e| e.to_string())?;
                tally.nacked += 1;
            }
        }
    }
    eprintln!(
        "smartretry worker: {} acked, {} nacked",
        tally.acked, tally.nacked
    );
    Ok(())
}

/// One JSON line on stdout: `job_id`, `deliveries`, `lease_until` (seconds since the epoch) and
/// the payload (`payload` if it is UTF-8, else `payload_hex`).
fn print_line(claim: &Claim) -> Result<bool, String> {
    let mut line = json!({
        "job_id": claim.job_id,
        "deliveries": claim.deliveries,
        "lease_until": claim.lease_until.as_secs_f64(),
    });
    match std::str::from_utf8(&claim.payload) {
        Ok(text) => line["payload"] = json!(text),
        Err(_) => {
            let hex: String = claim.payload.iter().map(|b| format!("{b:02x}")).collect();
            line["payload_hex"] = json!(hex);
        }
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")
        .and_then(|()| out.flush())
        .map_err(|e| format!("stdout: {e}"))?;
    Ok(true)
}

/// Run the command on one retry; whether it succeeded. A command that cannot be started is an
/// error of the worker (nothing is acked or nacked: the lease brings the retry back).
fn run_command(command: &str, claim: &Claim) -> Result<bool, String> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .env("SMARTRETRY_JOB_ID", &claim.job_id)
        .env("SMARTRETRY_DELIVERIES", claim.deliveries.to_string())
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run sh -c {command:?}: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A command that does not read its payload closes the pipe: not a failure of the job.
        let _ = stdin.write_all(&claim.payload);
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for sh -c {command:?}: {e}"))?;
    Ok(status.success())
}
