//! Attempt histories in JSON Lines, in the engine's schema (`smartretry::AttemptRecord`, see
//! `sim/HISTORY.md`): reading them with line-numbered errors, grouping attempts into failure
//! episodes, and exporting a simulated run as a history.

use crate::error::{Result, SimError};
use crate::job::{FailureSpec, Job};
use crate::runner::AttemptLog;
use crate::survival::Interval;
use smartretry::{AttemptRecord, ErrorClass};
use std::collections::BTreeMap;
use std::path::Path;

/// The small example history shipped with the crate (scenario 1 under full jitter).
pub const EXAMPLE: &str = include_str!("../data/example-history.jsonl");

/// Parse JSON Lines; blank lines are skipped, anything else that is not a valid record is an
/// error naming its line.
pub fn parse(text: &str) -> Result<Vec<AttemptRecord>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let err = |reason: String| SimError::History {
            line: i + 1,
            reason,
        };
        let r: AttemptRecord = serde_json::from_str(line).map_err(|e| err(e.to_string()))?;
        let finite = [r.time, r.delay_before, r.since_episode_start];
        if finite.iter().any(|x| !x.is_finite() || *x < 0.0) {
            return Err(err(
                "time, delay_before and since_episode_start must be non-negative numbers".into(),
            ));
        }
        if r.outcome != "success" && r.outcome != "failure" {
            return Err(err(format!(
                "outcome must be \"success\" or \"failure\", got {:?}",
                r.outcome
            )));
        }
        if r.attempt == 0 {
            return Err(err("attempt numbers start at 1".into()));
        }
        out.push(r);
    }
    Ok(out)
}

/// Read a history file.
pub fn read(path: &Path) -> Result<Vec<AttemptRecord>> {
    let text = std::fs::read_to_string(path).map_err(|e| SimError::io(path, e))?;
    parse(&text)
}

/// One failure episode reconstructed from a history.
#[derive(Debug, Clone, PartialEq)]
pub struct EpisodeObs {
    pub queue: String,
    pub tenant: Option<String>,
    /// Unix seconds of the first failure.
    pub start: f64,
    /// The first failure, as logged.
    pub failure: FailureSpec,
    /// Elapsed seconds of every failed attempt.
    pub failures: Vec<f64>,
    /// Elapsed seconds of the success, if any.
    pub success: Option<f64>,
}

impl EpisodeObs {
    /// What the episode says about its recovery time (see `survival`).
    pub fn interval(&self) -> Interval {
        let last_fail = self.failures.iter().copied().fold(0.0, f64::max);
        Interval {
            left: last_fail,
            right: self.success.unwrap_or(f64::INFINITY),
        }
    }
}

/// A record with its episode start (`time - since_episode_start`).
type Stamped<'a> = (f64, &'a AttemptRecord);

/// Group records into episodes: the same queue and tenant, and the same episode start
/// (`time - since_episode_start`; starts within 5 ms are the same episode, since both fields
/// are rounded when logged, unless an attempt number repeats). Episodes whose records hold no
/// failure are not failure episodes and are dropped. Sorted by start.
pub fn episodes(records: &[AttemptRecord]) -> Vec<EpisodeObs> {
    let mut by_key: BTreeMap<(String, Option<String>), Vec<Stamped<'_>>> = BTreeMap::new();
    for r in records {
        by_key
            .entry((r.queue.clone(), r.tenant.clone()))
            .or_default()
            .push((r.time - r.since_episode_start, r));
    }
    let mut out = Vec::new();
    for ((queue, tenant), mut rs) in by_key {
        rs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.attempt.cmp(&b.1.attempt)));
        // Open clusters (start, records); a record joins the nearest one within 5 ms that does
        // not have its attempt number yet, so episodes starting close together stay apart.
        let mut open: Vec<(f64, Vec<&AttemptRecord>)> = Vec::new();
        for (start, r) in rs {
            let (done, keep): (Vec<_>, Vec<_>) =
                open.into_iter().partition(|(s, _)| start - *s > 0.005);
            open = keep;
            for (s, c) in done {
                out.extend(episode(&queue, &tenant, s, &c));
            }
            let best = open
                .iter_mut()
                .filter(|(_, c)| c.iter().all(|x| x.attempt != r.attempt))
                .min_by(|a, b| (start - a.0).abs().total_cmp(&(start - b.0).abs()));
            match best {
                Some((_, c)) => c.push(r),
                None => open.push((start, vec![r])),
            }
        }
        for (s, c) in open {
            out.extend(episode(&queue, &tenant, s, &c));
        }
    }
    out.sort_by(|a, b| a.start.total_cmp(&b.start));
    out
}

