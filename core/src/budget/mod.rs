//! Retry budgets: a token bucket per queue and per tenant so that a retry storm cannot amplify an
//! outage. The gRPC and AWS presets follow their specifications exactly (gRFC A6 retry
//! throttling; the AWS SDKs' standard retry quota), in the fixed-point arithmetic their reference
//! implementations use, so users migrating from them keep what they know.
//!
//! - [`BudgetConfig`]: how a budget earns and spends (policy JSON `budget` / `tenant_budget`).
//! - [`RetryBudget`]: the live bucket, in thousandths of a token.
//! - [`spend_stacked`]: the one place where a retry is paid for, by the queue's and the tenant's
//!   budgets together or by neither; live decisions and previews both go through it.
//! - [`BudgetBackend`]: where the buckets come from (local by default; a fleet backend leases
//!   from a budget shared by many processes, see `shared`).

mod backend;
mod bucket;
mod config;
mod engine_glue;
mod shared;
mod stacked;

pub use backend::{BudgetBackend, BudgetScope, LocalBudgets};
pub use bucket::{RetryBudget, MILLI};
pub use config::BudgetConfig;
pub use shared::{LeaseAnswer, LeaseRequest};
pub use stacked::{spend_stacked, RefusedBy, StackedCosts};

/// How many budgets (queue and tenant ones together) and, separately, how many circuit breakers
/// an engine keeps. Beyond it the least recently used are forgotten (a forgotten budget starts
/// full again, a forgotten breaker closed), so a stream of distinct keys cannot grow memory
/// without bound. Same default as `learning.max_models`.
pub const MAX_TRACKED_KEYS: usize = 100_000;
