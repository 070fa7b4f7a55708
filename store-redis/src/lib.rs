//! # smartretry-redis: a fleet of engines learning together
//!
//! Each engine keeps its local models, so no decision waits on the network. A [`FleetStore`]
//! attached to an engine publishes the engine's own evidence to Redis (or Valkey) in the
//! background and merges what the other engines learned: four workers that each see a quarter
//! of an outage's episodes learn about as fast as one worker that sees them all.
//!
//! - [`FleetConfig`]: the Redis URL (`redis://`, `rediss://`, with auth), the namespace, the
//!   sync interval.
//! - [`FleetStore`]: the background sync, stopped when dropped.
//! - [`FleetBudget`]: one retry budget for the whole fleet (a token bucket in Redis), falling back
//!   to a local share when Redis is unreachable.
//! - [`RedisSchedule`]: durable retry scheduling for many machines (`smartretry-schedule`'s
//!   trait).
//!
//! Evidence is exchanged as each engine's cumulative own evidence (see `exchange`), so pushes
//! retried, reordered or repeated after a flush never count anything twice.

mod breakers;
mod budget;
mod config;
mod error;
pub mod evidence;
mod exchange;
mod lease;
mod ledger;
mod options;
mod remote;
mod schedule;
mod store;
mod sync_thread;

pub use budget::{scaled, BudgetMode, FleetBudget};
pub use config::{FleetConfig, MAX_NAMESPACE_LEN};
pub use error::{FleetError, Result};
pub use schedule::{open_schedule, RedisSchedule};
pub use store::{FleetStats, FleetStore};
