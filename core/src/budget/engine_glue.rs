//! How the engine reaches its budgets: finding an episode's budget slots, paying for a retry
//! through [`spend_stacked`], and deciding whether a failure costs gRPC tokens.

use super::{spend_stacked, RefusedBy, RetryBudget, StackedCosts};
use crate::class::{Disposition, ErrorClass};
use crate::engine::{BudgetSlot, Engine};
use crate::episode::Identity;
use crate::policy::Policy;
use parking_lot::{Mutex, MutexGuard};
use std::sync::Arc;
use std::time::Duration;

/// One scope's budget: the live slot, or (previews, before first use) a fresh bucket.
enum Held<'a> {
    None,
    Live(MutexGuard<'a, RetryBudget>),
    Fresh(RetryBudget),
}

impl<'a> Held<'a> {
    fn of(slot: &'a Option<Result<Arc<BudgetSlot>, RetryBudget>>) -> Held<'a> {
        match slot {
            None => Held::None,
            Some(Ok(slot)) => Held::Live(slot.budget.lock()),
            Some(Err(fresh)) => Held::Fresh(fresh.clone()),
        }
    }

    fn budget(&mut self) -> Option<&mut RetryBudget> {
        match self {
            Held::None => None,
            Held::Live(g) => Some(&mut **g),
            Held::Fresh(b) => Some(b),
        }
    }
}

impl Engine {
    /// The slot of the queue's (`tenant` false) or the tenant's budget, if that scope has a
    /// budget configured; created on first use when `create`.
    fn budget_slot(
        &self,
        policy: &Policy,
        ep: &Identity,
        tenant: bool,
        create: bool,
    ) -> Option<Result<Arc<BudgetSlot>, RetryBudget>> {
        let (name, config) = if tenant {
            (ep.tenant.as_ref()?, policy.tenant_budget.as_ref()?)
        } else {
            (&ep.key, policy.budget.as_ref()?)
        };
        let map = &self.inner.budgets;
        let hash = map.hash_of(&(tenant, &**name));
        let matches = |s: &BudgetSlot| s.tenant == tenant && *s.name == **name;
        let now = self.now();
        if !create {
            return Some(
                map.get(hash, matches)
                    .ok_or_else(|| RetryBudget::new(config.clone(), now)),
            );
        }
        let (slot, _) = map.get_or_insert_with(hash, matches, || BudgetSlot {
            tenant,
            name: name.clone(),
            budget: Mutex::new(RetryBudget::new(config.clone(), now)),
        });
        Some(Ok(slot))
    }

    /// Pay for one retry from the queue's and the tenant's budgets together (see
    /// [`spend_stacked`]); a dry run changes nothing and creates no budget. Locks are taken
    /// queue first, then tenant, everywhere.
    pub(crate) fn spend_retry(
        &self,
        policy: &Policy,
        ep: &Identity,
        class: ErrorClass,
        now: Duration,
        dry_run: bool,
    ) -> Result<StackedCosts, RefusedBy> {
        let queue = self.budget_slot(policy, ep, false, !dry_run);
        let tenant = self.budget_slot(policy, ep, true, !dry_run);
        let mut q = Held::of(&queue);
        let mut t = Held::of(&tenant);
        spend_stacked(q.budget(), t.budget(), class, now, dry_run)
    }

    /// Whether a failure of `class` in this episode costs gRPC throttling tokens: gRFC A6
    /// charges only a status the retry policy would retry, here the class's disposition after
    /// the episode's overrides.
    pub(crate) fn failure_is_retryable(
        &self,
        policy: &Policy,
        ep: &Identity,
        class: ErrorClass,
    ) -> bool {
        self.with_class_policy(policy, ep, class, |cp, _| {
            cp.disposition == Disposition::Retry
        })
    }

    /// How many budgets and circuit breakers the engine holds (each bounded by
    /// [`super::MAX_TRACKED_KEYS`]).
    pub fn tracked_guards(&self) -> (usize, usize) {
        (self.inner.budgets.len(), self.inner.breakers.len())
    }
}
