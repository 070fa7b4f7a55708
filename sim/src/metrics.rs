//! Per-run metrics and their mean over seeds. The score of a job is
//! J = time to success (the deadline if it never succeeds) + c × failed attempts.

use crate::dist::percentile;
use crate::runner::JobRecord;
use serde::Serialize;

/// Metrics of a set of jobs (one run, or the mean over seeds). NaN where undefined (no job
/// succeeded, no job had a first retry, ...).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct Metrics {
    pub jobs: f64,
    /// Mean cost per job, in seconds.
    pub j: f64,
    pub success_rate: f64,
    /// Time to success over the jobs that succeeded.
    pub tts_mean: f64,
    pub tts_p50: f64,
    pub tts_p95: f64,
    pub tts_p99: f64,
    pub attempts: f64,
    pub failed: f64,
    /// Share of first retries that succeeded.
    pub first_retry_success: f64,
    /// Total retries scheduled after a permanent error.
    pub permanent_retries: f64,
    /// Mean seconds from recovery to success (successful jobs whose recovery time is known).
    pub recovery_to_success: f64,
}

/// The cost of one job.
pub fn job_cost(r: &JobRecord, c: f64, deadline: f64) -> f64 {
    let time = if r.success { r.elapsed } else { deadline };
    time + c * f64::from(r.failed)
}

fn mean(xs: impl Iterator<Item = f64>) -> f64 {
    let (mut s, mut n) = (0.0, 0usize);
    for x in xs {
        s += x;
        n += 1;
    }
    if n == 0 {
        f64::NAN
    } else {
        s / n as f64
    }
}

/// Metrics of the given records.
pub fn compute<'a>(records: impl Iterator<Item = &'a JobRecord>, c: f64, deadline: f64) -> Metrics {
    let rs: Vec<&JobRecord> = records.collect();
    let n = rs.len() as f64;
    let mut tts: Vec<f64> = rs.iter().filter(|r| r.success).map(|r| r.elapsed).collect();
    tts.sort_by(f64::total_cmp);
    Metrics {
        jobs: n,
        j: mean(rs.iter().map(|r| job_cost(r, c, deadline))),
        success_rate: mean(rs.iter().map(|r| f64::from(u8::from(r.success)))),
        tts_mean: mean(tts.iter().copied()),
        tts_p50: percentile(&tts, 0.5),
        tts_p95: percentile(&tts, 0.95),
        tts_p99: percentile(&tts, 0.99),
        attempts: mean(rs.iter().map(|r| f64::from(r.attempts))),
        failed: mean(rs.iter().map(|r| f64::from(r.failed))),
        first_retry_success: mean(
            rs.iter()
                .filter_map(|r| r.first_retry_ok.map(|ok| f64::from(u8::from(ok)))),
        ),
        permanent_retries: rs.iter().map(|r| f64::from(r.permanent_retries)).sum(),
        recovery_to_success: mean(rs.iter().filter_map(|r| r.recovery_to_success)),
    }
}

/// Field-wise mean over seeds, ignoring NaN (a field is NaN only if it is NaN for every seed).
pub fn mean_over(ms: &[Metrics]) -> Metrics {
    let f = |g: fn(&Metrics) -> f64| mean(ms.iter().map(g).filter(|x| !x.is_nan()));
    Metrics {
        jobs: f(|m| m.jobs),
        j: f(|m| m.j),
        success_rate: f(|m| m.success_rate),
        tts_mean: f(|m| m.tts_mean),
        tts_p50: f(|m| m.tts_p50),
        tts_p95: f(|m| m.tts_p95),
        tts_p99: f(|m| m.tts_p99),
        attempts: f(|m| m.attempts),
        failed: f(|m| m.failed),
        first_retry_success: f(|m| m.first_retry_success),
        permanent_retries: f(|m| m.permanent_retries),
        recovery_to_success: f(|m| m.recovery_to_success),
    }
}

/// Episodes after a shift until the trailing mean J (over `window` episodes, averaged over
/// seeds position by position) is within `tolerance` of the new steady state (the mean J of
/// the second half of the post-shift episodes). `per_seed` holds each seed's post-shift J in
/// arrival order.
pub fn reconvergence(per_seed: &[Vec<f64>], window: usize, tolerance: f64) -> Option<usize> {
    let n = per_seed.iter().map(Vec::len).min()?;
    if n < 2 * window || window == 0 {
        return None;
    }
    let avg: Vec<f64> = (0..n)
        .map(|i| per_seed.iter().map(|s| s[i]).sum::<f64>() / per_seed.len() as f64)
        .collect();
    let steady = avg[n / 2..].iter().sum::<f64>() / (n - n / 2) as f64;
    let mut sum: f64 = avg[..window].iter().sum();
    for end in window..=n {
        if end > window {
            sum += avg[end - 1] - avg[end - 1 - window];
        }
        if ((sum / window as f64) - steady).abs() <= tolerance * steady.abs() {
            return Some(end);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(success: bool, elapsed: f64, failed: u32) -> JobRecord {
        JobRecord {
            success,
            elapsed,
            attempts: failed + u32::from(success),
            failed,
            first_retry_ok: None,
            permanent_retries: 0,
            recovery_to_success: None,
            warmup: false,
            group: 0,
        }
    }

    #[test]
    fn cost_uses_deadline_for_failures() {
        let rs = [rec(true, 10.0, 1), rec(false, 5.0, 3)];
        let m = compute(rs.iter(), 2.0, 100.0);
        assert_eq!(m.j, ((10.0 + 2.0) + (100.0 + 6.0)) / 2.0);
        assert_eq!(m.success_rate, 0.5);
        assert_eq!(m.tts_mean, 10.0);
        assert!(m.first_retry_success.is_nan());
    }

    #[test]
    fn reconvergence_finds_the_settling_point() {
        let mut s: Vec<f64> = vec![100.0; 40];
        s.extend(vec![50.0; 400]);
        assert_eq!(reconvergence(&[s.clone(), s], 20, 0.1), Some(58));
    }
}
