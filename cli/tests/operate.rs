//! The operator commands end to end: the binary against a live engine's admin endpoint on
//! 127.0.0.1 (started in this test process), and against a local policy and snapshot.

mod common;
use common::{fails, ok};
use smartretry::{Engine, Failure, ManualClock, Policy};
use smartretry_admin::{AdminConfig, AdminServer};
use std::sync::Arc;
use std::time::Duration;

const TOKEN: &str = "cli-test-token-0123456789";

fn live() -> (Engine, Arc<ManualClock>, AdminServer) {
    let clock = ManualClock::shared(Duration::from_secs(1_700_000_000));
    let p = Policy::from_json(r#"{"seed":5,"learning":{"portfolio":false}}"#).unwrap();
    let engine = Engine::with_clock(p, clock.clone()).unwrap();
    let config = AdminConfig {
        token: Some(TOKEN.into()),
        ..Default::default()
    };
    let admin = AdminServer::start(&engine, config).unwrap();
    (engine, clock, admin)
}

fn episode(e: &Engine, clock: &ManualClock, key: &str) -> smartretry::Recommendation {
    let mut ep = e.begin(key, None).unwrap();
    let rec = e.on_failure(&mut ep, &Failure::http(503)).unwrap();
    clock.advance(rec.delay);
    e.on_success(&mut ep).unwrap();
    rec
}

#[test]
fn stats_inspect_preview_and_explain_read_a_live_engine() {
    let (engine, clock, admin) = live();
    let url = admin.url().to_string();
    for _ in 0..25 {
        episode(&engine, &clock, "payments");
    }
    let table = ok(&["stats", "--endpoint", &url]);
    assert!(
        table.contains("episodes") && table.contains("25"),
        "{table}"
    );
    assert!(table.contains("decisions[heuristic]"), "{table}");
    let json: serde_json::Value =
        serde_json::from_str(&ok(&["stats", "--endpoint", &url, "--json"])).unwrap();
    assert_eq!(json["stats"]["episodes"], 25);

    let table = ok(&["inspect", "--endpoint", &url]);
    assert!(table.starts_with("key"), "{table}");
    assert!(
        table.contains("payments") && table.contains("unavailable"),
        "{table}"
    );

    let table = ok(&[
        "preview",
        "--endpoint",
        &url,
        "--key",
        "payments",
        "--status",
        "503",
        "--steps",
        "3",
    ]);
    assert_eq!(table.lines().count(), 2 + 3, "{table}");
    assert!(table.lines().nth(2).unwrap().starts_with("1 "), "{table}");

    let out = ok(&[
        "explain",
        "--endpoint",
        &url,
        "--key",
        "payments",
        "--status",
        "503",
        "--json",
    ]);
    let x: serde_json::Value = serde_json::from_str(&out).unwrap();
    let tiers: Vec<&str> = x["proposals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["tier"].as_str().unwrap())
        .collect();
    assert!(
        tiers.contains(&"learned") && tiers.contains(&"heuristic"),
        "{tiers:?}"
    );
    let text = ok(&[
        "explain",
        "--endpoint",
        &url,
        "--key",
        "payments",
        "--status",
        "503",
    ]);
    assert!(
        text.contains("proposals") && text.contains("clamps:"),
        "{text}"
    );
    // Reads changed nothing.
    assert_eq!(engine.stats().episodes, 25);
}

#[test]
fn override_set_list_clear_steers_the_next_decision() {
    let (engine, clock, admin) = live();
    let url = admin.url().to_string();
    let err = fails(&[
        "override",
        "set",
        "--endpoint",
        &url,
        "--queue",
        "mail",
        "--fixed-delay",
        "7",
    ]);
    assert!(err.contains("401") && err.contains("UNAUTHORIZED"), "{err}");
    let table = ok(&[
        "override",
        "set",
        "--endpoint",
        &url,
        "--token",
        TOKEN,
        "--queue",
        "mail",
        "--fixed-delay",
        "7",
    ]);
    assert!(
        table.contains("queue") && table.contains("\"fixed_delay\":7.0"),
        "{table}"
    );
    let rec = episode(&engine, &clock, "mail");
    assert_eq!(
        (rec.delay, rec.tier.as_str()),
        (Duration::from_secs(7), "operator")
    );

    let listed = ok(&["override", "list", "--endpoint", &url, "--json"]);
    assert!(listed.contains("\"name\": \"mail\""), "{listed}");
    let config = ok(&["export-config", "--endpoint", &url]);
    let doc: serde_json::Value = serde_json::from_str(&config).unwrap();
    assert_eq!(doc["overrides"][0]["name"], "mail");
    assert!(doc["policy"]["classes"].is_object());

    ok(&[
        "override",
        "clear",
        "--endpoint",
        &url,
        "--token",
        TOKEN,
        "--queue",
        "mail",
    ]);
    assert!(engine.overrides().is_empty());
    let err = fails(&[
        "override",
        "set",
        "--endpoint",
        &url,
        "--token",
        TOKEN,
        "--queue",
        "mail",
    ]);
    assert!(err.contains("nothing to set"), "{err}");
}

#[test]
fn local_policy_and_snapshot_without_an_endpoint() {
    let dir = std::env::temp_dir().join(format!("smartretry-cli-operate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let policy = dir.join("policy.json");
    std::fs::write(&policy, r#"{"classes":{"unavailable":{"max_attempts":3}}}"#).unwrap();
    let p = policy.to_str().unwrap();
    let table = ok(&["preview", "--policy", p, "--key", "q", "--status", "503"]);
    assert_eq!(table.lines().count(), 2 + 3, "{table}");
    assert!(table.contains("give_up"));
    let config: serde_json::Value =
        serde_json::from_str(&ok(&["export-config", "--policy", p])).unwrap();
    assert_eq!(
        config["policy"]["classes"]["unavailable"]["max_attempts"],
        3
    );

    let (engine, clock, _admin) = live();
    for _ in 0..5 {
        episode(&engine, &clock, "payments");
    }
    let snap = dir.join("models.snap");
    engine.save_snapshot(&snap).unwrap();
    let out = ok(&["inspect", "--snapshot", snap.to_str().unwrap(), "--json"]);
    let models: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(models[0]["key"], "payments");
    assert!(models[0]["plan"].as_array().unwrap().len() > 1);

    assert!(fails(&["stats", "--policy", p]).contains("needs a live engine"));
    assert!(fails(&["override", "list", "--policy", p]).contains("--endpoint"));
    assert!(fails(&["preview", "--key", "q"]).contains("--status"));
    assert!(fails(&["inspect", "--endpoint", "ftp://x"]).contains("http://"));
    assert!(fails(&["stats", "--endpoint", "http://127.0.0.1:1"]).contains("127.0.0.1:1"));
    let _ = std::fs::remove_dir_all(&dir);
}
