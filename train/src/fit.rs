//! Fitting: L2-regularised logistic regression by linfa-logistic (L-BFGS), on the core's dense
//! encoding; the core's "bias" feature is linfa's intercept.

use crate::dataset::Row;
use linfa::prelude::*;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2};
use smartretry::learned::{FeatureSchema, LogisticModel};

/// Why a fit failed.
#[derive(Debug)]
pub struct FitError(pub String);

/// Fit on `rows` (both outcomes must occur). Returns the model with the rows' feature means.
pub fn fit(schema: &FeatureSchema, rows: &[&Row], l2: f64) -> Result<LogisticModel, FitError> {
    let n = schema.len();
    let mut x = Array2::<f64>::zeros((rows.len(), n - 1));
    let mut means = vec![0.0; n];
    for (i, r) in rows.iter().enumerate() {
        let v = r.x.to_dense(n);
        for j in 1..n {
            x[[i, j - 1]] = v[j];
        }
        for (m, v) in means.iter_mut().zip(&v) {
            *m += v / rows.len() as f64;
        }
    }
    let y: Array1<bool> = rows.iter().map(|r| r.y).collect();
    let data = Dataset::new(x, y);
    let fitted = LogisticRegression::default()
        .alpha(l2)
        .max_iterations(100)
        .fit(&data)
        .map_err(|e| FitError(e.to_string()))?;
    // linfa orients its probabilities by its own choice of positive class: keep whichever sign
    // predicts the successes (the lower log-loss on the training rows).
    let mut w = Vec::with_capacity(n);
    w.push(fitted.intercept());
    w.extend(fitted.params().iter().copied());
    let loss = |sign: f64| -> f64 {
        rows.iter()
            .map(|r| {
                let v = r.x.to_dense(n);
                let z: f64 = sign * v.iter().zip(&w).map(|(x, w)| x * w).sum::<f64>();
                let p = smartretry::learned::model::sigmoid(z).clamp(1e-12, 1.0 - 1e-12);
                -if r.y { p.ln() } else { (1.0 - p).ln() }
            })
            .sum()
    };
    if loss(-1.0) < loss(1.0) {
        w.iter_mut().for_each(|x| *x = -*x);
    }
    // The shortest wait the model may propose: the 5th percentile of the waits it saw.
    let mut waits: Vec<f64> = rows.iter().map(|r| r.x.dense[2].exp_m1()).collect();
    waits.sort_by(f64::total_cmp);
    let min_wait = waits.get(waits.len() / 20).copied().unwrap_or(0.0);
    LogisticModel::new(schema.clone(), w, means)
        .and_then(|m| m.with_min_wait(min_wait))
        .map_err(|e| FitError(e.to_string()))
}
