//! The tree part of a boosted model: an ensemble of small oblivious regression trees over the
//! decision-time features (`features::DECISION`). Each leaf holds three numbers added to the
//! logistic model: to its intercept, and to the weights of its two wait terms (`log_elapsed`
//! and `log_delay` at the attempt). So the trees shift the logit *and* how steeply it moves
//! with the wait, per decision: how fast recovery comes can depend on load and day, which a
//! shift alone cannot say (a varying-coefficient model). The trees read nothing that depends
//! on the wait, so a decision evaluates them once, and every candidate wait is still priced by
//! the logistic model's few additions and one exponential; `choose`'s pruning bound stays exact
//! (each wait term is still one weight times a monotone function of the wait).
//!
//! Oblivious (every node of a level splits on the same feature and threshold, as CatBoost's
//! trees): a tree of depth k is k comparisons that build the leaf's index, with no dependent
//! loads, so a hundred trees cost a few hundred nanoseconds at most; and a level's split is
//! chosen for all its nodes at once, which keeps the small trees from fitting noise.
//! Training is in `smartretry-train`; this module only evaluates and checks.

use super::features::{DecisionFeatures, DECISION};
use crate::error::{Error, Result};

/// Most trees in a model (the trainer stops far earlier).
pub const MAX_TREES: usize = 256;
/// Deepest tree.
pub const MAX_DEPTH: usize = 6;
/// Largest leaf value, in logits: a leaf beyond it is not a model of ours.
pub const MAX_LEAF: f64 = 20.0;
/// Largest change a leaf makes to a wait term's weight.
pub const MAX_SLOPE: f64 = 10.0;

/// What a leaf (or a whole ensemble) adds: to the intercept, to the `log_elapsed` weight, to the
/// `log_delay` weight.
pub type Leaf = [f64; 3];

/// One oblivious tree: level `i` sends a row right when `x[features[i]] > thresholds[i]`; the
/// leaf's index is the levels' right-turns read as a binary number, first level first.
#[derive(Debug, Clone, PartialEq)]
pub struct Tree {
    /// Feature index (into `DECISION`) per level.
    pub features: Vec<usize>,
    /// Threshold per level.
    pub thresholds: Vec<f64>,
    /// `2^depth` leaves: intercept, `log_elapsed` and `log_delay` weight changes (shrinkage
    /// included).
    pub leaves: Vec<Leaf>,
}

/// One level of a packed tree. The feature index is below 16, so reading it from a 16-wide
/// array needs no bounds check.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Split {
    feature: usize,
    threshold: f64,
}

/// Width of the padded feature array `eval` reads (at least `DECISION.len()`, a power of two).
const WIDTH: usize = 16;

/// A checked ensemble. For evaluation every tree is padded to the deepest one's depth (a level
/// whose threshold is +∞ sends every row left, and the tree's leaves are spread accordingly), so
/// that each tree is the same fixed number of comparisons, unrolled, with no branch.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Trees {
    /// The trees as given (for the model file).
    given: Vec<Tree>,
    /// Every packed tree's depth.
    depth: usize,
    /// `depth` levels per tree.
    splits: Vec<Split>,
    /// `2^depth` leaves per tree.
    leaves: Vec<Leaf>,
    /// The ensemble's mean contribution to the logit over the training rows: explanations report the trees' push
    /// on a decision relative to it.
    pub mean: f64,
}

fn invalid(msg: String) -> Error {
    Error::InvalidModel(msg)
}

impl Trees {
    /// An ensemble from its trees, checked: at most `MAX_TREES`, each at most `MAX_DEPTH` deep
    /// with one feature and threshold per level and `2^depth` leaves, feature indices in range,
    /// every number finite, leaves within `MAX_LEAF`.
    pub fn new(trees: &[Tree], mean: f64) -> Result<Trees> {
        if trees.len() > MAX_TREES {
            return Err(invalid(format!(
                "{} trees (at most {MAX_TREES})",
                trees.len()
            )));
        }
        if !(mean.is_finite() && mean.abs() <= MAX_LEAF * MAX_TREES as f64) {
            return Err(invalid(format!("tree mean {mean} is out of range")));
        }
        let mut out = Trees {
            mean,
            ..Trees::default()
        };
        for (i, t) in trees.iter().enumerate() {
            let depth = t.features.len();
            if depth > MAX_DEPTH || t.thresholds.len() != depth || t.leaves.len() != 1 << depth {
                return Err(invalid(format!(
                    "tree {i}: {depth} levels, {} thresholds, {} leaves (at most {MAX_DEPTH} levels, one threshold each, 2^levels leaves)",
                    t.thresholds.len(),
                    t.leaves.len()
                )));
            }
            if let Some(f) = t.features.iter().find(|&&f| f >= DECISION.len()) {
                return Err(invalid(format!(
                    "tree {i}: feature index {f} is out of range (0..{})",
                    DECISION.len()
                )));
            }
            let leaf_ok = |l: &Leaf| {
                l.iter().all(|v| v.is_finite())
                    && l[0].abs() <= MAX_LEAF
                    && l[1].abs() <= MAX_SLOPE
                    && l[2].abs() <= MAX_SLOPE
            };
            if t.thresholds.iter().any(|v| !v.is_finite()) || !t.leaves.iter().all(leaf_ok) {
                return Err(invalid(format!(
                    "tree {i}: a threshold or leaf is not a finite number of sensible size"
                )));
            }
            out.given.push(t.clone());
        }
        out.depth = trees.iter().map(|t| t.features.len()).max().unwrap_or(0);
        for t in trees {
            let pad = out.depth - t.features.len();
            let levels = t.features.iter().zip(&t.thresholds);
            out.splits
                .extend(levels.map(|(&feature, &threshold)| Split { feature, threshold }));
            out.splits.extend((0..pad).map(|_| Split {
                feature: 0,
                threshold: f64::INFINITY,
            }));
            // Padded levels append left turns (zero bits) to the leaf's index.
            let start = out.leaves.len();
            out.leaves.resize(start + (1 << out.depth), [0.0; 3]);
            for (i, l) in t.leaves.iter().enumerate() {
                out.leaves[start + (i << pad)] = *l;
            }
        }
        debug_assert!(DECISION.len() <= WIDTH);
        Ok(out)
    }

