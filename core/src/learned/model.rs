//! The learned tier's predictor: logistic regression of P(the next attempt succeeds | what is
//! known, the wait d), optionally boosted: an ensemble of small trees over the decision-time
//! features (`trees`) that adjusts, per decision, its intercept and its wait terms' weights,
//! for interactions a linear model cannot express (load by day of week, say). A decision
//! computes the part of the logit that does not depend on d once (the trees included), then
//! prices each candidate wait with a handful of additions and one exponential.

use super::features::{
    DecisionFeatures, Encoded, FeatureInput, FeatureSchema, DENSE, DOW0, TENANT0, TOD0,
};
use super::ln_bound;
use super::trees::Trees;
use crate::error::{Error, Result};
use std::sync::Arc;

/// A trained logistic regression over a feature schema, with a boosted tree ensemble added to its
/// margin when the trainer found that it wins (`trees`; empty: the plain logistic model).
#[derive(Debug, Clone, PartialEq)]
pub struct LogisticModel {
    /// The features the weights belong to.
    pub schema: FeatureSchema,
    /// One weight per feature (the "bias" feature carries the intercept).
    pub weights: Vec<f64>,
    /// Each feature's mean over the training rows: explanations measure a feature's effect as
    /// its weight times its distance from this.
    pub means: Vec<f64>,
    /// Each one-hot group's mean weight (for explanations).
    group_mean: [f64; 4],
    /// The shortest wait the model may propose, seconds: the trainer sets it to the short end
    /// of the waits in its data, so the model never extrapolates to waits it has no evidence
    /// about (a model asked about a 10 ms wait it never saw may well call it as good as any).
    pub min_wait: f64,
    /// The boosted trees over the decision-time features (empty: none).
    pub trees: Trees,
}

/// One feature's push on a decision's logit (positive: towards success).
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureEffect {
    /// The feature's name (`log_queue_depth`, `time_of_day=02:15`, ...).
    pub name: Arc<str>,
    /// Its contribution to the logit, relative to the training mean.
    pub effect: f64,
}

/// Logistic function, guarded against overflow.
#[inline]
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

impl LogisticModel {
    /// A model from its parts, checked: one weight and one mean per feature, all finite.
    pub fn new(schema: FeatureSchema, weights: Vec<f64>, means: Vec<f64>) -> Result<Self> {
        if weights.len() != schema.len() || means.len() != schema.len() {
            return Err(Error::InvalidModel(format!(
                "{} features but {} weights and {} means",
                schema.len(),
                weights.len(),
                means.len()
            )));
        }
        if let Some(i) = weights
            .iter()
            .chain(&means)
            .position(|w| !w.is_finite() || w.abs() > 1e6)
        {
            return Err(Error::InvalidModel(format!(
                "value {i} is not a finite number of sensible size"
            )));
        }
        let group_mean = group_means(&schema, &weights, &means);
        Ok(LogisticModel {
            schema,
            weights,
            means,
            group_mean,
            min_wait: super::choose::MIN_WAIT,
            trees: Trees::default(),
        })
    }

    /// This model with a shortest wait (at least `choose::MIN_WAIT`; a non-finite value is
    /// refused).
    pub fn with_min_wait(mut self, min_wait: f64) -> Result<Self> {
        if !(min_wait.is_finite() && (0.0..=86_400.0).contains(&min_wait)) {
            return Err(Error::InvalidModel(format!(
                "min_wait {min_wait} is out of range"
            )));
        }
        self.min_wait = min_wait.max(super::choose::MIN_WAIT);
        Ok(self)
    }

    /// This model with a tree ensemble added to its margin (checked by `Trees::new`).
    pub fn with_trees(mut self, trees: Trees) -> Self {
        self.trees = trees;
        self
    }

    /// Whether the model is boosted (has trees).
    pub fn is_boosted(&self) -> bool {
        !self.trees.is_empty()
    }

    /// The full logit (linear part and trees) of an encoded attempt and its decision-time
    /// features (`FeatureSchema::decision`).
    #[inline]
    pub fn margin(&self, e: &Encoded, d: &DecisionFeatures) -> f64 {
        self.logit(e) + self.tree_logit(e, d)
    }

    /// The trees' part of an encoded attempt's logit.
    #[inline]
    fn tree_logit(&self, e: &Encoded, d: &DecisionFeatures) -> f64 {
        if self.trees.is_empty() {
            0.0
        } else {
            self.trees.logit(d, e.dense[1], e.dense[2])
        }
    }

    /// The linear part of the logit of an encoded attempt (the whole logit of an unboosted
    /// model; the trainer's base margin when boosting).
    #[inline]
    pub fn logit(&self, e: &Encoded) -> f64 {
        let w = &self.weights;
        let mut z = 0.0;
        for (i, x) in e.dense.iter().enumerate() {
            z += w[i] * x;
        }
        for &h in &e.hot {
            if let Some(wh) = w.get(h) {
                z += wh;
            }
        }
        z
    }

