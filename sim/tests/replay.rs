//! Replay: a history exported from the simulator comes back as the same episodes, the censored
//! estimate recovers the true recovery distribution, and the evaluation is deterministic.

use smartretry_sim::dist::seed_of;
use smartretry_sim::generate::generate;
use smartretry_sim::history::{self, episodes, EXAMPLE};
use smartretry_sim::replay::{replay, ReplayConfig};
use smartretry_sim::runner::run_logged;
use smartretry_sim::scenario::Model;
use smartretry_sim::survival::turnbull;
use smartretry_sim::{PolicyKind, Scenario, SuiteConfig};

fn cfg() -> ReplayConfig {
    ReplayConfig {
        c: 2.0,
        deadline: 3600.0,
        train_share: 0.7,
        suite: SuiteConfig {
            seeds: 2,
            threads: 2,
            ..SuiteConfig::default()
        },
    }
}

#[test]
fn export_round_trips_and_estimate_matches_truth() {
    let s = Scenario::select("1").unwrap().remove(0);
    let Model::LogNormal { recovery, .. } = s.model else {
        panic!()
    };
    let g = generate(&s, 4, Some(1500)).unwrap();
    let mut policy = PolicyKind::FullJitter
        .build(&s, seed_of(&["t"]), g.world.epoch)
        .unwrap();
    let mut log = Vec::new();
    run_logged(
        &g.jobs,
        g.world.clone(),
        policy.as_mut(),
        s.deadline,
        Some(&mut log),
    );
    let text = history::to_jsonl(&history::from_log(&g.jobs, &log, g.world.epoch));
    let eps = episodes(&history::parse(&text).unwrap());
    assert_eq!(eps.len(), g.jobs.len());
    let est = turnbull(&eps.iter().map(|e| e.interval()).collect::<Vec<_>>(), 2000);
    for p in [0.25, 0.5, 0.75] {
        let got = est.quantile(p).unwrap();
        let want = recovery.quantile(p);
        assert!((got / want - 1.0).abs() < 0.08, "p{p}: {got} vs {want}");
    }
}

#[test]
fn example_replay_is_deterministic_and_bounded_by_the_oracle() {
    let recs = history::parse(EXAMPLE).unwrap();
    let a = replay(&recs, &cfg()).unwrap();
    let b = replay(&recs, &cfg()).unwrap();
    assert_eq!(a.train + a.test, 250);
    assert_eq!(a.test, 75);
    let j = |r: &smartretry_sim::replay::ReplayResult| -> Vec<f64> {
        r.result.policies.iter().map(|p| p.steady.j).collect()
    };
    assert_eq!(j(&a), j(&b));
    let oracle = a.result.get(PolicyKind::Oracle).unwrap().steady.j;
    assert!(a
        .result
        .policies
        .iter()
        .all(|p| oracle <= p.steady.j + 1e-9));
    let med = a.groups[0].estimate.quantile(0.5).unwrap();
    assert!((med / 8.5 - 1.0).abs() < 0.15, "{med}");
}

#[test]
fn replay_rejects_bad_settings() {
    let recs = history::parse(EXAMPLE).unwrap();
    let mut c = cfg();
    c.train_share = 1.5;
    assert!(replay(&recs, &c).is_err());
    assert!(replay(&recs[..1], &cfg()).is_err());
}
