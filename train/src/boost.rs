//! Gradient boosting on the log-loss from a per-row base margin (the logistic model's logit):
//! oblivious trees over the decision-time features (`smartretry::learned::features::DECISION`),
//! grown on histograms of quantile bins, Newton leaf values, shrinkage, early stopping on a
//! validation share. A leaf is a small linear model in the row's two wait terms (intercept,
//! `log_elapsed` and `log_delay` weights: see `smartretry::learned::trees`), fitted by one
//! Newton step of three parameters; splits are scored by the same step's gain. Only training lives here; the core evaluates the trees
//! (`smartretry::learned::trees`).
//!
//! Written here rather than taken from a crate: the booster must start from a per-row base
//! margin (the logistic model's logit, which carries the wait) and its trees must be exported
//! into the core's checked format. Of the pure-Rust crates, `gbdt` (unmaintained since 2020)
//! keeps its trees private, and `perpetual` and `forust-ml` take one scalar base score, not a
//! per-row margin; `lightgbm` needs a C++ build. The algorithm is the textbook one (XGBoost's
//! second-order gain, CatBoost's oblivious trees), about two hundred lines.

use smartretry::learned::features::{DecisionFeatures, DECISION};
use smartretry::learned::model::sigmoid;
use smartretry::learned::trees::{Leaf, Tree, Trees, MAX_LEAF, MAX_SLOPE};

/// The booster's settings.
#[derive(Debug, Clone, Copy)]
pub struct BoostOptions {
    /// Most trees (32 of depth 4: about 0.15 µs per decision to evaluate, so that `choose` stays
    /// within its microsecond).
    pub rounds: usize,
    /// Levels per tree (oblivious: `2^depth` leaves).
    pub depth: usize,
    /// Shrinkage (learning rate) applied to each tree's leaves.
    pub shrinkage: f64,
    /// L2 penalty on a leaf's intercept (the λ of the Newton step).
    pub lambda: f64,
    /// L2 penalty on a leaf's wait-term weights.
    pub lambda_slope: f64,
    /// Whether leaves change the wait terms' weights (else they only shift the intercept).
    pub slopes: bool,
    /// Histogram bins per feature.
    pub bins: usize,
    /// Stop after this many trees without a better validation log-loss.
    pub patience: usize,
    /// Least hessian on each side of a split (about that many rows at p = 0.5, times 4).
    pub min_hessian: f64,
}

impl Default for BoostOptions {
    fn default() -> Self {
        BoostOptions {
            rounds: 32,
            depth: 4,
            shrinkage: 0.1,
            lambda: 1.0,
            lambda_slope: 10.0,
            slopes: true,
            bins: 32,
            patience: 10,
            min_hessian: 5.0,
        }
    }
}

/// One training or validation row: decision-time features, base margin, label.
#[derive(Debug, Clone, Copy)]
pub struct BoostRow<'a> {
    /// Decision-time features.
    pub d: &'a DecisionFeatures,
    /// The base model's logit for the row.
    pub margin: f64,
    /// The row's wait terms: `log_elapsed` and `log_delay` at the attempt.
    pub waits: [f64; 2],
    /// The attempt succeeded.
    pub y: bool,
}

