//! Arithmetic on model evidence (`ModelSnapshot`): sums, clamped differences and decay, so the
//! fleet can pool what engines learned without counting anything twice.
//!
//! Evidence is a set of decayed counts. Adding two engines' evidence is adding their counts;
//! taking an engine's own part out of its local model is subtracting what it merged from the
//! fleet (decayed since, by as many episodes as the model has seen). Differences are clamped at
//! zero: a count is never negative.

use smartretry::learn::hazard::{Interval, MAX_INTERVALS};
use smartretry::learn::portfolio::{Portfolio, Series};
use smartretry::learn::ModelSnapshot;
use smartretry::{ErrorClass, Snapshot};
use std::collections::BTreeMap;

/// A model's identity: (key, tenant, class).
pub type ModelId = (String, Option<String>, ErrorClass);

pub fn id_of(m: &ModelSnapshot) -> ModelId {
    (m.key.clone(), m.tenant.clone(), m.class)
}

/// A snapshot's models by identity.
pub fn by_id(s: &Snapshot) -> BTreeMap<ModelId, ModelSnapshot> {
    s.models.iter().map(|m| (id_of(m), m.clone())).collect()
}

/// The empty evidence of a model (shaped like `like`).
pub fn zero_like(id: &ModelId, buckets: usize) -> ModelSnapshot {
    ModelSnapshot {
        key: id.0.clone(),
        tenant: id.1.clone(),
        class: id.2,
        episodes: 0.0,
        survived: vec![0.0; buckets],
        intervals: Vec::new(),
        retry_failures: 0.0,
        expected_failures: 0.0,
        portfolio: Portfolio::default(),
    }
}

/// Whether the model carries any evidence at all.
pub fn is_empty(m: &ModelSnapshot) -> bool {
    m.episodes <= 0.0
        && m.survived.iter().all(|v| *v <= 0.0)
        && m.intervals.iter().all(|i| i.weight <= 0.0)
        && m.retry_failures <= 0.0
        && m.expected_failures <= 0.0
        && m.portfolio.series().all(|s| s.n <= 0.0)
}

/// `a + sign * b` on every count (intervals matched by their bucket range), clamped at zero.
fn combine(a: &ModelSnapshot, b: &ModelSnapshot, sign: f64) -> ModelSnapshot {
    let mut out = a.clone();
    let len = out.survived.len().max(b.survived.len());
    out.survived.resize(len, 0.0);
    for (dst, src) in out.survived.iter_mut().zip(&b.survived) {
        *dst = (*dst + sign * src).max(0.0);
    }
    let mut intervals: BTreeMap<(u8, u8), f64> = BTreeMap::new();
    for i in &a.intervals {
        *intervals.entry((i.from, i.to)).or_default() += i.weight;
    }
    for i in &b.intervals {
        *intervals.entry((i.from, i.to)).or_default() += sign * i.weight;
    }
    out.intervals = intervals
        .into_iter()
        .filter(|(_, w)| *w > 0.0)
        .map(|((from, to), weight)| Interval { from, to, weight })
        .collect();
    fold_intervals(&mut out.intervals);
    out.episodes = (a.episodes + sign * b.episodes).max(0.0);
    out.retry_failures = (a.retry_failures + sign * b.retry_failures).max(0.0);
    out.expected_failures = (a.expected_failures + sign * b.expected_failures).max(0.0);
    for (dst, src) in out.portfolio.series_mut().zip(b.portfolio.series()) {
        dst.n = (dst.n + sign * src.n).max(0.0);
        dst.sum += sign * src.sum;
        dst.sum_sq = (dst.sum_sq + sign * src.sum_sq).max(0.0);
        if dst.n <= 1e-9 {
            *dst = Series::default();
        }
    }
    out
}

/// Keep at most `MAX_INTERVALS` (the snapshot format's bound): the lightest interval's weight
/// goes to its nearest neighbour by bucket range.
fn fold_intervals(intervals: &mut Vec<Interval>) {
    while intervals.len() > MAX_INTERVALS {
        let Some(lightest) = (0..intervals.len())
            .min_by(|&x, &y| intervals[x].weight.total_cmp(&intervals[y].weight))
        else {
            return;
        };
        let gone = intervals.swap_remove(lightest);
        let distance =
            |i: &Interval| i.from.abs_diff(gone.from) as u32 + i.to.abs_diff(gone.to) as u32;
        if let Some(nearest) = intervals.iter_mut().min_by_key(|i| distance(i)) {
            nearest.weight += gone.weight;
        }
    }
    intervals.sort_by_key(|i| (i.from, i.to));
}

