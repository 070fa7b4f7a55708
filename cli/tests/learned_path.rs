//! The learned tier's whole path, with the documented commands: a live engine (admin endpoint
//! on 127.0.0.1, started here) writes its attempt history; `smartretry train` makes a model of
//! it; `smartretry rollout set` loads it in shadow; `rollout promote` is refused until the shadow
//! has evidence, then steps shadow → canary → full as the evidence comes; `rollout rollback`
//! turns it off. The engine runs on a manual clock: days of a nightly window in a few seconds.

mod common;
use common::{ok, run};
use smartretry::{
    Clock, Engine, Failure, JsonlHistory, ManualClock, Policy, RolloutConfig, RolloutMode, Tier,
};
use smartretry_admin::{AdminConfig, AdminServer};
use std::sync::Arc;
use std::time::Duration;

const TOKEN: &str = "cli-learned-token-0123456789";
/// Midnight UTC, 2023-11-14 (a Tuesday).
const DAY0: f64 = 1_699_920_000.0;

/// When job `i` starts and when its dependency is back (seconds, UTC): the dependency is down
/// every night 02:00-02:20, and every other job starts inside that window (02:00 plus `i` mod 19
/// minutes, on successive days); the others start between 09:00 and 10:00 and meet a 2 s blip.
fn timing(i: u32) -> (f64, f64) {
    let day = DAY0 + f64::from(i / 2) * 86_400.0;
    if i % 2 == 0 {
        (
            day + 7200.0 + 60.0 * f64::from(i % 19),
            day + 7200.0 + 1200.0,
        )
    } else {
        let start = day + 32_400.0 + 600.0 * f64::from(i % 7);
        (start, start + 2.0)
    }
}

/// Jobs `first..first + n` on the queue `reports`; returns the tiers that decided.
fn jobs(engine: &Engine, clock: &ManualClock, first: u32, n: u32) -> Vec<Tier> {
    let mut tiers = Vec::new();
    for i in first..first + n {
        let (start, up_at) = timing(i);
        clock.set(Duration::from_secs_f64(start));
        let mut ep = engine.begin("reports", None).unwrap();
        loop {
            if ep.attempts() > 0 && clock.now().as_secs_f64() >= up_at {
                engine.on_success(&mut ep).unwrap();
                break;
            }
            let rec = engine.on_failure(&mut ep, &Failure::http(503)).unwrap();
            tiers.push(rec.tier);
            if !rec.should_retry() {
                break;
            }
            clock.advance(rec.delay);
        }
    }
    tiers
}

fn mode(engine: &Engine) -> RolloutMode {
    engine.rollout_status("reports").unwrap().mode
}

#[test]
fn history_to_model_to_shadow_canary_full_and_rollback_with_the_commands() {
    let clock = ManualClock::shared(Duration::from_secs_f64(DAY0));
    // A 503 retried until the deadline (3 h), waits of up to an hour.
    let policy = Policy::from_json(
        r#"{"seed": 11, "deadline": 10800,
            "classes": {"unavailable": {"max_attempts": 1000000, "max_delay": 3600}}}"#,
    )
    .unwrap();
    let engine = Engine::with_clock(policy, clock.clone()).unwrap();
    let admin = AdminServer::start(
        &engine,
        AdminConfig {
            token: Some(TOKEN.into()),
            ..Default::default()
        },
    )
    .unwrap();
    // Half the episodes in the canary (the default is a fifth): the evidence comes sooner.
    let config = RolloutConfig {
        canary_weight: 0.5,
        ..RolloutConfig::default()
    };
    engine.set_rollout_config("reports", config).unwrap();
    let url = admin.url().to_string();
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history.jsonl");
    let sink = JsonlHistory::open(&history, Default::default()).unwrap();
    engine.set_history(Some(Arc::new(sink)));

    // 1. History, written by the live engine (Bayesian tier).
    jobs(&engine, &clock, 0, 160);
    engine.flush_history().unwrap();

    // 2. Train.
    let model = dir.path().join("reports.srm");
    let (h, m) = (history.to_str().unwrap(), model.to_str().unwrap());
    let out = ok(&[
        "train",
        "--history",
        h,
        "--out",
        m,
        "--cost",
        "10",
        "--horizon",
        "10800",
        "--folds",
        "2",
    ]);
    assert!(model.exists(), "{out}");
    let shown = ok(&["model", m]);
    assert!(shown.contains("time_of_day=02:"), "{shown}");

    // 3. Shadow: loaded through the endpoint; nothing changes in the decisions.
    let src = ["--endpoint", url.as_str(), "--token", TOKEN];
    let set = [
        &[
            "rollout", "set", "--queue", "reports", "--model", m, "--mode", "shadow",
        ][..],
        &src[..],
    ]
    .concat();
    ok(&set);
    assert_eq!(mode(&engine), RolloutMode::Shadow);
    let promote = [&["rollout", "promote", "--queue", "reports"][..], &src[..]].concat();
    let refused = run(&promote);
    assert_eq!(refused.status.code(), Some(1), "promoted without evidence");
    let mut first = 160;
    // Run jobs until a promotion is accepted (the evidence decides when); returns the tiers
    // that decided meanwhile.
    let until_promoted = |first: &mut u32| {
        let mut tiers = Vec::new();
        while run(&promote).status.code() != Some(0) {
            assert!(*first < 6000, "{:?}", engine.rollout_status("reports"));
            tiers.extend(jobs(&engine, &clock, *first, 40));
            *first += 40;
        }
        tiers
    };
    // 4. Canary, on the shadow's evidence; the shadow changed no decision.
    let in_shadow = until_promoted(&mut first);
    assert!(!in_shadow.is_empty() && !in_shadow.contains(&Tier::Learned));
    assert!(
        matches!(mode(&engine), RolloutMode::Canary { .. }),
        "{:?}",
        engine.rollout_status("reports")
    );
    let listed = ok(&["rollout", "list", "--endpoint", url.as_str()]);
    assert!(
        listed.contains("reports") && listed.contains("canary"),
        "{listed}"
    );
    // 5. Full, on the canary's realised J.
    let in_canary = until_promoted(&mut first);
    assert!(in_canary.contains(&Tier::Learned));
    assert_eq!(mode(&engine), RolloutMode::Full);
    assert!(jobs(&engine, &clock, first, 40).contains(&Tier::Learned));

    // 6. Rollback by command: the live tiers decide again.
    ok(&[&["rollout", "rollback", "--queue", "reports"][..], &src[..]].concat());
    assert_eq!(mode(&engine), RolloutMode::Off);
    assert!(!jobs(&engine, &clock, first + 40, 40).contains(&Tier::Learned));
    let listed = ok(&["rollout", "list", "--endpoint", url.as_str(), "--json"]);
    assert!(listed.contains("\"off\""), "{listed}");
}