/// Split points per feature: a row is in bin `b` when `b` cut points lie below its value, so
/// "bin > j" is exactly "value > cuts[j]", the core's test.
fn cuts_of(rows: &[BoostRow<'_>], f: usize, bins: usize) -> Vec<f64> {
    let mut v: Vec<f64> = rows.iter().map(|r| r.d[f]).collect();
    v.sort_by(f64::total_cmp);
    let mut uniq = v.clone();
    uniq.dedup();
    let mut cuts: Vec<f64> = if uniq.len() <= bins {
        uniq.windows(2).map(|w| 0.5 * (w[0] + w[1])).collect()
    } else {
        (1..bins).map(|k| v[k * v.len() / bins]).collect()
    };
    cuts.dedup();
    // A cut at the largest value separates nothing.
    if let Some(&max) = uniq.last() {
        cuts.retain(|&c| c < max);
    }
    cuts
}

fn bin_of(cuts: &[f64], x: f64) -> u8 {
    cuts.partition_point(|&c| x > c) as u8
}

fn log_loss(margins: impl Iterator<Item = (f64, bool)>) -> f64 {
    let (mut sum, mut n) = (0.0, 0usize);
    for (z, y) in margins {
        let p = sigmoid(z).clamp(1e-12, 1.0 - 1e-12);
        sum -= if y { p.ln() } else { (1.0 - p).ln() };
        n += 1;
    }
    sum / n.max(1) as f64
}

/// A leaf's sufficient statistics: the gradient along (1, u, v) and the hessian's upper
/// triangle (11, 1u, 1v, uu, uv, vv).
type Stats = [f64; 9];

fn add(a: &mut Stats, b: &Stats) {
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
}

fn sub(a: &Stats, b: &Stats) -> Stats {
    let mut c = *a;
    for (x, y) in c.iter_mut().zip(b) {
        *x -= y;
    }
    c
}

fn stats(g: f64, h: f64, w: [f64; 2]) -> Stats {
    let [u, v] = w;
    [
        g,
        g * u,
        g * v,
        h,
        h * u,
        h * v,
        h * u * u,
        h * u * v,
        h * v * v,
    ]
}

/// The Newton step of a leaf (θ = −(H + Λ)⁻¹ G) and its gain (Gᵀ (H + Λ)⁻¹ G).
fn newton(s: &Stats, o: &BoostOptions) -> (Leaf, f64) {
    let l0 = o.lambda;
    if !o.slopes {
        let t = -s[0] / (s[3] + l0);
        return ([t, 0.0, 0.0], s[0] * s[0] / (s[3] + l0));
    }
    let ls = o.lambda_slope;
    let a = [
        [s[3] + l0, s[4], s[5]],
        [s[4], s[6] + ls, s[7]],
        [s[5], s[7], s[8] + ls],
    ];
    let g = [s[0], s[1], s[2]];
    let det = a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1])
        - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0])
        + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
    if !(det.is_finite() && det > 1e-12) {
        return ([0.0; 3], 0.0);
    }
    // Cramer's rule: x = A⁻¹ g.
    let col = |k: usize| {
        let mut m = a;
        for r in 0..3 {
            m[r][k] = g[r];
        }
        (m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]))
            / det
    };
    let x = [col(0), col(1), col(2)];
    let gain = g[0] * x[0] + g[1] * x[1] + g[2] * x[2];
    ([-x[0], -x[1], -x[2]], gain.max(0.0))
}

/// Grow one oblivious tree on per-row statistics; None when no split gains.
fn grow(
    bins: &[Vec<u8>],
    cuts: &[Vec<f64>],
    rows: &[Stats],
    o: &BoostOptions,
) -> Option<(Tree, Vec<usize>)> {
    let n = rows.len();
    let mut leaf = vec![0usize; n];
    let (mut features, mut thresholds) = (Vec::new(), Vec::new());
    let score = |s: &Stats| newton(s, o).1;
    for level in 0..o.depth {
        let leaves = 1 << level;
        let mut best: Option<(f64, usize, usize)> = None;
        for (f, fc) in cuts.iter().enumerate() {
            let nb = fc.len() + 1;
            if nb < 2 {
                continue;
            }
            let mut hist = vec![[0.0f64; 9]; leaves * nb];
            for i in 0..n {
                add(&mut hist[leaf[i] * nb + usize::from(bins[f][i])], &rows[i]);
            }
            let totals: Vec<Stats> = (0..leaves)
                .map(|l| {
                    let mut t = [0.0; 9];
                    for c in &hist[l * nb..(l + 1) * nb] {
                        add(&mut t, c);
                    }
                    t
                })
                .collect();
            let parent: f64 = totals.iter().map(score).sum();
            let mut left = vec![[0.0f64; 9]; leaves];
            for j in 0..nb - 1 {
                let (mut gain, mut hl, mut hr) = (-parent, 0.0, 0.0);
                for l in 0..leaves {
                    add(&mut left[l], &hist[l * nb + j]);
                    let right = sub(&totals[l], &left[l]);
                    gain += score(&left[l]) + score(&right);
                    hl += left[l][3];
                    hr += right[3];
                }
                if hl >= o.min_hessian && hr >= o.min_hessian && best.map_or(true, |b| gain > b.0) {
                    best = Some((gain, f, j));
                }
            }
        }
        let Some((gain, f, j)) = best else { break };
        if gain <= 1e-6 {
            break;
        }
        for i in 0..n {
            leaf[i] = 2 * leaf[i] + usize::from(usize::from(bins[f][i]) > j);
        }
        features.push(f);
        thresholds.push(cuts[f][j]);
    }
    if features.is_empty() {
        return None;
    }
    let mut sums = vec![[0.0f64; 9]; 1 << features.len()];
    for i in 0..n {
        add(&mut sums[leaf[i]], &rows[i]);
    }
    let leaves = sums
        .iter()
        .map(|s| {
            let t = newton(s, o).0;
            [
                (t[0] * o.shrinkage).clamp(-MAX_LEAF / 2.0, MAX_LEAF / 2.0),
                (t[1] * o.shrinkage).clamp(-MAX_SLOPE / 2.0, MAX_SLOPE / 2.0),
                (t[2] * o.shrinkage).clamp(-MAX_SLOPE / 2.0, MAX_SLOPE / 2.0),
            ]
        })
        .collect();
    Some((
        Tree {
            features,
            thresholds,
            leaves,
        },
        leaf,
    ))
}