    /// The trees, as `new` takes them (for the model file).
    pub fn trees(&self) -> Vec<Tree> {
        self.given.clone()
    }

    /// Number of trees.
    pub fn len(&self) -> usize {
        self.given.len()
    }

    /// Whether there are none (a plain logistic model).
    pub fn is_empty(&self) -> bool {
        self.given.is_empty()
    }

    /// The ensemble's output for decision-time features: what it adds to the intercept and to
    /// the two wait terms' weights.
    #[inline]
    pub fn eval(&self, x: &DecisionFeatures) -> Leaf {
        let mut xs = [0.0; WIDTH];
        xs[..DECISION.len()].copy_from_slice(x);
        match self.depth {
            1 => self.eval_at::<1>(&xs),
            2 => self.eval_at::<2>(&xs),
            3 => self.eval_at::<3>(&xs),
            4 => self.eval_at::<4>(&xs),
            5 => self.eval_at::<5>(&xs),
            6 => self.eval_at::<6>(&xs),
            _ => [0.0; 3],
        }
    }

    /// `eval` for packed trees of depth `D`: a fixed number of comparisons per tree.
    #[inline]
    fn eval_at<const D: usize>(&self, xs: &[f64; WIDTH]) -> Leaf {
        let mut sum = [0.0; 3];
        let trees = self
            .splits
            .chunks_exact(D)
            .zip(self.leaves.chunks_exact(1 << D));
        for (splits, leaves) in trees {
            let mut leaf = 0usize;
            for s in splits {
                // `new` checked every index against DECISION's length (< WIDTH).
                leaf = 2 * leaf + usize::from(xs[s.feature % WIDTH] > s.threshold);
            }
            if let Some(l) = leaves.get(leaf) {
                sum[0] += l[0];
                sum[1] += l[1];
                sum[2] += l[2];
            }
        }
        sum
    }

    /// The ensemble's contribution to an attempt's logit, given its wait terms' values
    /// (`log_elapsed`, `log_delay`).
    #[inline]
    pub fn logit(&self, x: &DecisionFeatures, log_elapsed: f64, log_delay: f64) -> f64 {
        let t = self.eval(x);
        t[0] + t[1] * log_elapsed + t[2] * log_delay
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stump(f: usize, thr: f64, lo: f64, hi: f64) -> Tree {
        Tree {
            features: vec![f],
            thresholds: vec![thr],
            leaves: vec![[lo, 0.0, 0.0], [hi, 0.0, 0.0]],
        }
    }

    #[test]
    fn evaluates_levels_as_a_binary_index() {
        let two = Tree {
            features: vec![3, 8],
            thresholds: vec![4.0, 4.5],
            leaves: vec![
                [0.1, 0.0, 0.0],
                [0.2, 0.0, 0.0],
                [0.3, 0.5, -0.25],
                [0.4, 0.0, 0.0],
            ],
        };
        let t = Trees::new(&[two, stump(0, 1.0, -1.0, 1.0)], 0.0).unwrap();
        let mut x = [0.0; DECISION.len()];
        assert!((t.eval(&x)[0] - (0.1 - 1.0)).abs() < 1e-12);
        x[3] = 5.0;
        x[0] = 2.0;
        assert!((t.eval(&x)[0] - (0.3 + 1.0)).abs() < 1e-12);
        assert!((t.logit(&x, 2.0, 4.0) - (1.3 + 1.0 - 1.0)).abs() < 1e-12);
        x[8] = 5.0;
        assert!((t.eval(&x)[0] - (0.4 + 1.0)).abs() < 1e-12);
        assert_eq!(Trees::new(&t.trees(), 0.0).unwrap(), t);
    }

    #[test]
    fn malformed_trees_are_an_invalid_model() {
        let bad = [
            stump(DECISION.len(), 1.0, 0.0, 0.0),
            stump(0, f64::NAN, 0.0, 0.0),
            stump(0, 1.0, 0.0, MAX_LEAF * 2.0),
            Tree {
                features: vec![0],
                thresholds: vec![0.0],
                leaves: vec![[0.0; 3], [0.0, MAX_SLOPE * 2.0, 0.0]],
            },
            Tree {
                features: vec![0],
                thresholds: vec![0.0],
                leaves: vec![[0.0; 3], [0.0, 0.0, f64::NAN]],
            },
            Tree {
                features: vec![0, 1],
                thresholds: vec![0.0, 0.0],
                leaves: vec![[0.0; 3]; 3],
            },
            Tree {
                features: vec![0; MAX_DEPTH + 1],
                thresholds: vec![0.0; MAX_DEPTH + 1],
                leaves: vec![[0.0; 3]; 1 << (MAX_DEPTH + 1)],
            },
        ];
        for t in bad {
            let err = Trees::new(std::slice::from_ref(&t), 0.0).unwrap_err();
            assert_eq!(err.code(), "INVALID_MODEL", "{t:?}");
        }
        let many = vec![stump(0, 0.0, 0.0, 0.0); MAX_TREES + 1];
        assert!(Trees::new(&many, 0.0).is_err());
        assert!(Trees::new(&[], f64::INFINITY).is_err());
    }
}
