//! Calibration and ranking of predicted probabilities: Brier score, log-loss, AUC.

/// Mean squared error of the probabilities.
pub fn brier(p: &[f64], y: &[bool]) -> f64 {
    let n = p.len().max(1) as f64;
    p.iter()
        .zip(y)
        .map(|(p, &y)| (p - f64::from(u8::from(y))).powi(2))
        .sum::<f64>()
        / n
}

/// Mean negative log-likelihood (probabilities clipped to [1e-12, 1 - 1e-12]).
pub fn log_loss(p: &[f64], y: &[bool]) -> f64 {
    let n = p.len().max(1) as f64;
    p.iter()
        .zip(y)
        .map(|(p, &y)| {
            let p = p.clamp(1e-12, 1.0 - 1e-12);
            -if y { p.ln() } else { (1.0 - p).ln() }
        })
        .sum::<f64>()
        / n
}

/// Area under the ROC curve (ties count a half); 0.5 when one class is missing.
pub fn auc(p: &[f64], y: &[bool]) -> f64 {
    let mut idx: Vec<usize> = (0..p.len()).collect();
    idx.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let (mut rank_sum, mut pos) = (0.0, 0.0);
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && p[idx[j + 1]] == p[idx[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            if y[k] {
                rank_sum += rank;
                pos += 1.0;
            }
        }
        i = j + 1;
    }
    let neg = p.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return 0.5;
    }
    (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        let y = [false, false, true, true];
        assert_eq!(auc(&[0.1, 0.4, 0.35, 0.8], &y), 0.75);
        assert_eq!(auc(&[0.1, 0.2, 0.3, 0.4], &y), 1.0);
        assert!((brier(&[0.0, 0.0, 1.0, 1.0], &y)).abs() < 1e-12);
        assert!((log_loss(&[0.5; 4], &y) - 2f64.ln()).abs() < 1e-12);
    }
}