fn episode(
    queue: &str,
    tenant: &Option<String>,
    start: f64,
    rs: &[&AttemptRecord],
) -> Option<EpisodeObs> {
    let first = rs
        .iter()
        .filter(|r| r.outcome == "failure")
        .min_by_key(|r| r.attempt)?;
    let class = first
        .error_class
        .as_deref()
        .and_then(|c| c.parse::<ErrorClass>().ok())
        .unwrap_or(ErrorClass::Unknown);
    Some(EpisodeObs {
        queue: queue.to_string(),
        tenant: tenant.clone(),
        start,
        failure: FailureSpec {
            class,
            http_status: first.http_status,
            error_code: first.error_code.clone(),
        },
        failures: rs
            .iter()
            .filter(|r| r.outcome == "failure")
            .map(|r| r.since_episode_start)
            .collect(),
        success: rs
            .iter()
            .filter(|r| r.outcome == "success")
            .map(|r| r.since_episode_start)
            .reduce(f64::min),
    })
}

/// A simulated run's attempts as history records (`epoch` = Unix seconds of simulated 0).
pub fn from_log(jobs: &[Job], log: &[AttemptLog], epoch: f64) -> Vec<AttemptRecord> {
    log.iter()
        .filter_map(|a| {
            let job = jobs.get(a.job)?;
            let f = a.failure.as_ref();
            Some(AttemptRecord {
                time: round_ms(epoch + a.t),
                queue: job.queue.clone(),
                tenant: job.tenant.clone(),
                job_type: Some(job.queue.clone()),
                attempt: a.attempt,
                error_class: f.map(|f| f.spec.class.as_str().to_string()),
                error_code: f.and_then(|f| f.spec.error_code.clone()),
                http_status: f.and_then(|f| f.spec.http_status),
                delay_before: round_ms(a.delay_before),
                since_episode_start: round_ms(a.t - job.arrival),
                outcome: if f.is_some() { "failure" } else { "success" }.to_string(),
                payload_size: None,
                worker_version: Some("sim".to_string()),
                ..Default::default()
            })
        })
        .collect()
}

fn round_ms(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Records as JSON Lines.
pub fn to_jsonl(records: &[AttemptRecord]) -> String {
    let mut s = String::new();
    for r in records {
        if let Ok(line) = serde_json::to_string(r) {
            s.push_str(&line);
            s.push('\n');
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_parses_into_episodes() {
        let recs = parse(EXAMPLE).unwrap();
        let eps = episodes(&recs);
        // The example is 250 simulated jobs: every one is exactly one episode.
        assert_eq!(eps.len(), 250);
        assert!(eps.iter().all(|e| !e.failures.is_empty()));
        assert!(eps.iter().filter(|e| e.success.is_some()).count() > eps.len() / 2);
        for e in &eps {
            let iv = e.interval();
            assert!(iv.left < iv.right);
        }
    }

    #[test]
    fn bad_lines_name_their_number() {
        let good = EXAMPLE.lines().next().unwrap();
        let text = format!("{good}\n\n{{\"time\": 1}}\n");
        match parse(&text) {
            Err(SimError::History { line, .. }) => assert_eq!(line, 3),
            other => panic!("{other:?}"),
        }
        let neg = good.replacen("\"time\":", "\"time\":-", 1);
        assert!(parse(&neg).is_err());
    }
}