fn eval(t: &Tree, r: &BoostRow<'_>) -> f64 {
    let mut leaf = 0;
    for (&f, &thr) in t.features.iter().zip(&t.thresholds) {
        leaf = 2 * leaf + usize::from(r.d[f] > thr);
    }
    let l = t.leaves[leaf];
    l[0] + l[1] * r.waits[0] + l[2] * r.waits[1]
}

/// Boost from the rows' base margins; trees are added while the validation log-loss improves
/// (stopping `patience` trees after the best, and keeping the trees up to the best). Empty when
/// no tree helps on the validation rows.
pub fn boost(train: &[BoostRow<'_>], valid: &[BoostRow<'_>], o: &BoostOptions) -> Trees {
    if train.is_empty() {
        return Trees::default();
    }
    let cuts: Vec<Vec<f64>> = (0..DECISION.len())
        .map(|f| cuts_of(train, f, o.bins.clamp(2, 255)))
        .collect();
    let bins: Vec<Vec<u8>> = cuts
        .iter()
        .enumerate()
        .map(|(f, c)| train.iter().map(|r| bin_of(c, r.d[f])).collect())
        .collect();
    let mut z: Vec<f64> = train.iter().map(|r| r.margin).collect();
    let mut zv: Vec<f64> = valid.iter().map(|r| r.margin).collect();
    let valid_loss = |zv: &[f64]| log_loss(zv.iter().zip(valid).map(|(&z, r)| (z, r.y)));
    let mut best = (valid_loss(&zv), 0usize);
    let mut trees: Vec<Tree> = Vec::new();
    let mut rows = vec![[0.0; 9]; z.len()];
    for round in 0..o.rounds.min(smartretry::learned::trees::MAX_TREES) {
        for (i, r) in train.iter().enumerate() {
            let p = sigmoid(z[i]);
            let g = p - f64::from(u8::from(r.y));
            rows[i] = stats(g, (p * (1.0 - p)).max(1e-6), r.waits);
        }
        let Some((tree, _)) = grow(&bins, &cuts, &rows, o) else {
            break;
        };
        for (zi, r) in z.iter_mut().zip(train) {
            *zi += eval(&tree, r);
        }
        for (zi, r) in zv.iter_mut().zip(valid) {
            *zi += eval(&tree, r);
        }
        trees.push(tree);
        let loss = valid_loss(&zv);
        if loss < best.0 - 1e-9 {
            best = (loss, round + 1);
        } else if round + 1 - best.1 >= o.patience {
            break;
        }
    }
    trees.truncate(best.1);
    let mean = train
        .iter()
        .map(|r| trees.iter().map(|t| eval(t, r)).sum::<f64>())
        .sum::<f64>()
        / train.len() as f64;
    // Leaves are clamped within MAX_LEAF and features come from DECISION: `new` accepts them.
    Trees::new(&trees, mean).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny deterministic generator (no test depends on a crate's stream).
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// Success is likely when the load is high XOR it is a weekend: no weighting of load and
    /// day alone can express it, two levels of a tree can.
    fn xor_rows(n: usize, seed: u64) -> Vec<(DecisionFeatures, bool)> {
        let mut rng = Lcg(seed);
        (0..n)
            .map(|_| {
                let mut d = [0.0; DECISION.len()];
                d[3] = rng.next() * 8.0; // log queue depth
                d[8] = (rng.next() * 7.0).floor(); // day of week
                let high = d[3] > 4.0;
                let weekend = d[8] >= 5.0;
                let p = if high != weekend { 0.85 } else { 0.15 };
                (d, rng.next() < p)
            })
            .collect()
    }

    #[test]
    fn boosting_fits_an_interaction_a_linear_model_cannot() {
        let train = xor_rows(4000, 1);
        let valid = xor_rows(1000, 2);
        let test = xor_rows(2000, 3);
        // The base margin: the best constant (a linear model does hardly better on XOR).
        let rate = train.iter().filter(|r| r.1).count() as f64 / train.len() as f64;
        let base = (rate / (1.0 - rate)).ln();
        let trees = boost(
            &with_margin(&train, base),
            &with_margin(&valid, base),
            &BoostOptions::default(),
        );
        assert!(!trees.is_empty());
        let loss_const = log_loss(test.iter().map(|(_, y)| (base, *y)));
        let loss_trees = log_loss(
            test.iter()
                .map(|(d, y)| (base + trees.logit(d, 0.0, 0.0), *y)),
        );
        // The truth's own log-loss is H(0.15) = 0.423; the constant's is ln 2 = 0.693.
        assert!(
            loss_trees < 0.47,
            "trees {loss_trees} constant {loss_const}"
        );
        // The best linear model in load and day (fitted by Newton's method on the same rows)
        // stays near the constant's loss.
        let linear = fit_linear(&train);
        let loss_linear = log_loss(test.iter().map(|(d, y)| (linear(d), *y)));
        assert!(loss_linear > 0.6, "linear {loss_linear}");
        assert!(loss_trees < loss_linear - 0.1);
    }

    fn with_margin(v: &[(DecisionFeatures, bool)], margin: f64) -> Vec<BoostRow<'_>> {
        v.iter()
            .map(|(d, y)| BoostRow {
                d,
                margin,
                waits: [0.0; 2],
                y: *y,
            })
            .collect()
    }

    /// Logistic regression on (1, load, day) by Newton's method.
    #[allow(clippy::needless_range_loop)]
    fn fit_linear(rows: &[(DecisionFeatures, bool)]) -> impl Fn(&DecisionFeatures) -> f64 {
        let x = |d: &DecisionFeatures| [1.0, d[3], d[8]];
        let mut w = [0.0f64; 3];
        for _ in 0..25 {
            let mut grad = [0.0; 3];
            let mut hess = [[1e-6; 3]; 3];
            for (d, y) in rows {
                let v = x(d);
                let p = sigmoid(w.iter().zip(&v).map(|(a, b)| a * b).sum());
                for a in 0..3 {
                    grad[a] += (p - f64::from(u8::from(*y))) * v[a];
                    for b in 0..3 {
                        hess[a][b] += p * (1.0 - p) * v[a] * v[b];
                    }
                }
            }
            let step = solve3(hess, grad);
            for a in 0..3 {
                w[a] -= step[a];
            }
        }
        move |d: &DecisionFeatures| w.iter().zip(&x(d)).map(|(a, b)| a * b).sum()
    }

    #[allow(clippy::needless_range_loop)] // Gauss-Jordan reads best with indices.
    fn solve3(mut a: [[f64; 3]; 3], mut b: [f64; 3]) -> [f64; 3] {
        for i in 0..3 {
            let p = a[i][i];
            for j in 0..3 {
                a[i][j] /= p;
            }
            b[i] /= p;
            for k in 0..3 {
                if k != i {
                    let f = a[k][i];
                    for j in 0..3 {
                        a[k][j] -= f * a[i][j];
                    }
                    b[k] -= f * b[i];
                }
            }
        }
        b
    }

    #[test]
    fn nothing_to_learn_gives_no_trees() {
        // Labels independent of every feature: early stopping keeps (almost) nothing.
        let mut rng = Lcg(9);
        let data: Vec<(DecisionFeatures, bool)> = (0..3000)
            .map(|_| {
                let mut d = [0.0; DECISION.len()];
                d[3] = rng.next();
                (d, rng.next() < 0.3)
            })
            .collect();
        let base = (0.3f64 / 0.7).ln();
        let rows = with_margin(&data, base);
        let (tr, va) = rows.split_at(2000);
        let trees = boost(tr, va, &BoostOptions::default());
        assert!(trees.len() <= 3, "{} trees", trees.len());
    }
}
