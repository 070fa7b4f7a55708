//! Feature extraction: one function turns what is known about an attempt into the model's inputs,
//! used both by the trainer (from history records) and by the engine (at decision time), so the
//! two cannot drift apart.
//!
//! Layout (feature set 1): a few dense numeric features, then one-hot groups (time of day in
//! 5-minute bins and day of week, both *at the attempt*; the tenants and worker versions the
//! model was trained on). Time of day is binned, not a sine: maintenance windows and load peaks
//! have edges, and a 5-minute bin puts a boundary where the window ends.

use std::sync::Arc;

/// The feature set this build reads and writes.
pub const FEATURE_SET: u32 = 1;
/// Width of one time-of-day bin, seconds.
pub const TOD_BIN_SECS: f64 = 300.0;
/// Time-of-day bins per day.
pub const TOD_BINS: usize = 288;
/// Dense features, in order.
pub const DENSE: [&str; 9] = [
    "bias",
    "log_elapsed",
    "log_delay",
    "log_attempt",
    "log_payload_size",
    "log_queue_depth",
    "log_latency_ms",
    "recent_failure_rate",
    "similar_success_rate",
];
/// Index of the first time-of-day bin.
pub const TOD0: usize = DENSE.len();
/// Index of the first day-of-week feature.
pub const DOW0: usize = TOD0 + TOD_BINS;
/// Index of the first tenant feature.
pub const TENANT0: usize = DOW0 + 7;
const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// What is known about one attempt, before encoding.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FeatureInput<'a> {
    /// Seconds since the episode's first failure, at the attempt.
    pub elapsed: f64,
    /// Seconds waited before the attempt.
    pub delay: f64,
    /// The attempt's number (2 = the first retry).
    pub attempt: u32,
    /// Seconds since midnight UTC, at the attempt.
    pub second_of_day: f64,
    /// Day of week at the attempt, 0 = Monday.
    pub day_of_week: u8,
    /// Payload size, bytes.
    pub payload_size: Option<u64>,
    /// Jobs waiting in the queue.
    pub queue_depth: Option<u64>,
    /// The dependency's latency, milliseconds.
    pub latency_ms: Option<f64>,
    /// The tenant.
    pub tenant: Option<&'a str>,
    /// The worker's version.
    pub worker_version: Option<&'a str>,
    /// Recent share of failed attempts on this queue (0..1).
    pub recent_failure_rate: f64,
    /// Recent share of this queue's episodes that ended in success (0..1).
    pub similar_success_rate: f64,
}

/// The names of a model's features and the vocabularies of its categorical ones.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureSchema {
    /// Every feature's name, in weight order.
    pub names: Vec<Arc<str>>,
    /// Tenants with their own feature.
    pub tenants: Vec<String>,
    /// Worker versions with their own feature.
    pub workers: Vec<String>,
}

fn ln1p(x: f64) -> f64 {
    x.max(0.0).ln_1p()
}

/// The time-of-day bin of a second of the day.
pub fn tod_bin(second_of_day: f64) -> usize {
    ((second_of_day / TOD_BIN_SECS).floor().max(0.0) as usize).min(TOD_BINS - 1)
}

impl FeatureSchema {
    /// The schema for these vocabularies (feature set 1).
    pub fn new(tenants: Vec<String>, workers: Vec<String>) -> FeatureSchema {
        let mut names: Vec<Arc<str>> = DENSE.iter().map(|n| Arc::from(*n)).collect();
        for b in 0..TOD_BINS {
            let m = b * 5;
            names.push(Arc::from(format!(
                "time_of_day={:02}:{:02}",
                m / 60,
                m % 60
            )));
        }
        for d in DAYS {
            names.push(Arc::from(format!("day_of_week={d}")));
        }
        for t in &tenants {
            names.push(Arc::from(format!("tenant={t}")));
        }
        for w in &workers {
            names.push(Arc::from(format!("worker_version={w}")));
        }
        FeatureSchema {
            names,
            tenants,
            workers,
        }
    }

