//! Exponentially spaced buckets of time since the failure episode began: 10 ms to ~39 h in steps
//! of 2^(1/4) (19%), so the engine handles delays from milliseconds to hours with one grid.

use std::sync::LazyLock;

/// Number of buckets. Bucket `b` covers `[edge(b), edge(b + 1))`.
pub const BUCKETS: usize = 96;
/// The end of the first bucket, seconds.
pub const FIRST_EDGE: f64 = 0.01;
/// Buckets per doubling of time.
pub const PER_DOUBLING: f64 = 4.0;

static EDGES: LazyLock<[f64; BUCKETS + 1]> = LazyLock::new(|| {
    let mut e = [0.0; BUCKETS + 1];
    for (i, v) in e.iter_mut().enumerate().skip(1) {
        *v = FIRST_EDGE * 2f64.powf((i - 1) as f64 / PER_DOUBLING);
    }
    e
});

/// Start of bucket `i` in seconds (`edge(0) == 0`, `edge(BUCKETS)` is the end of the grid).
#[inline]
pub fn edge(i: usize) -> f64 {
    EDGES[i.min(BUCKETS)]
}

/// The bucket holding elapsed time `t` seconds (the last bucket holds everything beyond).
#[inline]
pub fn bucket_of(t: f64) -> usize {
    if t.is_nan() || t < FIRST_EDGE {
        return 0;
    }
    let i = 1 + ((t / FIRST_EDGE).log2() * PER_DOUBLING + 1e-9).floor() as usize;
    i.min(BUCKETS - 1)
}

/// Slack for clock rounding: attempts are scheduled exactly at edges, and a nanosecond clock
/// may land a hair before or after one.
#[inline]
fn slack(t: f64) -> f64 {
    1e-6 + t * 1e-9
}

/// Number of buckets that lie wholly before `t` (their end is at or before `t`).
#[inline]
pub fn buckets_passed(t: f64) -> usize {
    let b = bucket_of(t);
    if b < BUCKETS - 1 && edge(b + 1) <= t + slack(t) {
        b + 1
    } else {
        b
    }
}

/// The last bucket in which a recovery observed at `t` can lie (`T <= t`): the bucket holding
/// `t`, or the one before it when `t` is at the bucket's very start.
#[inline]
pub fn last_possible_bucket(t: f64) -> usize {
    let b = bucket_of(t);
    if b > 0 && t - edge(b) <= slack(t) {
        b - 1
    } else {
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_and_lookup_agree() {
        assert_eq!(edge(0), 0.0);
        assert_eq!(edge(1), 0.01);
        assert!((edge(5) - 0.02).abs() < 1e-12);
        assert!(edge(BUCKETS) > 36.0 * 3600.0);
        for i in 0..BUCKETS {
            let mid = (edge(i) + edge(i + 1)) / 2.0;
            assert_eq!(bucket_of(mid), i);
            assert_eq!(bucket_of(edge(i)), i);
        }
        assert_eq!(bucket_of(1e12), BUCKETS - 1);
        assert_eq!(buckets_passed(0.0), 0);
        assert_eq!(buckets_passed(0.01), 1);
        assert_eq!(buckets_passed(0.015), 3);
        assert_eq!(last_possible_bucket(edge(7)), 6);
        assert_eq!(last_possible_bucket(edge(7) - 1e-9), 6);
        assert_eq!(last_possible_bucket((edge(7) + edge(8)) / 2.0), 7);
        assert_eq!(buckets_passed(edge(7) - 1e-9), 7);
    }
}
