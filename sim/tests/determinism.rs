//! The same seed gives the same numbers, whatever the thread count.

use smartretry_sim::report::output::to_json;
use smartretry_sim::{run_suite, Scenario, SuiteConfig};

fn cfg(threads: usize) -> SuiteConfig {
    SuiteConfig {
        seeds: 2,
        jobs: Some(300),
        threads,
        ..SuiteConfig::default()
    }
}

#[test]
fn same_seed_same_metrics() {
    let scenarios = Scenario::select("1,2,5,8,10,11").unwrap();
    let a = to_json(&run_suite(&scenarios, &cfg(2)).unwrap(), 2);
    let b = to_json(&run_suite(&scenarios, &cfg(2)).unwrap(), 2);
    let c = to_json(&run_suite(&scenarios, &cfg(1)).unwrap(), 2);
    assert_eq!(a, b);
    assert_eq!(a, c);
}

#[test]
fn different_seeds_differ() {
    let scenarios = Scenario::select("1").unwrap();
    let a = run_suite(&scenarios, &cfg(1)).unwrap();
    let mut other = cfg(1);
    other.seeds = 3;
    let b = run_suite(&scenarios, &other).unwrap();
    assert_ne!(a[0].policies[2].steady.j, b[0].policies[2].steady.j);
}