    /// Number of features (weights).
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there are no features (never, for a built schema).
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Dense values (indices 0..DENSE.len()) and the active one-hot indices of an input.
    pub fn encode(&self, x: &FeatureInput<'_>) -> Encoded {
        let mut e = Encoded {
            dense: [0.0; DENSE.len()],
            hot: [usize::MAX; 4],
        };
        e.dense[0] = 1.0;
        e.dense[1] = ln1p(x.elapsed);
        e.dense[2] = ln1p(x.delay);
        e.dense[3] = f64::from(x.attempt.max(1)).ln();
        e.dense[4] = x.payload_size.map_or(0.0, |p| ln1p(p as f64));
        e.dense[5] = x.queue_depth.map_or(0.0, |q| ln1p(q as f64));
        e.dense[6] = x.latency_ms.map_or(0.0, ln1p);
        e.dense[7] = x.recent_failure_rate.clamp(0.0, 1.0);
        e.dense[8] = x.similar_success_rate.clamp(0.0, 1.0);
        e.hot[0] = TOD0 + tod_bin(x.second_of_day);
        e.hot[1] = DOW0 + usize::from(x.day_of_week.min(6));
        e.hot[2] = self.tenant_index(x.tenant).unwrap_or(usize::MAX);
        e.hot[3] = self.worker_index(x.worker_version).unwrap_or(usize::MAX);
        e
    }

    /// `encode` without the features that depend on the wait (`log_elapsed`, `log_delay`: 0;
    /// time of day and day of week: none), for a decision's wait-independent logit, which
    /// prices its waits with their own: two logarithms and a rounding fewer. The same lines as
    /// `encode` (a test holds them to it): `encode` built on this costs `predict` a few
    /// nanoseconds (one encoding completed from another, not written in place).
    pub(crate) fn encode_context(&self, x: &FeatureInput<'_>) -> Encoded {
        let mut e = Encoded {
            dense: [0.0; DENSE.len()],
            hot: [usize::MAX; 4],
        };
        e.dense[0] = 1.0;
        e.dense[3] = f64::from(x.attempt.max(1)).ln();
        e.dense[4] = x.payload_size.map_or(0.0, |p| ln1p(p as f64));
        e.dense[5] = x.queue_depth.map_or(0.0, |q| ln1p(q as f64));
        e.dense[6] = x.latency_ms.map_or(0.0, ln1p);
        e.dense[7] = x.recent_failure_rate.clamp(0.0, 1.0);
        e.dense[8] = x.similar_success_rate.clamp(0.0, 1.0);
        e.hot[2] = self.tenant_index(x.tenant).unwrap_or(usize::MAX);
        e.hot[3] = self.worker_index(x.worker_version).unwrap_or(usize::MAX);
        e
    }

    /// The feature index of a tenant in the vocabulary.
    pub fn tenant_index(&self, tenant: Option<&str>) -> Option<usize> {
        let t = tenant?;
        self.tenants
            .iter()
            .position(|v| v == t)
            .map(|i| TENANT0 + i)
    }

    /// The feature index of a worker version in the vocabulary.
    pub fn worker_index(&self, worker: Option<&str>) -> Option<usize> {
        let w = worker?;
        self.workers
            .iter()
            .position(|v| v == w)
            .map(|i| TENANT0 + self.tenants.len() + i)
    }
}

/// The features the tree part of a boosted model reads: what is known when the wait is chosen,
/// none of it depending on the wait. Elapsed time and the calendar are those of the decision
/// (the attempt's values less its `delay`), so a decision's tree sum is one constant for every
/// candidate wait and `choose` stays exact.
pub const DECISION: [&str; 11] = [
    "log_elapsed_now",
    "log_attempt",
    "log_payload_size",
    "log_queue_depth",
    "log_latency_ms",
    "recent_failure_rate",
    "similar_success_rate",
    "hour_of_day_now",
    "day_of_week_now",
    "tenant",
    "worker_version",
];

/// Decision-time feature values, in `DECISION` order.
pub type DecisionFeatures = [f64; DECISION.len()];

impl FeatureSchema {
    /// The decision-time features of an attempt input: its elapsed time and calendar moved back
    /// by its `delay` (a decision's input has `delay` 0 and is unchanged). Categorical values are
    /// their index in the vocabulary (-1: not in it), which a tree splits like a number.
    pub fn decision(&self, x: &FeatureInput<'_>) -> DecisionFeatures {
        self.decision_of(&self.encode(x), x)
    }

    /// `decision`, reusing the attempt's encoding `e` (of the same `x`): the load, payload,
    /// attempt and rate features and the vocabulary indices are the encoding's own values, so
    /// a decision computes one logarithm more, not six.
    pub fn decision_of(&self, e: &Encoded, x: &FeatureInput<'_>) -> DecisionFeatures {
        let delay = if x.delay.is_finite() {
            x.delay.max(0.0)
        } else {
            0.0
        };
        let sod = x.second_of_day - delay;
        let days_back = (sod / 86_400.0).floor();
        let sod = sod - days_back * 86_400.0;
        let dow = (i64::from(x.day_of_week.min(6)) + days_back as i64).rem_euclid(7);
        let index = |h: usize, base: usize, len: usize| {
            if (base..base + len).contains(&h) {
                (h - base) as f64
            } else {
                -1.0
            }
        };
        let workers0 = TENANT0 + self.tenants.len();
        [
            ln1p(x.elapsed - delay),
            e.dense[3],
            e.dense[4],
            e.dense[5],
            e.dense[6],
            e.dense[7],
            e.dense[8],
            (sod / 3600.0).clamp(0.0, 24.0),
            dow as f64,
            index(e.hot[2], TENANT0, self.tenants.len()),
            index(e.hot[3], workers0, self.workers.len()),
        ]
    }
}