/// `a + b`.
pub fn add(a: &ModelSnapshot, b: &ModelSnapshot) -> ModelSnapshot {
    combine(a, b, 1.0)
}

/// `max(a - b, 0)`, count by count.
pub fn subtract(a: &ModelSnapshot, b: &ModelSnapshot) -> ModelSnapshot {
    combine(a, b, -1.0)
}

/// The evidence decayed: the recovery counts by `hazard`, the portfolio's by `portfolio`.
pub fn decayed(m: &ModelSnapshot, hazard: f64, portfolio: f64) -> ModelSnapshot {
    let mut out = m.clone();
    out.survived.iter_mut().for_each(|v| *v *= hazard);
    out.intervals.iter_mut().for_each(|i| i.weight *= hazard);
    out.episodes *= hazard;
    out.retry_failures *= hazard;
    out.expected_failures *= hazard;
    for s in out.portfolio.series_mut() {
        s.n *= portfolio;
        s.sum *= portfolio;
        s.sum_sq *= portfolio;
    }
    out
}

/// How much older evidence has decayed while a count went from `before` to `after`, when each
/// new observation multiplies the count by `keep` and adds one (the engine's decay per episode,
/// `2^(-1/half_life)`). Solving `after = before * y + (1 - y) / (1 - keep)` for `y = keep^k`
/// recovers the decay of the `k` observations in between without counting them one by one.
/// Clamped to `0..=1`; 1 when the count sits at its steady state and says nothing.
pub fn decay_between(before: f64, after: f64, keep: f64) -> f64 {
    if !(keep > 0.0 && keep < 1.0) || after == before {
        return 1.0;
    }
    let steady = 1.0 / (1.0 - keep);
    let gap = before - steady;
    if gap.abs() < 1e-9 * steady {
        return 1.0;
    }
    let y = (after - steady) / gap;
    if y.is_finite() {
        y.clamp(0.0, 1.0)
    } else {
        1.0
    }
}

/// The sum of many snapshots' models.
pub fn sum<'a>(
    snapshots: impl IntoIterator<Item = &'a Snapshot>,
) -> BTreeMap<ModelId, ModelSnapshot> {
    let mut total: BTreeMap<ModelId, ModelSnapshot> = BTreeMap::new();
    for s in snapshots {
        for m in &s.models {
            let id = id_of(m);
            let merged = match total.get(&id) {
                Some(t) => add(t, m),
                None => m.clone(),
            };
            total.insert(id, merged);
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(episodes: f64, survived: f64, weight: f64) -> ModelSnapshot {
        let id = ("q".to_string(), None, ErrorClass::Unavailable);
        let mut m = zero_like(&id, 4);
        m.episodes = episodes;
        m.survived = vec![survived; 4];
        m.intervals = vec![Interval {
            from: 1,
            to: 2,
            weight,
        }];
        m.portfolio.difference = Series {
            n: episodes,
            sum: -episodes,
            sum_sq: episodes,
        };
        m
    }

    #[test]
    fn add_then_subtract_gives_back_the_first() {
        let a = model(3.0, 2.0, 1.5);
        let b = model(5.0, 1.0, 0.5);
        let back = subtract(&add(&a, &b), &b);
        assert!((back.episodes - 3.0).abs() < 1e-12);
        assert!((back.intervals[0].weight - 1.5).abs() < 1e-12);
        assert!((back.portfolio.difference.sum + 3.0).abs() < 1e-12);
        // never below zero
        let none = subtract(&b, &model(9.0, 9.0, 9.0));
        assert!(is_empty(&none), "{none:?}");
    }

    #[test]
    fn decay_between_recovers_the_episodes_in_between() {
        let keep: f64 = 2f64.powf(-1.0 / 400.0);
        let mut count: f64 = 37.0;
        let before = count;
        for _ in 0..25 {
            count = count * keep + 1.0;
        }
        let y = decay_between(before, count, keep);
        assert!((y - keep.powi(25)).abs() < 1e-9, "{y}");
        assert_eq!(decay_between(5.0, 5.0, keep), 1.0);
        assert_eq!(decay_between(5.0, 6.0, 1.0), 1.0);
    }

    #[test]
    fn too_many_intervals_are_folded_keeping_their_weight() {
        let mut intervals: Vec<Interval> = (0..60)
            .map(|k| Interval {
                from: k,
                to: k + 1,
                weight: 1.0 + f64::from(k),
            })
            .collect();
        let total: f64 = intervals.iter().map(|i| i.weight).sum();
        fold_intervals(&mut intervals);
        assert_eq!(intervals.len(), MAX_INTERVALS);
        let after: f64 = intervals.iter().map(|i| i.weight).sum();
        assert!((after - total).abs() < 1e-9);
    }
}
