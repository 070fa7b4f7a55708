//! Where an engine's retry budgets come from: by default each is a local bucket; a fleet
//! backend (e.g. `smartretry-redis`) gives shared buckets that lease tokens from a budget the
//! whole fleet shares (see `shared`), and runs the leasing rounds itself, off the decision path.

use super::{BudgetConfig, RetryBudget};
use std::time::Duration;

/// Which budget: a queue's (keyed by the episode's key) or a tenant's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BudgetScope {
    /// The queue's budget (`budget` in the policy), named by the episode's key.
    Queue,
    /// A tenant's budget (`tenant_budget`), named by the tenant.
    Tenant,
}

/// What the engine asks about its budgets. Called on deciding threads: implementations must not
/// block (no network here; rounds run on the backend's own thread).
pub trait BudgetBackend: Send + Sync {
    /// The bucket of a budget the engine meets for the first time (or again after forgetting
    /// it).
    fn open(
        &self,
        scope: BudgetScope,
        name: &str,
        config: &BudgetConfig,
        now: Duration,
    ) -> RetryBudget;

    /// A shared bucket ran low on leased tokens (once per round, see
    /// [`RetryBudget::wants_lease`]): a hint to run the next round early.
    fn running_low(&self, _scope: BudgetScope, _name: &str) {}
}

/// The default: every budget is the engine's own local bucket.
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalBudgets;

impl BudgetBackend for LocalBudgets {
    fn open(&self, _: BudgetScope, _: &str, config: &BudgetConfig, now: Duration) -> RetryBudget {
        RetryBudget::new(config.clone(), now)
    }
}
