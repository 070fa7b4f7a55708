//! The learned tier's floor in the simulator (`simulate --ml`, reduced): on the load-dependent
//! scenario the model, rolled out from shadow on evidence, must beat the Bayesian tier; on the
//! maintenance window it must close a good part of the gap to the oracle. Deterministic: fixed
//! seeds, manual clocks.

use smartretry_sim::ml::run_ml;
use smartretry_sim::Scenario;

#[test]
fn the_learned_tier_beats_the_bayesian_tier_where_context_matters() {
    let s = &Scenario::select_ml("load-dependent").unwrap()[0];
    let r = run_ml(s, 1, Some(800)).unwrap();
    assert_eq!(r.refused, 0, "{r:?}");
    assert!(
        r.j_learned < 0.95 * r.j_bayesian,
        "J learned {} vs Bayesian {}",
        r.j_learned,
        r.j_bayesian
    );
}
