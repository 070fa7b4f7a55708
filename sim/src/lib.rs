//! # smartretry-sim: does the engine beat static backoff?
//!
//! A deterministic discrete-event simulator. Scenarios are generative models with their
//! parameters in files (`scenarios/*.toml`, embedded); policies (the static baselines everyone
//! uses, the engine, and an oracle that knows the future) run the same jobs on the same seeds
//! under a manual clock; the score is J = time to success (the deadline if never) + c × failed
//! attempts. Nothing sleeps: a full suite takes seconds.

pub mod dist;
pub mod error;
pub mod fleet;
pub mod generate;
pub mod history;
pub mod incidents;
pub mod job;
pub mod metrics;
pub mod ml;
pub mod policy;
pub mod random_shapes;
pub mod replay;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod suite;
pub mod survival;
pub mod world;

pub use error::{Result, SimError};
pub use policy::{PolicyKind, SimPolicy};
pub use scenario::Scenario;
pub use suite::{run_suite, ScenarioResult, SuiteConfig};
