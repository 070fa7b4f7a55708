//! The model file (`.srm`): small, versioned and checksummed, so that a truncated, corrupt or
//! foreign file is refused with `Error::InvalidModel` instead of steering retries.
//!
//! Layout: `SRML` (4 bytes), format version (u32 LE), body length (u32 LE), CRC-32 of the body
//! (u32 LE), then the body: JSON with the model kind, feature set, feature names, weights,
//! training means, training metadata and the trainer's metrics.
//!
//! Version 2 adds the `boosted` kind: the body also carries `trees` (the decision-time feature
//! names, the ensemble's training mean, and per tree its levels' feature indices and thresholds
//! and its leaves: intercept, `log_elapsed` and `log_delay` weight changes), checked on load
//! like the weights. A logistic model is still written as
//! version 1, so builds that predate boosting keep reading it.

use super::features::DECISION;
use super::features::{FeatureSchema, FEATURE_SET};
use super::model::LogisticModel;
use super::trees::{Tree, Trees};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

const MAGIC: &[u8; 4] = b"SRML";
/// The newest file format this build writes and reads (a boosted model's).
pub const FORMAT_VERSION: u32 = 2;
/// The format of a logistic model (no trees), still written for those.
pub const FORMAT_VERSION_LOGISTIC: u32 = 1;
const HEADER: usize = 16;
/// Larger files are not models of ours (a model with a few tenants is a few tens of kB).
const MAX_BODY: usize = 16 << 20;

/// How a model was trained.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainingInfo {
    /// When it was trained (Unix seconds).
    pub trained_at: f64,
    /// The history it was trained on.
    pub history: String,
    /// Training rows (retried attempts).
    pub rows: u64,
    /// The queues the rows came from.
    pub queues: Vec<String>,
    /// The L2 penalty used.
    pub l2: f64,
    /// The trainer that wrote it (name and version).
    pub trainer: String,
}

/// What the trainer measured: calibration and ranking on held-out rows, and the counterfactual
/// J of the model's schedule against the Bayesian tier's on the time-ordered holdout.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Metrics {
    /// Folds of cross-validation.
    pub folds: u32,
    /// Mean Brier score over the folds.
    pub cv_brier: f64,
    /// Mean log-loss over the folds.
    pub cv_log_loss: f64,
    /// Mean AUC over the folds.
    pub cv_auc: f64,
    /// Brier score on the time-ordered holdout.
    pub holdout_brier: f64,
    /// Log-loss on the holdout.
    pub holdout_log_loss: f64,
    /// AUC on the holdout.
    pub holdout_auc: f64,
    /// Mean counterfactual J per holdout episode, the model's schedule.
    pub holdout_j_learned: f64,
    /// Mean counterfactual J per holdout episode, the schedule that ran (the Bayesian tier's).
    pub holdout_j_baseline: f64,
    /// Holdout episodes scored.
    pub holdout_episodes: u64,
}

/// A model as stored: the predictor plus where it came from and how good it was.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelFile {
    /// The predictor.
    pub model: LogisticModel,
    /// Training metadata.
    pub training: TrainingInfo,
    /// The trainer's measurements.
    pub metrics: Metrics,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    kind: String,
    feature_set: u32,
    features: Vec<String>,
    tenants: Vec<String>,
    workers: Vec<String>,
    weights: Vec<f64>,
    means: Vec<f64>,
    #[serde(default = "default_min_wait")]
    min_wait: f64,
    training: TrainingInfo,
    metrics: Metrics,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    trees: Option<TreesBody>,
}

/// The trees of a boosted model, as stored.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TreesBody {
    /// The decision-time features the indices refer to (must be this build's `DECISION`).
    features: Vec<String>,
    /// The ensemble's mean output on the training rows.
    mean: f64,
    trees: Vec<TreeBody>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TreeBody {
    features: Vec<usize>,
    thresholds: Vec<f64>,
    leaves: Vec<[f64; 3]>,
}

