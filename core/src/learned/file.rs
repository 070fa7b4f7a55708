//! The model file (`.srm`): small, versioned and checksummed, so that a truncated, corrupt or
//! foreign file is refused with `Error::InvalidModel` instead of steering retries.
//!
//! Layout: `SRML` (4 bytes), format version (u32 LE), body length (u32 LE), CRC-32 of the body
//! (u32 LE), then the body: JSON with the model kind, feature set, feature names, weights,
//! training means, training metadata and the trainer's metrics.

use super::features::{FeatureSchema, FEATURE_SET};
use super::model::LogisticModel;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

const MAGIC: &[u8; 4] = b"SRML";
/// The file format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
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
        let body = Body {
            kind: "logistic".into(),
            feature_set: FEATURE_SET,
            features: m.schema.names.iter().map(|n| n.to_string()).collect(),
            tenants: m.schema.tenants.clone(),
            workers: m.schema.workers.clone(),
            weights: m.weights.clone(),
            means: m.means.clone(),
            min_wait: m.min_wait,
            training: self.training.clone(),
            metrics: self.metrics.clone(),
        };
        // Serialising plain numbers and strings cannot fail.
        let json = serde_json::to_vec(&body).unwrap_or_default();
        let mut out = Vec::with_capacity(HEADER + json.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
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
        if version != FORMAT_VERSION {
            return Err(invalid(format!(
                "model format version {version} is not supported (this build reads {FORMAT_VERSION})"
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
        if b.kind != "logistic" {
            return Err(invalid(format!("unknown model kind {:?}", b.kind)));
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
        Ok(ModelFile {
            model: LogisticModel::new(schema, b.weights, b.means)?.with_min_wait(b.min_wait)?,
            training: b.training,
            metrics: b.metrics,
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

    #[test]
    fn round_trips() {
        let f = sample();
        assert_eq!(ModelFile::from_bytes(&f.to_bytes()).unwrap(), f);
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