/// One encoded attempt: the dense features and up to four active one-hot features
/// (`usize::MAX`: none).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Encoded {
    /// Dense feature values, in `DENSE` order.
    pub dense: [f64; DENSE.len()],
    /// Indices of the one-hot features that are 1.
    pub hot: [usize; 4],
}

impl Encoded {
    /// The full feature vector (for trainers that want dense rows).
    pub fn to_dense(&self, len: usize) -> Vec<f64> {
        let mut v = vec![0.0; len];
        v[..DENSE.len()].copy_from_slice(&self.dense);
        for &h in &self.hot {
            if h < len {
                v[h] = 1.0;
            }
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_stable() {
        let s = FeatureSchema::new(vec!["acme".into()], vec!["v2".into()]);
        assert_eq!(s.len(), DENSE.len() + TOD_BINS + 7 + 2);
        assert_eq!(&*s.names[TOD0 + 24], "time_of_day=02:00");
        assert_eq!(&*s.names[DOW0], "day_of_week=mon");
        assert_eq!(&*s.names[TENANT0], "tenant=acme");
        assert_eq!(&*s.names[TENANT0 + 1], "worker_version=v2");
        let e = s.encode(&FeatureInput {
            elapsed: 10.0,
            delay: 5.0,
            attempt: 3,
            second_of_day: 2.0 * 3600.0 + 301.0,
            day_of_week: 6,
            tenant: Some("acme"),
            worker_version: Some("v1"),
            ..Default::default()
        });
        assert_eq!(e.hot, [TOD0 + 25, DOW0 + 6, TENANT0, usize::MAX]);
        assert!((e.dense[1] - 11f64.ln()).abs() < 1e-12);
    }

    /// A schema with tenants `a` and `b` and worker version `v1`.
    fn two_tenants() -> FeatureSchema {
        FeatureSchema::new(vec!["a".into(), "b".into()], vec!["v1".into()])
    }

    #[test]
    fn the_context_encoding_is_the_encoding_less_the_wait() {
        let s = two_tenants();
        let base = FeatureInput {
            elapsed: 130.0,
            delay: 20.0,
            attempt: 4,
            second_of_day: 7300.0,
            day_of_week: 3,
            payload_size: Some(4096),
            queue_depth: Some(250),
            latency_ms: Some(180.0),
            tenant: Some("b"),
            worker_version: Some("v1"),
            recent_failure_rate: 0.3,
            similar_success_rate: 1.7,
        };
        let bare = FeatureInput {
            attempt: 0,
            payload_size: None,
            queue_depth: None,
            latency_ms: None,
            tenant: Some("zz"),
            worker_version: None,
            recent_failure_rate: -1.0,
            ..base
        };
        for x in [base, bare, FeatureInput::default()] {
            let (full, context) = (s.encode(&x), s.encode_context(&x));
            let mut expect = full;
            expect.dense[1] = 0.0;
            expect.dense[2] = 0.0;
            expect.hot[0] = usize::MAX;
            expect.hot[1] = usize::MAX;
            assert_eq!(context, expect, "{x:?}");
        }
    }

    #[test]
    fn decision_features_are_those_of_the_decision() {
        let s = two_tenants();
        // An attempt at Tuesday 00:10 after a 20-minute wait was decided on Monday 23:50.
        let at = FeatureInput {
            elapsed: 1300.0,
            delay: 1200.0,
            second_of_day: 600.0,
            day_of_week: 1,
            tenant: Some("b"),
            worker_version: Some("v9"),
            ..Default::default()
        };
        let d = s.decision(&at);
        assert!((d[0] - 101f64.ln()).abs() < 1e-12);
        assert!((d[7] - (23.0 + 50.0 / 60.0)).abs() < 1e-9);
        assert_eq!(d[8], 0.0);
        assert_eq!((d[9], d[10]), (1.0, -1.0));
        // A decision's own input (delay 0) is read as is.
        let now = FeatureInput {
            elapsed: 100.0,
            delay: 0.0,
            second_of_day: 23.0 * 3600.0 + 3000.0,
            day_of_week: 0,
            ..at
        };
        assert_eq!(s.decision(&now), d);
    }
}
