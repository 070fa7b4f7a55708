//! Paying for one retry with a queue budget and a tenant budget stacked: both pay or neither
//! does. Charging the queue before asking the tenant would let one noisy tenant, refused by its
//! own budget, keep draining the budget its neighbours share.

use super::RetryBudget;
use crate::class::ErrorClass;
use std::time::Duration;

/// Which budget refused a retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusedBy {
    /// The queue's budget.
    Queue,
    /// The tenant's budget.
    Tenant,
}

/// What the queue's and the tenant's budgets were charged, in tokens (None: no such budget), so
/// that a successful retry can be refunded what it cost.
pub type StackedCosts = (Option<f64>, Option<f64>);

/// Pay for one retry after a failure of `class` from the budgets present, atomically: the
/// budgets are charged only if every one of them allows it.
///
/// `dry_run` is for previews (`recommend`, `preview`) of a failure that has not been recorded:
/// the failure itself is first charged (as `record` would, see [`RetryBudget::on_failure`]) to
/// copies of the budgets, and the copies are discarded, so the answer is the one a live
/// `on_failure` would give now, and nothing changes. Callers reach this only for a failure whose
/// class is to be retried, hence a retryable one.
pub fn spend_stacked(
    queue: Option<&mut RetryBudget>,
    tenant: Option<&mut RetryBudget>,
    class: ErrorClass,
    now: Duration,
    dry_run: bool,
) -> Result<StackedCosts, RefusedBy> {
    let mut probe_q = queue.as_deref().cloned();
    let mut probe_t = tenant.as_deref().cloned();
    let spend = |probe: &mut Option<RetryBudget>, who| match probe {
        None => Ok(None),
        Some(b) => {
            if dry_run {
                b.on_failure(true);
            }
            b.try_spend(class, now).map(Some).ok_or(who)
        }
    };
    let costs = (
        spend(&mut probe_q, RefusedBy::Queue)?,
        spend(&mut probe_t, RefusedBy::Tenant)?,
    );
    if !dry_run {
        if let (Some(live), Some(paid)) = (queue, probe_q) {
            *live = paid;
        }
        if let (Some(live), Some(paid)) = (tenant, probe_t) {
            *live = paid;
        }
    }
    Ok(costs)
}
