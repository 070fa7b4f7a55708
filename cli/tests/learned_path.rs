//! The learned tier's whole path, with the documented commands: a live engine (admin endpoint
//! on 127.0.0.1, started here) writes its attempt history; `smartretry train` makes a model of
//! it; `smartretry rollout set` loads it in shadow; `rollout promote` is refused until the shadow
//! has evidence, then steps shadow → canary → full as the evidence comes; `rollout rollback`
//! turns it off. The engine runs on a manual clock: days of a nightly window in a few seconds.

use smartretry::{
    Clock, Engine, Failure, JsonlHistory, ManualClock, Policy, RolloutConfig, RolloutMode, Tier,
};
use smartretry_admin::{AdminConfig, AdminServer};
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Duration;

const TOKEN: &str = "cli-learned-token-0123456789";
/// Midnight UTC, 2023-11-14 (a Tuesday).
const DAY0: f64 = 1_699_920_000.0;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_smartretry"))
        .args(args)
        .env_remove("SMARTRETRY_ENDPOINT")
        .env_remove("SMARTRETRY_ADMIN_TOKEN")
        .output()
        .unwrap()
}

fn ok(args: &[&str]) -> String {
    let o = run(args);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{args:?} failed: {stderr}");
    String::from_utf8(o.stdout).unwrap()
}

/// Jobs `first..first + n` of a queue whose dependency is down every night 02:00-02:20 UTC (every
/// other job starts inside the window, on successive days; the others meet a 2 s blip at 09:00).
/// Returns the tiers that decided.
fn jobs(engine: &Engine, clock: &ManualClock, first: u32, n: u32) -> Vec<Tier> {
    let mut tiers = Vec::new();
    for i in first..first + n {
        let day = DAY0 + f64::from(i / 2) * 86_400.0;
        let start = if i % 2 == 0 {
            day + 2.0 * 3600.0 + f64::from(i % 19) * 60.0
        } else {
            day + 9.0 * 3600.0 + f64::from(i % 7) * 600.0
        };
        clock.set(Duration::from_secs_f64(start));
        let up_at = if i % 2 == 0 {
            day + 2.0 * 3600.0 + 1200.0
        } else {
            start + 2.0
        };
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
    let mut policy = Policy {
        seed: Some(11),
        deadline: Some(Duration::from_secs(10_800)),
        ..Default::default()
    };
    for cp in policy.classes.values_mut() {
        cp.max_attempts = u32::MAX;
        cp.max_delay = Duration::from_secs(3600);
    }
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
