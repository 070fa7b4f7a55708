//! A model's interval-censored observations ("recovered somewhere in buckets `from..=to`", with a
//! decayed weight), kept as two lists, spans and weights: 10 bytes an observation where a list of
//! `Interval`s takes 16 (a model holds up to `MAX_INTERVALS` of them for life). Full, the lightest
//! is folded into its nearest neighbour.

use super::hazard::{Interval, MAX_INTERVALS};

#[derive(Debug, Clone, Default)]
pub(crate) struct Intervals {
    spans: Vec<[u8; 2]>,
    weights: Vec<f64>,
}

impl Intervals {
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Each observation, in storage order.
    pub fn iter(&self) -> impl Iterator<Item = Interval> + '_ {
        self.spans
            .iter()
            .zip(&self.weights)
            .map(|(&[from, to], &weight)| Interval { from, to, weight })
    }

    /// Divide every weight by `w` (rescaling the decay).
    pub fn divide(&mut self, w: f64) {
        self.weights.iter_mut().for_each(|v| *v /= w);
    }

    /// Add `weight` to the observation `from..=to`, folding the lightest one away when full.
    pub fn add(&mut self, from: u8, to: u8, weight: f64) {
        if let Some(i) = self.spans.iter().position(|s| *s == [from, to]) {
            self.weights[i] += weight;
            return;
        }
        if self.len() >= MAX_INTERVALS {
            // Full: fold the lightest interval into its nearest neighbour (the union of the two),
            // keeping its weight and losing only some precision about where recovery was.
            let lightest = self
                .weights
                .iter()
                .enumerate()
                .min_by(|a, b| a.1.total_cmp(b.1))
                .map(|(i, _)| i);
            if let Some(idx) = lightest {
                let [gf, gt] = self.spans.swap_remove(idx);
                let gone_weight = self.weights.swap_remove(idx);
                let distance = |s: &[u8; 2]| s[0].abs_diff(gf) + s[1].abs_diff(gt);
                let near = self
                    .spans
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, s)| distance(s))
                    .map(|(i, _)| i);
                if let Some(n) = near {
                    let s = &mut self.spans[n];
                    *s = [s[0].min(gf), s[1].max(gt)];
                    self.weights[n] += gone_weight;
                }
            }
        }
        if self.spans.len() == self.spans.capacity() {
            // Grow to the cap exactly, not past it.
            let want = (self.len() * 2).clamp(4, MAX_INTERVALS);
            let more = want.saturating_sub(self.len()).max(1);
            self.spans.reserve_exact(more);
            self.weights.reserve_exact(more);
        }
        self.spans.push([from, to]);
        self.weights.push(weight);
    }
}
