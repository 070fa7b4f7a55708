//! What each learned model knows, for operators: its numbers (episodes, pass rate, plan cost,
//! the portfolio's evidence), its survival curve, and the schedule it would give now. The admin
//! endpoint, `smartretry inspect` and the bindings all read this one view.

use crate::class::ErrorClass;
use crate::engine::Engine;
use crate::failure::Failure;
use crate::learn::model::ModelReport;
use serde::Serialize;

/// Steps of the plan shown per model.
const PLAN_STEPS: usize = 12;
/// Points of the survival curve shown per model (evenly thinned).
const CURVE_POINTS: usize = 24;

/// One model, as shown to an operator.
#[derive(Debug, Clone, Serialize)]
pub struct ModelView {
    /// The queue or job type.
    pub key: String,
    /// The tenant, for a per-tenant model.
    pub tenant: Option<String>,
    /// The error class it learns.
    pub class: ErrorClass,
    /// Episodes, pass rate, plan cost and the portfolio's evidence.
    pub report: ModelReport,
    /// (seconds since the first failure, P(recovered by then)).
    pub curve: Vec<(f64, f64)>,
    /// The delays this model's queue would get now if every attempt failed, seconds, and the
    /// reason for each.
    pub plan: Vec<PlanStep>,
}

/// One step of a model's plan.
#[derive(Debug, Clone, Serialize)]
pub struct PlanStep {
    /// Seconds to wait; None: stop.
    pub delay: Option<f64>,
    /// The tier that decided it.
    pub tier: &'static str,
    /// Why, in one sentence.
    pub reason: String,
}

/// Every model the engine holds, sorted by (key, tenant, class).
pub fn model_views(engine: &Engine) -> Vec<ModelView> {
    let snapshot = engine.snapshot();
    snapshot
        .models
        .iter()
        .filter_map(|m| model_view(engine, &m.key, m.tenant.as_deref(), m.class))
        .collect()
}

/// One model's view, or None if the engine holds no such model.
pub fn model_view(
    engine: &Engine,
    key: &str,
    tenant: Option<&str>,
    class: ErrorClass,
) -> Option<ModelView> {
    let report = engine.model_report(key, tenant, class)?;
    let full = engine
        .recovery_curve(key, tenant, class)
        .unwrap_or_default();
    let stride = full.len().div_ceil(CURVE_POINTS).max(1);
    let curve = full
        .iter()
        .step_by(stride)
        .map(|(t, p)| (t.as_secs_f64(), *p))
        .collect();
    let plan = engine
        .preview(key, tenant, &Failure::class(class), PLAN_STEPS)
        .unwrap_or_default()
        .into_iter()
        .map(|r| PlanStep {
            delay: r.should_retry().then_some(r.delay.as_secs_f64()),
            tier: r.tier.as_str(),
            reason: r.reason_text(),
        })
        .collect();
    Some(ModelView {
        key: key.to_string(),
        tenant: tenant.map(str::to_string),
        class,
        report,
        curve,
        plan,
    })
}
