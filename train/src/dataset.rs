//! From an attempt history to training rows: attempts are grouped into episodes (queue, tenant
//! and the episode's start, which every record gives as `time - since_episode_start`), replayed
//! in time order to compute the queue's recent rates exactly as the engine does, and each retried
//! attempt becomes one row of the core's feature encoding with its outcome as the label.

use smartretry::learned::features::{DecisionFeatures, Encoded};
use smartretry::learned::{FeatureInput, FeatureSchema, RECENT_WEIGHT};
use smartretry::AttemptRecord;
use std::collections::{BTreeMap, HashMap};

/// One retried attempt.
#[derive(Debug, Clone)]
pub struct Row {
    /// Its episode (index into `Dataset::episodes`).
    pub episode: usize,
    /// The encoded features.
    pub x: Encoded,
    /// The decision-time features (what a boosted model's trees read).
    pub d: DecisionFeatures,
    /// The attempt succeeded.
    pub y: bool,
}

/// One episode as the history shows it.
#[derive(Debug, Clone)]
pub struct Episode {
    /// Unix seconds of its first failure.
    pub origin: f64,
    /// Its records, in attempt order.
    pub records: Vec<AttemptRecord>,
    /// The queue's recent rates when it began (for pricing a schedule on it).
    pub rates: (f64, f64),
}

/// Rows and episodes, in time order.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// The feature schema (vocabularies from the history).
    pub schema: FeatureSchema,
    /// Every episode that began with a failure.
    pub episodes: Vec<Episode>,
    /// Every retried attempt.
    pub rows: Vec<Row>,
}

/// The feature input of a record (an attempt that ran), given the queue's recent rates.
pub fn input_of(r: &AttemptRecord, rates: (f64, f64)) -> FeatureInput<'_> {
    let (sod, dow) = smartretry::learned::context::seconds_of_day(r.time);
    FeatureInput {
        elapsed: r.since_episode_start,
        delay: r.delay_before,
        attempt: r.attempt,
        second_of_day: sod,
        day_of_week: dow,
        payload_size: r.payload_size,
        queue_depth: r.queue_depth,
        latency_ms: r.downstream_latency.map(|s| s * 1000.0),
        tenant: r.tenant.as_deref(),
        worker_version: r.worker_version.as_deref(),
        recent_failure_rate: rates.0,
        similar_success_rate: rates.1,
    }
}

/// Build the dataset. Tenants and worker versions seen at least `min_count` times get their own
/// feature.
pub fn build(mut records: Vec<AttemptRecord>, min_count: usize) -> Dataset {
    records.sort_by(|a, b| a.time.total_cmp(&b.time));
    let vocab = |f: &dyn Fn(&AttemptRecord) -> Option<&String>| -> Vec<String> {
        let mut n: BTreeMap<&String, usize> = BTreeMap::new();
        for r in &records {
            if let Some(v) = f(r) {
                *n.entry(v).or_default() += 1;
            }
        }
        n.into_iter()
            .filter(|(_, c)| *c >= min_count)
            .map(|(v, _)| v.clone())
            .collect()
    };
    let tenants = vocab(&|r| r.tenant.as_ref());
    let workers = vocab(&|r| r.worker_version.as_ref());
    let schema = FeatureSchema::new(tenants, workers);
    // Queue -> (recent failure rate, similar success rate), as the engine keeps them.
    let mut rates: HashMap<String, (f64, f64)> = HashMap::new();
    let mut open: HashMap<(String, Option<String>, i64), usize> = HashMap::new();
    let mut episodes: Vec<Episode> = Vec::new();
    let mut rows = Vec::new();
    for r in records {
        let origin = r.time - r.since_episode_start;
        let key = (
            r.queue.clone(),
            r.tenant.clone(),
            (origin * 1000.0).round() as i64,
        );
        let q = rates.entry(r.queue.clone()).or_insert((0.5, 0.5));
        let failed = r.outcome != "success";
        let idx = if r.attempt <= 1 {
            if !failed {
                // A first-attempt success is no episode, but counts in the recent rates.
                q.0 += RECENT_WEIGHT * (0.0 - q.0);
                continue;
            }
            episodes.push(Episode {
                origin,
                records: Vec::new(),
                rates: *q,
            });
            open.insert(key.clone(), episodes.len() - 1);
            episodes.len() - 1
        } else {
            match open.get(&key) {
                Some(&i) => i,
                None => continue, // its start is not in this history
            }
        };
        if r.attempt >= 2 {
            let input = input_of(&r, *q);
            rows.push(Row {
                episode: idx,
                x: schema.encode(&input),
                d: schema.decision(&input),
                y: !failed,
            });
        }
        q.0 += RECENT_WEIGHT * (if failed { 1.0 } else { 0.0 } - q.0);
        if !failed {
            q.1 += RECENT_WEIGHT * (1.0 - q.1);
            open.remove(&key);
        }
        episodes[idx].records.push(r);
    }
    Dataset {
        schema,
        episodes,
        rows,
    }
}
