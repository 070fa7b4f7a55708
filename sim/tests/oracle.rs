//! Where the oracle is the true optimum given each job's truth (all-or-nothing recovery, and
//! brown-outs with a known pass rate), no policy beats it.

use smartretry_sim::scenario::Model;
use smartretry_sim::suite::oracle_is_bound;
use smartretry_sim::{run_suite, PolicyKind, Scenario, SuiteConfig};

#[test]
fn oracle_is_at_most_every_policy() {
    let scenarios: Vec<Scenario> = Scenario::all()
        .unwrap()
        .into_iter()
        .filter(oracle_is_bound)
        .collect();
    assert!(scenarios.len() >= 12, "{}", scenarios.len());
    let cfg = SuiteConfig {
        seeds: 2,
        jobs: Some(400),
        threads: 2,
        ..SuiteConfig::default()
    };
    for r in run_suite(&scenarios, &cfg).unwrap() {
        let oracle = r.get(PolicyKind::Oracle).unwrap().steady;
        for p in &r.policies {
            assert!(
                oracle.j <= p.steady.j + 1e-9,
                "{}: oracle {} > {} {}",
                r.scenario.name,
                oracle.j,
                p.kind.label(),
                p.steady.j
            );
            // All-or-nothing: one attempt at recovery fails least. (In a brown-out the oracle
            // may retry at once many times: cheaper than waiting, not fewer failures.)
            let brownout = matches!(r.scenario.model, Model::LogNormal { brownout_share, .. } if brownout_share > 0.0);
            if !brownout {
                assert!(oracle.failed <= p.steady.failed + 1e-9);
            }
        }
    }
}
