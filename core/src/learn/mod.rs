//! The learned tiers: a discrete-time survival model of "how long until this dependency
//! recovers" per (queue, error class[, tenant]) fitted from censored outcomes, a planner that picks
//! the next attempt time minimising expected time plus the cost of failed attempts, and a
//! portfolio that leaves the class's own schedule only when the learned plan is better with
//! confidence, scored counterfactually on the same episodes.

pub mod counterfactual;
pub mod fork;
pub mod grid;
pub mod hazard;
mod intervals;
pub mod model;
pub mod paths;
pub mod planner;
pub mod polls;
pub mod portfolio;
pub mod prior;
pub mod worker;

pub use model::{ArmChoice, LearnedModel, ModelSnapshot};
pub use prior::Prior;
