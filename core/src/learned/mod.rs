//! The learned (ML) tier: a logistic regression (optionally boosted by small trees) of P(the next attempt succeeds | the attempt's
//! context, the wait), trained offline on the attempt history (`smartretry train`), shipped as a
//! small checksummed model file, and rolled out per queue: off → shadow → canary → full, with
//! automatic rollback. It proposes a wait like the other tiers; guardrails apply to it as to
//! them, and on any model failure the decision falls through to the Bayesian tier, then the
//! heuristic, then the class's static schedule.
//!
//! - `context`: what the caller passes per attempt (`AttemptContext`);
//! - `features`: one encoding for trainer and engine;
//! - `model`: the predictor and its explanations;
//! - `trees`: the boosted tree ensemble a model may add to its margin;
//! - `choose`: from probabilities to a wait (`ln_bound`: cheap bounds on its logarithms);
//! - `file`: the model file;
//! - `rollout`: modes, evidence, verdicts;
//! - `counterfactual`: shadow pricing of the learned schedule on live episodes;
//! - `tier`: the per-queue state in an engine; `engine_glue`: the engine's methods.

pub mod choose;
pub mod context;
pub mod counterfactual;
mod engine_glue;
pub mod features;
pub mod file;
mod ln_bound;
pub mod model;
pub mod rollout;
pub mod sequential;
mod tier;
pub mod trees;

pub use context::AttemptContext;
pub use features::{FeatureInput, FeatureSchema};
pub use file::{Metrics, ModelFile, TrainingInfo};
pub use model::{FeatureEffect, LogisticModel};
pub use rollout::{Evidence, RolloutConfig, RolloutMode, Tally, Verdict};
pub(crate) use tier::{EpisodeArm, LearnedTier};
pub use tier::{LearnedStats, RolloutStatus, RECENT_WEIGHT};