fn default_min_wait() -> f64 {
    super::choose::MIN_WAIT
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::InvalidModel(msg.into())
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(b)
}

impl ModelFile {
    /// The file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let m = &self.model;
        let trees = m.is_boosted().then(|| TreesBody {
            features: DECISION.iter().map(|n| n.to_string()).collect(),
            mean: m.trees.mean,
            trees: m
                .trees
                .trees()
                .into_iter()
                .map(|t| TreeBody {
                    features: t.features,
                    thresholds: t.thresholds,
                    leaves: t.leaves,
                })
                .collect(),
        });
        let version = if trees.is_some() {
            FORMAT_VERSION
        } else {
            FORMAT_VERSION_LOGISTIC
        };
        let body = Body {
            kind: if trees.is_some() {
                "boosted"
            } else {
                "logistic"
            }
            .into(),
            feature_set: FEATURE_SET,
            features: m.schema.names.iter().map(|n| n.to_string()).collect(),
            tenants: m.schema.tenants.clone(),
            workers: m.schema.workers.clone(),
            weights: m.weights.clone(),
            means: m.means.clone(),
            min_wait: m.min_wait,
            training: self.training.clone(),
            metrics: self.metrics.clone(),
            trees,
        };
        // Serialising plain numbers and strings cannot fail.
        let json = serde_json::to_vec(&body).unwrap_or_default();
        let mut out = Vec::with_capacity(HEADER + json.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&version.to_le_bytes());
        out.extend_from_slice(&(json.len() as u32).to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(&json).to_le_bytes());
        out.extend_from_slice(&json);
        out
    }

    /// Parse and check a model file: magic, version, length, checksum, feature list, weights.
    pub fn from_bytes(bytes: &[u8]) -> Result<ModelFile> {
        if bytes.len() < HEADER || &bytes[..4] != MAGIC {
            return Err(invalid("not a smartretry model file (bad magic)"));
        }
        let version = u32_at(bytes, 4);
        if !(FORMAT_VERSION_LOGISTIC..=FORMAT_VERSION).contains(&version) {
            return Err(invalid(format!(
                "model format version {version} is not supported (this build reads {FORMAT_VERSION_LOGISTIC} to {FORMAT_VERSION})"
            )));
        }
        let len = u32_at(bytes, 8) as usize;
        if len > MAX_BODY || bytes.len() != HEADER + len {
            return Err(invalid(format!(
                "truncated or padded: header says {len} bytes of body, file has {}",
                bytes.len().saturating_sub(HEADER)
            )));
        }
        let body = &bytes[HEADER..];
        if crc32fast::hash(body) != u32_at(bytes, 12) {
            return Err(invalid("checksum mismatch (corrupt file)"));
        }
        let b: Body =
            serde_json::from_slice(body).map_err(|e| invalid(format!("model body: {e}")))?;
        match (b.kind.as_str(), &b.trees) {
            ("logistic", None) => {}
            ("boosted", Some(_)) if version >= 2 => {}
            ("boosted", Some(_)) => {
                return Err(invalid(format!(
                    "a boosted model needs format version 2, the file says {version}"
                )))
            }
            ("logistic" | "boosted", _) => {
                return Err(invalid(format!(
                    "a {} model {} trees",
                    b.kind,
                    if b.trees.is_some() { "has" } else { "lacks" }
                )))
            }
            (kind, _) => return Err(invalid(format!("unknown model kind {kind:?}"))),
        }
        if b.feature_set != FEATURE_SET {
            return Err(invalid(format!(
                "feature set {} is not supported (this build computes set {FEATURE_SET})",
                b.feature_set
            )));
        }
        for name in b.tenants.iter().chain(&b.workers) {
            crate::names::check_name("vocabulary entry", name)
                .map_err(|e| invalid(e.to_string()))?;
        }
        let schema = FeatureSchema::new(b.tenants, b.workers);
        let same = schema.len() == b.features.len()
            && schema
                .names
                .iter()
                .zip(&b.features)
                .all(|(a, b)| **a == **b);
        if !same {
            return Err(invalid(
                "the feature list differs from what this build computes",
            ));
        }
        let mut model =
            LogisticModel::new(schema, b.weights, b.means)?.with_min_wait(b.min_wait)?;
        if let Some(t) = b.trees {
            let same = t.features.len() == DECISION.len()
                && t.features.iter().zip(DECISION).all(|(a, b)| a == b);
            if !same {
                return Err(invalid(
                    "the trees' feature list differs from what this build computes",
                ));
            }
            let trees: Vec<Tree> = t
                .trees
                .into_iter()
                .map(|t| Tree {
                    features: t.features,
                    thresholds: t.thresholds,
                    leaves: t.leaves,
                })
                .collect();
            model = model.with_trees(Trees::new(&trees, t.mean)?);
        }
        Ok(ModelFile {
            model,
            training: b.training,
            metrics: b.metrics,
        })
    }

    /// What a loaded file says, as the bindings answer `load_model` with it: its kind
    /// (`logistic` or `boosted`) and tree count, feature count and names, vocabularies, shortest
    /// wait, training metadata and metrics (the core's field names, snake_case).
    pub fn describe(&self) -> serde_json::Value {
        let m = &self.model;
        serde_json::json!({
            "kind": if m.is_boosted() { "boosted" } else { "logistic" },
            "trees": m.trees.len(),
            "features": m.schema.len(),
            "feature_names": m.schema.names.iter().map(|n| n.as_ref()).collect::<Vec<&str>>(),
            "tenants": m.schema.tenants,
            "workers": m.schema.workers,
            "min_wait": m.min_wait,
            "training": self.training,
            "metrics": self.metrics,
        })
    }

    /// Read and check a model file.
    pub fn load(path: &Path) -> Result<ModelFile> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        ModelFile::from_bytes(&bytes)
    }

    /// Write the model file (through a temporary file, renamed into place).
    pub fn save(&self, path: &Path) -> Result<()> {
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io(path, e))?;
        std::io::Write::write_all(&mut tmp, &self.to_bytes()).map_err(|e| Error::io(path, e))?;
        tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ModelFile {
        let schema = FeatureSchema::new(vec!["acme".into()], vec!["v1".into()]);
        let n = schema.len();
        ModelFile {
            model: LogisticModel::new(schema, vec![0.25; n], vec![0.5; n]).unwrap(),
            training: TrainingInfo {
                rows: 10,
                ..Default::default()
            },
            metrics: Metrics {
                cv_auc: 0.8,
                ..Default::default()
            },
        }
    }

    fn boosted() -> ModelFile {
        let mut f = sample();
        let trees = [Tree {
            features: vec![3, 8],
            thresholds: vec![4.5, 0.5],
            leaves: vec![
                [0.1, 0.0, 0.0],
                [-0.2, 0.0, 0.0],
                [0.3, 0.0, 0.0],
                [-0.4, 0.5, 0.0],
            ],
        }];
        f.model = f.model.with_trees(Trees::new(&trees, 0.05).unwrap());
        f
    }

    /// The file's bytes with its body edited and the checksum made right again, so that only
    /// the model checks can refuse it.
    fn rewritten(f: &ModelFile, edit: impl Fn(String) -> String) -> Vec<u8> {
        let bytes = f.to_bytes();
        let json = edit(String::from_utf8(bytes[HEADER..].to_vec()).unwrap());
        let mut out = bytes[..8].to_vec();
        out.extend_from_slice(&(json.len() as u32).to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(json.as_bytes()).to_le_bytes());
        out.extend_from_slice(json.as_bytes());
        out
    }

    /// What `load_model` answers in the bindings: kind and tree count, and a name per feature.
    #[test]
    fn describes_itself() {
        let d = boosted().describe();
        assert_eq!(d["kind"], "boosted");
        assert_eq!(d["trees"], 1);
        let names = d["feature_names"].as_array().unwrap();
        assert_eq!(d["features"], names.len());
        assert_eq!(d["metrics"]["cv_auc"], 0.8);
        let d = sample().describe();
        assert_eq!(
            (d["kind"].as_str(), d["trees"].as_u64()),
            (Some("logistic"), Some(0))
        );
    }

    #[test]
    fn round_trips() {
        let f = sample();
        let bytes = f.to_bytes();
        assert_eq!(u32_at(&bytes, 4), FORMAT_VERSION_LOGISTIC);
        assert_eq!(ModelFile::from_bytes(&bytes).unwrap(), f);
        let b = boosted();
        let bytes = b.to_bytes();
        assert_eq!(u32_at(&bytes, 4), FORMAT_VERSION);
        let back = ModelFile::from_bytes(&bytes).unwrap();
        assert_eq!(back, b);
        assert_eq!(back.model.trees.len(), 1);
    }

    #[test]
    fn corrupt_trees_are_refused_with_invalid_model() {
        let b = boosted();
        let edits: [(&str, &str); 7] = [
            // A feature index out of range.
            ("\"features\":[3,8]", "\"features\":[3,11]"),
            // A leaf too large.
            ("[-0.4,", "[-400.0,"),
            // A slope too large.
            ("0.5,0.0]", "50.0,0.0]"),
            // A leaf of two numbers.
            ("[-0.4,0.5,0.0]", "[-0.4,0.5]"),
            // Leaves that do not fill the tree.
            ("[-0.4,0.5,0.0]]", "[-0.4,0.5,0.0],[0.0,0.0,0.0]]"),
            // A foreign decision feature.
            ("\"day_of_week_now\"", "\"day_now\""),
            // Trees under a logistic kind.
            ("\"kind\":\"boosted\"", "\"kind\":\"logistic\""),
        ];
        for (from, to) in edits {
            let bytes = rewritten(&b, |j| {
                assert!(j.contains(from), "{from} not in {j}");
                j.replacen(from, to, 1)
            });
            let err = ModelFile::from_bytes(&bytes).unwrap_err();
            assert_eq!(err.code(), "INVALID_MODEL", "{from}: {err}");
        }
        // A boosted body under the version-1 header.
        let mut v1 = b.to_bytes();
        v1[4..8].copy_from_slice(&FORMAT_VERSION_LOGISTIC.to_le_bytes());
        assert!(ModelFile::from_bytes(&v1)
            .unwrap_err()
            .to_string()
            .contains("version 2"));
        // A flipped byte in the trees is caught by the checksum.
        let mut flipped = b.to_bytes();
        let at = flipped.len() - 30;
        flipped[at] ^= 0x01;
        assert!(ModelFile::from_bytes(&flipped).is_err());
    }

    #[test]
    fn damage_is_refused_with_invalid_model() {
        let good = sample().to_bytes();
        let mut flipped = good.clone();
        let last = flipped.len() - 2;
        flipped[last] ^= 0x20;
        let mut version = good.clone();
        version[4] = 9;
        let cases: Vec<Vec<u8>> = vec![
            Vec::new(),
            b"SRMX".to_vec(),
            good[..good.len() - 1].to_vec(),
            flipped,
            version,
        ];
        for bytes in cases {
            let err = ModelFile::from_bytes(&bytes).unwrap_err();
            assert_eq!(err.code(), "INVALID_MODEL", "{err}");
        }
    }

    #[test]
    fn a_foreign_feature_list_is_refused() {
        let f = sample();
        let json = String::from_utf8(f.to_bytes()[HEADER..].to_vec()).unwrap();
        let json = json.replace("log_queue_depth", "log_queue_length");
        let mut bytes = Vec::new();
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        bytes.extend_from_slice(&(json.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&crc32fast::hash(json.as_bytes()).to_le_bytes());
        bytes.extend_from_slice(json.as_bytes());
        let err = ModelFile::from_bytes(&bytes).unwrap_err();
        assert!(err.to_string().contains("feature list"), "{err}");
    }
}
