//! How the engine reaches its budgets: finding an episode's budget slots, paying for a retry
//! through [`spend_stacked`], and deciding whether a failure costs gRPC tokens.

use super::{spend_stacked, BudgetBackend, BudgetConfig, BudgetScope, RefusedBy, RetryBudget};
use super::{LocalBudgets, StackedCosts};
use crate::class::{Disposition, ErrorClass};
use crate::engine::{BudgetSlot, Engine};
use crate::episode::Identity;
use crate::policy::Policy;
use crate::settings::Settings;
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

fn scope_of(tenant: bool) -> BudgetScope {
    if tenant {
        BudgetScope::Tenant
    } else {
        BudgetScope::Queue
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
        // The clock is read only to open a budget the engine does not hold yet.
        if !create {
            return Some(
                map.get(hash, matches)
                    .ok_or_else(|| self.open_budget(tenant, name, config, self.now())),
            );
        }
        let (slot, _) = map.get_or_insert_with(hash, matches, || BudgetSlot {
            tenant,
            name: name.clone(),
            budget: Mutex::new(self.open_budget(tenant, name, config, self.now())),
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
        if policy.budget.is_none() && policy.tenant_budget.is_none() {
            return Ok((None, None));
        }
        let queue = self.budget_slot(policy, ep, false, !dry_run);
        let tenant = self.budget_slot(policy, ep, true, !dry_run);
        let mut q = Held::of(&queue);
        let mut t = Held::of(&tenant);
        let paid = spend_stacked(q.budget(), t.budget(), class, now, dry_run);
        if !dry_run {
            let low = |h: &mut Held| h.budget().is_some_and(|b| b.wants_lease());
            let (q_low, t_low) = (low(&mut q), low(&mut t));
            drop((q, t));
            if q_low || t_low {
                self.budgets_running_low(ep, q_low, t_low);
            }
        }
        paid
    }

    /// Tell the budget backend which of the episode's shared buckets ran low.
    #[cold]
    fn budgets_running_low(&self, ep: &Identity, queue: bool, tenant: bool) {
        let Some(backend) = self.inner.budget_backend.read().clone() else {
            return;
        };
        if queue {
            backend.running_low(BudgetScope::Queue, &ep.key);
        }
        if let (true, Some(name)) = (tenant, ep.tenant.as_ref()) {
            backend.running_low(BudgetScope::Tenant, name);
        }
    }

    /// A new bucket for a budget, from the backend (local by default).
    pub(crate) fn open_budget(
        &self,
        tenant: bool,
        name: &str,
        config: &BudgetConfig,
        now: Duration,
    ) -> RetryBudget {
        match &*self.inner.budget_backend.read() {
            None => LocalBudgets.open(scope_of(tenant), name, config, now),
            Some(backend) => backend.open(scope_of(tenant), name, config, now),
        }
    }

    /// Where this engine's budgets come from from now on (e.g. a fleet's shared budgets). The
    /// budgets it holds are forgotten, so every budget is opened by the new backend (a
    /// forgotten budget starts again full, or with its share).
    pub fn set_budget_backend(&self, backend: Arc<dyn BudgetBackend>) {
        *self.inner.budget_backend.write() = Some(backend);
        self.inner.budgets.clear();
    }

    /// Run `f` on every budget bucket the engine holds (a backend's leasing round). Each bucket
    /// is locked only while `f` runs on it: do no I/O in `f`.
    pub fn for_each_budget(&self, mut f: impl FnMut(BudgetScope, &str, &mut RetryBudget)) {
        for slot in self.inner.budgets.values() {
            f(scope_of(slot.tenant), &slot.name, &mut slot.budget.lock());
        }
    }

    /// Run `f` on one budget bucket, if the engine holds it.
    pub fn with_budget<T>(
        &self,
        scope: BudgetScope,
        name: &str,
        f: impl FnOnce(&mut RetryBudget) -> T,
    ) -> Option<T> {
        let tenant = scope == BudgetScope::Tenant;
        let map = &self.inner.budgets;
        let slot = map.get(map.hash_of(&(tenant, name)), |s| {
            s.tenant == tenant && *s.name == *name
        })?;
        let mut bucket = slot.budget.lock();
        Some(f(&mut bucket))
    }

    /// Whether a failure of `class` in this episode costs gRPC throttling tokens: gRFC A6
    /// charges only a status the retry policy would retry, here the class's disposition after
    /// the episode's overrides.
    pub(crate) fn failure_is_retryable(
        &self,
        settings: &Settings,
        ep: &Identity,
        class: ErrorClass,
    ) -> bool {
        self.class_policy(settings.class(class), ep, class)
            .0
            .disposition
            == Disposition::Retry
    }

    /// How many budgets and circuit breakers the engine holds (each bounded by
    /// [`super::MAX_TRACKED_KEYS`]).
    pub fn tracked_guards(&self) -> (usize, usize) {
        (self.inner.budgets.len(), self.inner.breakers.len())
    }
}