    /// P(success) of an attempt.
    pub fn predict(&self, x: &FeatureInput<'_>) -> f64 {
        let e = self.schema.encode(x);
        let tree = self.tree_logit(&e, &self.schema.decision_of(&e, x));
        sigmoid(self.logit(&e) + tree)
    }

    /// The part of the logit that does not depend on the wait (features 3.. of the dense ones,
    /// the tenant and worker one-hots, and the trees, evaluated once), for `Scorer`. `x` is an
    /// attempt's input; a decision's has `delay` 0.
    pub(crate) fn scorer(&self, x: &FeatureInput<'_>) -> Scorer<'_> {
        // Neither the sum nor the trees' decision features read the wait-dependent features.
        let e = self.schema.encode_context(x);
        let w = &self.weights;
        let mut fixed = w[0];
        fixed += w[3..DENSE.len()]
            .iter()
            .zip(&e.dense[3..])
            .map(|(w, x)| w * x)
            .sum::<f64>();
        for &h in &e.hot[2..] {
            if let Some(wh) = w.get(h) {
                fixed += wh;
            }
        }
        let mut tree = [0.0; 3];
        if !self.trees.is_empty() {
            tree = self.trees.eval(&self.schema.decision_of(&e, x));
            fixed += tree[0];
        }
        Scorer {
            model: self,
            fixed,
            w_elapsed: w[1] + tree[1],
            w_delay: w[2] + tree[2],
        }
    }

    /// The features that moved an attempt's logit most, largest first (at most `n`). A dense
    /// feature's effect is its weight times its distance from the training mean; a one-hot
    /// group's (time of day, day of week, tenant, worker) is the active value's weight minus the
    /// group's mean weight, so an explanation costs a dozen terms, not one per feature. The trees
    /// of a boosted model are one effect, `trees`: their sum minus its training mean.
    pub fn top_effects(&self, x: &FeatureInput<'_>, n: usize) -> Vec<FeatureEffect> {
        let e = self.schema.encode(x);
        let w = &self.weights;
        // At most a dozen candidates (the dense features and four one-hot groups): kept on the
        // stack and sorted in place, so an explanation allocates only its answer.
        let mut effects = [(0usize, 0.0f64); DENSE.len() - 1 + 4 + 1];
        let mut len = 0;
        let candidates = (1..DENSE.len())
            .map(|i| (i, w[i] * (e.dense[i] - self.means[i])))
            .chain(
                e.hot
                    .iter()
                    .enumerate()
                    .filter_map(|(g, &h)| w.get(h).map(|wh| (h, wh - self.group_mean[g]))),
            );
        let trees = (!self.trees.is_empty()).then(|| {
            let t = self.tree_logit(&e, &self.schema.decision_of(&e, x));
            (TREES, t - self.trees.mean)
        });
        for (i, eff) in candidates.chain(trees) {
            if eff.abs() > 1e-9 {
                effects[len] = (i, eff);
                len += 1;
            }
        }
        let effects = &mut effects[..len];
        effects.sort_unstable_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then(a.0.cmp(&b.0)));
        effects
            .iter()
            .take(n)
            .map(|&(i, effect)| FeatureEffect {
                name: if i == TREES {
                    Arc::from("trees")
                } else {
                    self.schema.names[i].clone()
                },
                effect,
            })
            .collect()
    }
}

/// The index `top_effects` gives the trees' effect (no feature has it).
const TREES: usize = usize::MAX;

/// Each one-hot group's mean weight under the training means (time of day, day of week,
/// tenant, worker version).
fn group_means(schema: &FeatureSchema, weights: &[f64], means: &[f64]) -> [f64; 4] {
    let t1 = TENANT0 + schema.tenants.len();
    let ranges = [TOD0..DOW0, DOW0..TENANT0, TENANT0..t1, t1..schema.len()];
    ranges.map(|r| r.map(|i| weights[i] * means[i]).sum())
}

/// A decision's view of the model: the wait-independent logit, precomputed.
pub(crate) struct Scorer<'a> {
    model: &'a LogisticModel,
    fixed: f64,
    w_elapsed: f64,
    w_delay: f64,
}

