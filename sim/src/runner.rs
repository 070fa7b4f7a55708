//! The discrete-event loop: a min-heap of attempt events ordered by simulated time. Each event
//! runs one attempt against the world, then asks the policy what to do next. Nothing sleeps;
//! a run is a pure function of (jobs, world, policy).

use crate::job::{FailureInfo, Job, Truth};
use crate::policy::{Decision, FailureCtx, SimPolicy};
use crate::world::{World, TIME_EPS};
use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

/// What happened to one job.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRecord {
    pub success: bool,
    /// Seconds from the first attempt to the success (or to giving up).
    pub elapsed: f64,
    pub attempts: u32,
    pub failed: u32,
    /// Whether the first retry (the second attempt) succeeded, when there was one.
    pub first_retry_ok: Option<bool>,
    /// Retries scheduled after a failure whose class is permanent.
    pub permanent_retries: u32,
    /// Seconds from the dependency's recovery to the success, for jobs that succeeded at or
    /// after the recovery (when it is known).
    pub recovery_to_success: Option<f64>,
    pub warmup: bool,
    pub group: u8,
}

/// The outcome of one run of one policy.
#[derive(Debug, Clone)]
pub struct RunResult {
    pub records: Vec<JobRecord>,
    /// Most attempts that started within one second of simulated time.
    pub peak_rps: u32,
    pub total_attempts: u64,
    /// The policy's learned recovery curve at the end, when it has one.
    pub curve: Option<Vec<(f64, f64)>>,
    /// The policy's decision counts (see `SimPolicy::diagnostics`).
    pub diagnostics: Vec<(String, u64)>,
}

#[derive(Debug, Clone, Copy)]
struct Event {
    t: f64,
    seq: u64,
    idx: usize,
}

impl PartialEq for Event {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Event {}
impl PartialOrd for Event {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Event {
    /// Reversed, so `BinaryHeap` pops the earliest event (ties: the one scheduled first).
    fn cmp(&self, o: &Self) -> Ordering {
        o.t.total_cmp(&self.t).then_with(|| o.seq.cmp(&self.seq))
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct State {
    attempts: u32,
    failed: u32,
    prev_delay: f64,
    first_retry_ok: Option<bool>,
    permanent_retries: u32,
}

/// One attempt as it happened, for exporting an attempt history.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptLog {
    /// Index of the job in the run's job list.
    pub job: usize,
    pub attempt: u32,
    /// Simulated seconds.
    pub t: f64,
    pub delay_before: f64,
    /// `None` on success.
    pub failure: Option<FailureInfo>,
}

/// Run every job of `jobs` under `policy` until success, give-up or deadline.
pub fn run(jobs: &[Job], world: World, policy: &mut dyn SimPolicy, deadline: f64) -> RunResult {
    run_logged(jobs, world, policy, deadline, None)
}

/// `run`, also appending every attempt to `log` when given.
pub fn run_logged(
    jobs: &[Job],
    mut world: World,
    policy: &mut dyn SimPolicy,
    deadline: f64,
    mut log: Option<&mut Vec<AttemptLog>>,
) -> RunResult {
    let mut heap = BinaryHeap::with_capacity(jobs.len());
    let mut seq = 0u64;
    for (idx, job) in jobs.iter().enumerate() {
        heap.push(Event {
            t: job.arrival,
            seq,
            idx,
        });
        seq += 1;
    }
    let mut state = vec![State::default(); jobs.len()];
    let mut records: Vec<Option<JobRecord>> = vec![None; jobs.len()];
    let mut per_second: HashMap<i64, u32> = HashMap::new();
    let mut total_attempts = 0u64;
    while let Some(Event { t, idx, .. }) = heap.pop() {
        let job = &jobs[idx];
        let st = &mut state[idx];
        if st.attempts == 0 {
            policy.on_start(job, t);
        }
        st.attempts += 1;
        total_attempts += 1;
        *per_second.entry(t.floor() as i64).or_insert(0) += 1;
        let finish = |st: &State, success: bool, elapsed: f64, t: f64| JobRecord {
            success,
            elapsed,
            attempts: st.attempts,
            failed: st.failed,
            first_retry_ok: st.first_retry_ok,
            permanent_retries: st.permanent_retries,
            recovery_to_success: match (success, job.truth) {
                // Only jobs still failing when the dependency recovered: a success during a
                // brown-out says nothing about how fast a policy notices the recovery.
                (true, Truth::At(r)) if t + TIME_EPS >= r => Some((t - r).max(0.0)),
                _ => None,
            },
            warmup: job.warmup,
            group: job.group,
        };
        let outcome = world.attempt(job, st.attempts, t);
        if let Some(log) = log.as_deref_mut() {
            log.push(AttemptLog {
                job: idx,
                attempt: st.attempts,
                t,
                delay_before: if st.attempts == 1 { 0.0 } else { st.prev_delay },
                failure: outcome.as_ref().err().cloned(),
            });
        }
        match outcome {
            Ok(()) => {
                if st.attempts == 2 {
                    st.first_retry_ok = Some(true);
                }
                policy.on_success(job, t);
                records[idx] = Some(finish(st, true, t - job.arrival, t));
            }
            Err(failure) => {
                st.failed += 1;
                if st.attempts == 2 {
                    st.first_retry_ok = Some(false);
                }
                let ctx = FailureCtx {
                    job,
                    now: t,
                    retry: st.attempts,
                    previous_delay: st.prev_delay,
                    failure: &failure,
                };
                let next = match policy.on_failure(&ctx) {
                    Decision::Retry(d) if d.is_finite() => Some(t + d.max(0.0)),
                    _ => None,
                };
                match next {
                    Some(at) if at - job.arrival <= deadline + TIME_EPS => {
                        if !failure.spec.class.is_retryable() {
                            st.permanent_retries += 1;
                        }
                        st.prev_delay = at - t;
                        heap.push(Event { t: at, seq, idx });
                        seq += 1;
                    }
                    Some(_) => {
                        policy.on_abandon(job, t);
                        records[idx] = Some(finish(st, false, deadline, t));
                    }
                    None => records[idx] = Some(finish(st, false, t - job.arrival, t)),
                }
            }
        }
    }
    let curve = jobs
        .first()
        .and_then(|j| policy.learned_curve(&j.queue, j.failure.class));
    RunResult {
        records: records.into_iter().flatten().collect(),
        peak_rps: per_second.values().copied().max().unwrap_or(0),
        total_attempts,
        curve,
        diagnostics: policy.diagnostics(),
    }
}
