//! Where recovery is all-or-nothing, no policy beats the oracle.

use smartretry_sim::suite::oracle_is_bound;
use smartretry_sim::{run_suite, PolicyKind, Scenario, SuiteConfig};

#[test]
fn oracle_is_at_most_every_policy() {
    let scenarios: Vec<Scenario> = Scenario::all()
        .unwrap()
        .into_iter()
        .filter(oracle_is_bound)
        .collect();
    assert_eq!(scenarios.len(), 8);
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
            assert!(oracle.failed <= p.steady.failed + 1e-9);
        }
    }
}