impl Scorer<'_> {
    /// P(success) of an attempt `delay` seconds from now, at `elapsed` since the first failure,
    /// landing in time-of-day bin index `tod` and day-of-week index `dow` (feature indices).
    #[inline]
    pub fn p(&self, elapsed: f64, delay: f64, tod: usize, dow: usize) -> f64 {
        let w = &self.model.weights;
        let z = self.fixed
            + self.w_elapsed * elapsed.max(0.0).ln_1p()
            + self.w_delay * delay.max(0.0).ln_1p()
            + w[tod]
            + w[dow];
        sigmoid(z)
    }

    /// At least the largest value the wait-dependent part of the logit takes for waits in
    /// [lo, hi], at `elapsed` since the first failure: each term is monotone in the wait, so an
    /// end wins, and its logarithm is bounded on the side the term's sign needs (`ln_bound`, a
    /// fraction of `ln_1p`'s cost, within 0.0005).
    pub fn wait_terms_max(&self, elapsed: f64, lo: f64, hi: f64) -> f64 {
        let term = |w: f64, a: f64, b: f64| {
            w * if w >= 0.0 {
                ln_bound::upper(b)
            } else {
                ln_bound::lower(a)
            }
        };
        term(self.w_elapsed, elapsed + lo, elapsed + hi) + term(self.w_delay, lo, hi)
    }

    /// An upper bound on `p` for any wait in [lo, hi] landing in bins `tod` and `dow`, given
    /// `wait_terms_max` for that range: a wait whose bound already prices it above the best
    /// cost found need not be priced exactly. The margin absorbs rounding in the sum's order.
    #[inline]
    pub fn p_bound(&self, wait_terms_max: f64, tod: usize, dow: usize) -> f64 {
        let w = &self.model.weights;
        sigmoid(self.fixed + wait_terms_max + w[tod] + w[dow] + 1e-9)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learned::features::tod_bin;

    #[test]
    fn scorer_agrees_with_the_full_model() {
        let schema = FeatureSchema::new(vec!["a".into()], vec![]);
        let n = schema.len();
        let weights: Vec<f64> = (0..n)
            .map(|i| ((i * 37) % 11) as f64 / 10.0 - 0.5)
            .collect();
        let m = LogisticModel::new(schema, weights, vec![0.0; n]).unwrap();
        let x = FeatureInput {
            elapsed: 42.0,
            delay: 7.0,
            attempt: 3,
            second_of_day: 7300.0,
            day_of_week: 2,
            queue_depth: Some(120),
            tenant: Some("a"),
            ..Default::default()
        };
        let s = m.scorer(&x);
        let p = s.p(42.0, 7.0, TOD0 + tod_bin(7300.0), DOW0 + 2);
        assert!((p - m.predict(&x)).abs() < 1e-12);
        assert_eq!(m.top_effects(&x, 3).len(), 3);
    }

    #[test]
    fn trees_shift_the_scorer_and_the_prediction_alike() {
        use crate::learned::trees::{Tree, Trees};
        let schema = FeatureSchema::new(vec![], vec![]);
        let n = schema.len();
        let mut w = vec![0.0; n];
        w[0] = -1.0;
        w[2] = 0.1;
        // Deep queues on Mondays (at the decision) fail more.
        let tree = Tree {
            features: vec![3, 8],
            thresholds: vec![4.0, 0.5],
            leaves: vec![[0.0; 3], [0.0; 3], [-2.5, 0.0, 0.0], [0.0; 3]],
        };
        let m = LogisticModel::new(schema, w, vec![0.0; n])
            .unwrap()
            .with_trees(Trees::new(&[tree], -0.5).unwrap());
        assert!(m.is_boosted());
        // Decided Monday 23:59 with a 2-minute wait: the attempt lands on Tuesday 00:01.
        let at = FeatureInput {
            elapsed: 130.0,
            delay: 120.0,
            attempt: 2,
            second_of_day: 60.0,
            day_of_week: 1,
            queue_depth: Some(500),
            ..Default::default()
        };
        let p = m.predict(&at);
        let linear = sigmoid(m.logit(&m.schema.encode(&at)));
        assert!(
            (sigmoid(logit_of(linear) - 2.5) - p).abs() < 1e-12,
            "{p} {linear}"
        );
        let s = m.scorer(&at);
        let q = s.p(130.0, 120.0, TOD0, DOW0 + 1);
        assert!((p - q).abs() < 1e-12);
        let top = m.top_effects(&at, 1);
        assert_eq!(&*top[0].name, "trees");
        assert!((top[0].effect + 2.0).abs() < 1e-12);
    }

    fn logit_of(p: f64) -> f64 {
        (p / (1.0 - p)).ln()
    }

    #[test]
    fn bad_weights_are_an_invalid_model() {
        let schema = FeatureSchema::new(vec![], vec![]);
        let n = schema.len();
        let mut w = vec![0.0; n];
        w[3] = f64::NAN;
        assert!(matches!(
            LogisticModel::new(schema.clone(), w, vec![0.0; n]),
            Err(Error::InvalidModel(_))
        ));
        assert!(LogisticModel::new(schema, vec![0.0; 3], vec![0.0; n]).is_err());
    }
}
