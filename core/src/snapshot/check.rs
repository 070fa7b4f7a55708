//! Range checks on every number a snapshot carries, on load and on merge. A count near 1e308
//! is finite, but adding two of them gives infinity, then NaN probabilities, then `null` in the
//! next snapshot, which can never be loaded again; so counts are held far below that.

use crate::error::{Error, Result};
use crate::learn::grid::BUCKETS;
use crate::learn::hazard::MAX_INTERVALS;
use crate::learn::ModelSnapshot;

/// Largest (decayed) count a model may hold: episodes, survivals, interval weights, portfolio
/// episode counts. Decay keeps live counts near the half-life (tens to thousands), so a million
/// leaves room to pool a thousand processes' snapshots. It is also a safety bound: the
/// confidence bounds invert Beta distributions whose parameters are these counts, and statrs's
/// `inv_beta_reg` takes milliseconds at 2e6 and had not finished after a minute at 1e7 (found
/// by `tests/snapshot_files.rs`; the planner should guard it too).
pub const MAX_COUNT: f64 = 1e6;
/// Largest portfolio sum (of scores or costs, in seconds, and of their squares): MAX_COUNT
/// episodes of the longest delay the engine accepts (ten years, 3.2e8 s), squared, fits.
pub const MAX_SUM: f64 = 1e24;

fn corrupt(m: &ModelSnapshot, what: &str) -> Error {
    Error::SnapshotCorrupt(format!("model {}/{}: {what}", m.key, m.class))
}

fn in_range(v: f64, max: f64) -> bool {
    v.is_finite() && (0.0..=max).contains(&v)
}

/// The numbers every model has the same number of (all but the intervals), with their bounds.
fn fixed(m: &ModelSnapshot) -> impl Iterator<Item = (f64, f64)> + '_ {
    let p = &m.portfolio;
    let series = p.series();
    let counts = [m.episodes, m.retry_failures, m.expected_failures]
        .into_iter()
        .chain(m.survived.iter().copied())
        .chain(series.clone().map(|s| s.n))
        .map(|v| (v, MAX_COUNT));
    // A difference of costs may be negative: its size is what is bounded.
    let sums = series
        .flat_map(|s| [s.sum.abs(), s.sum_sq])
        .map(|v| (v, MAX_SUM));
    counts.chain(sums)
}

/// One model as loaded: names valid, shapes right, every number finite, non-negative and
/// within its bound.
pub(crate) fn check_model(m: &ModelSnapshot) -> Result<()> {
    crate::engine::check_name("key", &m.key).map_err(|e| corrupt(m, &e.to_string()))?;
    if let Some(t) = &m.tenant {
        crate::engine::check_name("tenant", t).map_err(|e| corrupt(m, &e.to_string()))?;
    }
    if m.survived.len() != BUCKETS {
        return Err(corrupt(m, "wrong number of buckets"));
    }
    let interval_ok =
        |i: &crate::learn::hazard::Interval| i.from <= i.to && usize::from(i.to) < BUCKETS;
    if m.intervals.len() > MAX_INTERVALS || !m.intervals.iter().all(interval_ok) {
        return Err(corrupt(m, "recovery intervals out of range"));
    }
    let weights = m.intervals.iter().map(|i| (i.weight, MAX_COUNT));
    if let Some((v, max)) = fixed(m).chain(weights).find(|(v, max)| !in_range(*v, *max)) {
        return Err(corrupt(
            m,
            &format!("{v} is not a finite non-negative number of at most {max:e}"),
        ));
    }
    Ok(())
}

/// Merging `incoming` into a model now holding `current` adds their counts: refuse it if any
/// sum would leave its range.
pub(crate) fn check_merge(current: &ModelSnapshot, incoming: &ModelSnapshot) -> Result<()> {
    let total = |m: &ModelSnapshot| -> f64 { m.intervals.iter().map(|i| i.weight).sum() };
    if current.survived.len() != incoming.survived.len() {
        return Err(corrupt(incoming, "wrong number of buckets"));
    }
    let sums = fixed(current)
        .zip(fixed(incoming))
        .map(|((a, max), (b, _))| (a + b, max))
        .chain(std::iter::once((
            total(current) + total(incoming),
            MAX_COUNT * MAX_INTERVALS as f64,
        )));
    if let Some((v, max)) = sums.into_iter().find(|(v, max)| !in_range(*v, *max)) {
        return Err(corrupt(
            incoming,
            &format!("merging would make a count of {v}, beyond {max:e}"),
        ));
    }
    Ok(())
}
