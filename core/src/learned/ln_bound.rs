//! Cheap bounds on `v.max(0.0).ln_1p()`, for `choose`'s per-bin probability bound: a bound only
//! has to be on the right side of the logarithm the exact price computes, not equal to it, and a
//! library `ln_1p` is most of what a bound costs. The mantissa's logarithm lies between its chord
//! over one of 16 equal segments of [1, 2) and that chord plus the chord's largest gap there
//! (the logarithm is concave): a few arithmetic operations, within 0.0005 of the logarithm.

/// ln(1 + k/16), k = 0..=16: the chords' knots. Any error in them is far inside `MARGIN`.
const KNOTS: [f64; 17] = [
    0.0,
    0.060_624_621_816_434_84,
    0.117_783_035_656_383_46,
    0.171_850_256_926_659_23,
    0.223_143_551_314_209_76,
    0.271_933_715_483_641_76,
    0.318_453_731_118_534_6,
    0.362_905_493_689_368_5,
    0.405_465_108_108_164_4,
    0.446_287_102_628_419_53,
    0.485_507_815_781_700_8,
    0.523_248_143_764_547_9,
    0.559_615_787_935_422_7,
    0.594_707_107_746_692_8,
    0.628_608_659_422_374_1,
    0.661_398_482_245_365,
    std::f64::consts::LN_2,
];

/// The largest gap between ln and its chord over [a, a + 1/16] for a ≥ 1: at most
/// (1/16)² / (8a²) = 1/2048.
const CHORD_GAP: f64 = 1.0 / 2048.0;

/// Covers every rounding: of 1 + v (half an ulp of 1 + v, relative), of the library's `ln_1p`
/// (an ulp of a result below 30), of the knots, and of the few operations here.
const MARGIN: f64 = 1e-12;

/// Largest 1 + v the chords handle (results below 30): beyond, the library's `ln_1p` is used.
const LIMIT: f64 = (1u64 << 40) as f64;

/// A value at least `v.max(0.0).ln_1p()` as the library computes it.
#[inline]
pub(crate) fn upper(v: f64) -> f64 {
    match chord(v) {
        Some(c) => c + (CHORD_GAP + MARGIN),
        None => v.max(0.0).ln_1p(),
    }
}

/// A value at most `v.max(0.0).ln_1p()` as the library computes it.
#[inline]
pub(crate) fn lower(v: f64) -> f64 {
    match chord(v) {
        Some(c) => c - MARGIN,
        None => v.max(0.0).ln_1p(),
    }
}

/// The chord below ln(1 + v) (None: outside the chords' range, or not a number).
#[inline]
fn chord(v: f64) -> Option<f64> {
    let y = 1.0 + v.max(0.0);
    if !(1.0..LIMIT).contains(&y) {
        return None;
    }
    // y = 2^e · m with m in [1, 2) (y ≥ 1 is normal), m in the segment [1 + k/16, 1 + (k+1)/16).
    let bits = y.to_bits();
    let e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let k = ((bits >> 48) & 0xf) as usize;
    let m = f64::from_bits((bits & ((1 << 52) - 1)) | (1023 << 52));
    // Exact: m and the knot agree in their leading bits.
    let t = m - (1.0 + k as f64 / 16.0);
    let slope = (KNOTS[k + 1] - KNOTS[k]) * 16.0;
    Some(e as f64 * std::f64::consts::LN_2 + KNOTS[k] + t * slope)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(v: f64) {
        let ln = v.max(0.0).ln_1p();
        assert!(
            lower(v) <= ln && ln <= upper(v),
            "{v}: {} {ln} {}",
            lower(v),
            upper(v)
        );
        assert!(upper(v) - lower(v) <= 6e-4, "{v}");
    }

    #[test]
    fn knots_are_the_logarithms() {
        for (k, &knot) in KNOTS.iter().enumerate() {
            assert!((knot - (1.0 + k as f64 / 16.0).ln()).abs() < 1e-15, "{k}");
        }
    }

    #[test]
    fn bounds_hold_at_the_edges() {
        let odd = [
            -5.0, -0.0, 0.0, 1e-300, 1e-17, 1e-9, 0.0625, 1.0, 2.0, 86_400.0, 1e12,
        ];
        for v in odd {
            check(v);
        }
        for v in [1e13, 1e300, f64::INFINITY] {
            assert_eq!((lower(v), upper(v)), (v.ln_1p(), v.ln_1p()));
        }
        check(f64::NAN);
        // Segment boundaries and the points between them, over the range a wait takes.
        for e in -8..20 {
            for k in 0..=64 {
                let y = (1.0 + f64::from(k) / 64.0) * 2f64.powi(e);
                let v = y - 1.0;
                for v in [
                    v,
                    f64::from_bits(v.to_bits() + 1),
                    f64::from_bits(v.to_bits().saturating_sub(1)),
                ] {
                    check(v);
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn bounds_hold(v in 0.0f64..1e6, scale in -30i32..30) {
            check(v * 2f64.powi(scale));
        }
    }
}
