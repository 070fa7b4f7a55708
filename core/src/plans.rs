//! Where decisions get their plans. On a system clock the hot path reads each model's last
//! published plan without a lock and asks the background worker (`learn::worker`) for a new one
//! when evidence or settings moved on; no caller's thread runs a fit. On a manual clock the plan
//! is rebuilt inline, under the model's lock, at exactly the points it always was, so that
//! simulations and tests give the same numbers run after run.

use crate::engine::Engine;
use crate::episode::ModelSlot;
use crate::learn::model::LearnedModel;
use crate::learn::planner::Plan;
use crate::learn::prior::Prior;
use crate::learn::worker::{self, Job, PlanWorker};
use std::sync::Arc;
use std::time::Duration;

impl Engine {
    /// Run `f` on the model's plan for (`cost`, `horizon`) and its prior. None: the model has no
    /// plan yet (one is on its way).
    pub(crate) fn with_plan<T>(
        &self,
        slot: &Arc<ModelSlot>,
        cost: f64,
        horizon: f64,
        f: impl FnOnce(&Arc<Plan>, &PlanPrior<'_>) -> T,
    ) -> Option<T> {
        if self.inline_plans() {
            let settings = self.inner.settings.load();
            let prior = &settings.priors[slot.class as usize];
            let plan = slot.model.lock().plan(prior, cost, horizon).clone();
            return Some(f(&plan, &PlanPrior::Loaded(prior)));
        }
        let published = slot.plan.load();
        match &*published {
            Some(plan) => {
                if plan.built_for != (cost, horizon) {
                    self.request_rebuild(slot, cost, horizon);
                }
                Some(f(plan, &PlanPrior::Lazy(self, slot.class as usize)))
            }
            None => {
                self.request_rebuild(slot, cost, horizon);
                None
            }
        }
    }

    /// The model's plan brought up to date now, on this thread if need be (inspection calls,
    /// which want the latest answer; the fit still runs without the model's lock).
    pub(crate) fn fresh_plan(&self, slot: &Arc<ModelSlot>, cost: f64, horizon: f64) -> Arc<Plan> {
        let settings = self.inner.settings.load();
        let prior = &settings.priors[slot.class as usize];
        if self.inline_plans() {
            return slot.model.lock().plan(prior, cost, horizon).clone();
        }
        {
            let model = slot.model.lock();
            if let Some(plan) = model.current_plan() {
                if plan.built_for == (cost, horizon) && !model.rebuild_due() {
                    return plan.clone();
                }
            }
        }
        worker::rebuild(slot, prior, cost, horizon)
    }

    /// After `model` (locked by the caller) learned something: queue a rebuild of its plan when
    /// enough has arrived since the last one (the first plan is asked for by the first read).
    pub(crate) fn after_update(&self, slot: &Arc<ModelSlot>, model: &LearnedModel) {
        if self.inline_plans() || !model.rebuild_due() {
            return;
        }
        if let Some(plan) = model.current_plan() {
            let (cost, horizon) = plan.built_for;
            self.request_rebuild(slot, cost, horizon);
        }
    }

    fn request_rebuild(&self, slot: &Arc<ModelSlot>, cost: f64, horizon: f64) {
        if slot
            .rebuild_pending
            .load(std::sync::atomic::Ordering::Acquire)
        {
            return;
        }
        if let Some(w) = self.plan_worker() {
            w.request(Job {
                slot: slot.clone(),
                priors: self.inner.settings.load().priors.clone(),
                cost,
                horizon,
            });
        }
    }

    /// Plans are rebuilt inline: a manual clock, the worker thread could not be started, or this
    /// is a forked child of the process it runs in.
    #[inline]
    fn inline_plans(&self) -> bool {
        self.inner.inline_plans
            || match self.inner.plan_worker.get() {
                Some(Some(w)) => w.forked(),
                Some(None) => true,
                None => false,
            }
    }

    pub(crate) fn plan_worker(&self) -> Option<&PlanWorker> {
        self.inner
            .plan_worker
            .get_or_init(|| {
                let gate = self.inner.plan_gate.clone()?;
                PlanWorker::spawn(gate).ok()
            })
            .as_ref()
    }

    /// Wait until the background worker has rebuilt every plan queued so far, at most `timeout`;
    /// whether it has (true at once on a manual clock, whose plans are rebuilt inline). For tests
    /// and benchmarks that want to see what the engine learned without sleeping.
    pub fn flush_plans(&self, timeout: Duration) -> bool {
        match self.inner.plan_worker.get() {
            Some(Some(w)) => w.flush(timeout),
            _ => true,
        }
    }
}

/// The prior of a plan's class, for its confidence: a plan caches its confidence per bucket, so
/// the engine's priors are read only on the first ask (one atomic load fewer per decision).
pub(crate) enum PlanPrior<'a> {
    /// Already loaded (plans rebuilt inline need it anyway).
    Loaded(&'a Prior),
    /// Read from the engine when needed: the engine and the class's index.
    Lazy(&'a Engine, usize),
}

impl PlanPrior<'_> {
    /// `plan.confidence` of the step from bucket `from` to edge `to`.
    pub fn confidence(&self, plan: &Plan, from: usize, to: usize) -> f64 {
        plan.confidence_with(from, |fit| match self {
            PlanPrior::Loaded(prior) => crate::learn::planner::confidence(fit, prior, from, to),
            PlanPrior::Lazy(engine, class) => {
                let settings = engine.inner.settings.load();
                crate::learn::planner::confidence(fit, &settings.priors[*class], from, to)
            }
        })
    }
}
