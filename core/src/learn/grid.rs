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

/// `LN_STEPS[i]`: ln(edge(i + 1) / edge(i)) for i >= 1 (0 for the first bucket, which starts at 0).
static LN_STEPS: LazyLock<[f64; BUCKETS]> = LazyLock::new(|| {
    std::array::from_fn(|i| {
        if i == 0 {
            0.0
        } else {
            (EDGES[i + 1] / EDGES[i]).ln()
        }
    })
});

/// The log of bucket `i`'s width as a ratio, ln(edge(i + 1) / edge(i)) (0 for bucket 0): a time
/// log-uniform inside the bucket is then one `exp` from its start.
#[inline]
pub fn ln_step(i: usize) -> f64 {
    LN_STEPS[i.min(BUCKETS - 1)]
}

/// Start of bucket `i` in seconds (`edge(0) == 0`, `edge(BUCKETS)` is the end of the grid).
#[inline]
pub fn edge(i: usize) -> f64 {
    EDGES[i.min(BUCKETS)]
}

/// The bucket holding elapsed time `t` seconds (the last bucket holds everything beyond).
///
/// Defined by `bucket_by_formula`; answered from a table of the exact points where that
/// formula steps (a guess from the float's exponent and a step or two along the table), because
/// a `log2` per call was a tenth of a dry-run decision.
#[inline]
pub fn bucket_of(t: f64) -> usize {
    if t.is_nan() || t < FIRST_EDGE {
        return 0;
    }
    let starts = &*STARTS;
    // t / FIRST_EDGE is at least 1: its binary exponent is floor(log2), give or take the
    // rounding of the division, which the walk below absorbs.
    let octave = (((t / FIRST_EDGE).to_bits() >> 52) & 0x7ff).saturating_sub(1023) as usize;
    let mut b = (1 + octave.saturating_mul(PER_DOUBLING as usize)).min(BUCKETS - 1);
    while b + 1 < BUCKETS && starts[b + 1] <= t {
        b += 1;
    }
    while b > 1 && starts[b] > t {
        b -= 1;
    }
    b
}

/// The definition of `bucket_of`: log-spaced buckets, with a hair of slack so that a time
/// computed as an edge lands in the bucket the edge starts.
fn bucket_by_formula(t: f64) -> usize {
    if t.is_nan() || t < FIRST_EDGE {
        return 0;
    }
    let i = 1usize.saturating_add(((t / FIRST_EDGE).log2() * PER_DOUBLING + 1e-9).floor() as usize);
    i.min(BUCKETS - 1)
}

/// `STARTS[b]`: the least time `bucket_by_formula` puts in bucket `b` or later (b >= 1), found
/// by bisecting the floats around the edge (the formula never decreases as `t` grows).
static STARTS: LazyLock<[f64; BUCKETS]> = LazyLock::new(|| {
    let mut starts = [0.0; BUCKETS];
    starts[1] = FIRST_EDGE;
    for (b, start) in starts.iter_mut().enumerate().skip(2) {
        let e = edge(b);
        // Positive floats order as their bits do.
        let (mut lo, mut hi) = ((e * 0.999).to_bits(), (e * 1.001).to_bits());
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if bucket_by_formula(f64::from_bits(mid)) >= b {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        *start = f64::from_bits(hi);
    }
    starts
});

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

    /// The table answers exactly as the formula, at and around every edge (to the float) and
    /// at random times over the whole grid and beyond.
    #[test]
    fn table_lookup_is_the_formula() {
        let mut probes = vec![0.0, -1.0, f64::NAN, f64::INFINITY, 1e300, FIRST_EDGE];
        for b in 1..BUCKETS {
            let s = STARTS[b];
            let bits = s.to_bits();
            probes.extend([
                s,
                f64::from_bits(bits - 1),
                f64::from_bits(bits + 1),
                edge(b),
            ]);
            probes.extend([edge(b) - 1e-9, edge(b) + 1e-9, edge(b) * (1.0 - 1e-12)]);
        }
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Log-uniform over 1 ms .. ~3e6 s.
            probes.push(1e-3 * 2f64.powf((x >> 11) as f64 / (1u64 << 53) as f64 * 32.0));
        }
        for t in probes {
            assert_eq!(bucket_of(t), bucket_by_formula(t), "t = {t:e}");
        }
    }
}
