//! The endpoint through a real HTTP client on 127.0.0.1 (ephemeral ports) and a Unix socket.

use smartretry::{Engine, Failure, ManualClock, Policy};
use smartretry_admin::{AdminConfig, AdminServer};
use std::sync::Arc;
use std::time::Duration;

const TOKEN: &str = "a-long-enough-test-token";

fn engine() -> (Engine, Arc<ManualClock>) {
    let clock = ManualClock::shared(Duration::from_secs(1_700_000_000));
    let p = Policy::from_json(r#"{"seed":3,"learning":{"portfolio":false}}"#).unwrap();
    (Engine::with_clock(p, clock.clone()).unwrap(), clock)
}

fn start(engine: &Engine, token: Option<&str>) -> AdminServer {
    let config = AdminConfig {
        token: token.map(str::to_string),
        ..Default::default()
    };
    AdminServer::start(engine, config).unwrap()
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

fn get(url: &str) -> (u16, String) {
    let mut r = agent().get(url).call().unwrap();
    (r.status().as_u16(), r.body_mut().read_to_string().unwrap())
}

fn send(method: &str, url: &str, token: Option<&str>, body: &str) -> (u16, String) {
    let mut req = ureq::http::Request::builder().method(method).uri(url);
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    let mut r = agent().run(req.body(body.to_string()).unwrap()).unwrap();
    (r.status().as_u16(), r.body_mut().read_to_string().unwrap())
}

fn failing_episode(e: &Engine, clock: &ManualClock, key: &str) -> smartretry::Recommendation {
    let mut ep = e.begin(key, None).unwrap();
    let rec = e.on_failure(&mut ep, &Failure::http(503)).unwrap();
    clock.advance(rec.delay);
    e.on_success(&mut ep).unwrap();
    rec
}

#[test]
fn serves_stats_decisions_models_and_metrics() {
    let (e, clock) = engine();
    let admin = start(&e, None);
    assert!(admin.url().starts_with("http://127.0.0.1:"));
    for _ in 0..30 {
        failing_episode(&e, &clock, "payments");
    }
    let (status, body) = get(&format!("{}/stats", admin.url()));
    assert_eq!(status, 200);
    let stats: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(stats["episodes"], 30);

    let (_, body) = get(&format!("{}/decisions?limit=2", admin.url()));
    let recent: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(recent.as_array().unwrap().len(), 2);
    assert_eq!(recent[0]["key"], "payments");
    assert!(
        recent[0]["recommendation"]["reason"]
            .as_str()
            .unwrap()
            .len()
            > 5
    );

    let (_, body) = get(&format!("{}/models", admin.url()));
    let models: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(models[0]["class"], "unavailable");
    assert!(!models[0]["curve"].as_array().unwrap().is_empty());
    assert!(models[0]["report"]["portfolio"].is_object());

    let mut r = agent()
        .get(&format!("{}/metrics", admin.url()))
        .call()
        .unwrap();
    let ctype = r
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(ctype.starts_with("text/plain; version=0.0.4"));
    let text = r.body_mut().read_to_string().unwrap();
    assert!(text.contains("# TYPE smartretry_decisions_total counter"));
    assert!(text.contains("smartretry_episodes_total 30"));
    assert!(text.contains("smartretry_recommendation_latency_seconds_bucket{le=\"+Inf\"} 30"));

    let (status, body) = get(&format!("{}/nope", admin.url()));
    assert_eq!(status, 404);
    assert!(body.contains("NOT_FOUND"));
}

#[test]
fn overrides_need_the_token_and_the_next_decision_obeys() {
    let (e, clock) = engine();
    let admin = start(&e, Some(TOKEN));
    let url = format!("{}/overrides", admin.url());
    let body = r#"{"scope":"queue","name":"mail","patch":{"fixed_delay":7}}"#;
    assert_eq!(send("PUT", &url, None, body).0, 401);
    assert_eq!(
        send("PUT", &url, Some("wrong-token-wrong-token"), body).0,
        401
    );
    let (status, listed) = send("PUT", &url, Some(TOKEN), body);
    assert_eq!(status, 200, "{listed}");
    assert!(listed.contains("\"fixed_delay\":7"));
    let rec = failing_episode(&e, &clock, "mail");
    assert_eq!(rec.delay, Duration::from_secs(7));
    assert_eq!(rec.tier.as_str(), "operator");

    let (status, err) = send("PUT", &url, Some(TOKEN), r#"{"scope":"planet","name":"x"}"#);
    assert_eq!(status, 400);
    assert!(err.contains("INVALID_CONFIG"));
    let (status, _) = send(
        "DELETE",
        &url,
        Some(TOKEN),
        r#"{"scope":"queue","name":"mail"}"#,
    );
    assert_eq!(status, 200);
    assert_eq!(get(&url).1, "[]");
}

#[test]
fn writes_are_refused_without_a_configured_token() {
    let (e, _) = engine();
    let admin = start(&e, None);
    let (status, body) = send(
        "PUT",
        &format!("{}/overrides", admin.url()),
        Some(TOKEN),
        r#"{"scope":"queue","name":"q","patch":{"max_attempts":2}}"#,
    );
    assert_eq!(status, 403);
    assert!(body.contains("WRITES_DISABLED"));
    assert!(e.overrides().is_empty());
}

#[test]
fn previews_a_schedule_without_changing_anything() {
    let (e, _) = engine();
    let admin = start(&e, None);
    let (status, body) = send(
        "POST",
        &format!("{}/preview", admin.url()),
        None,
        r#"{"key":"payments","failure":{"http_status":503},"steps":4}"#,
    );
    assert_eq!(status, 200, "{body}");
    let recs: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(recs.as_array().unwrap().len(), 4);
    assert_eq!(e.stats().episodes, 0);
    let (status, body) = send(
        "POST",
        &format!("{}/preview", admin.url()),
        None,
        r#"{"key":"payments","failure":{"http_status":99}}"#,
    );
    assert_eq!(status, 400);
    assert!(body.contains("INVALID_FAILURE"), "{body}");
}

#[test]
fn stops_on_drop_and_frees_the_port() {
    let (e, _) = engine();
    let admin = start(&e, None);
    let url = admin.url().to_string();
    drop(admin);
    assert!(agent().get(&format!("{url}/stats")).call().is_err());
}

#[cfg(unix)]
#[test]
fn serves_on_a_unix_socket() {
    use std::io::{Read, Write};
    let (e, _) = engine();
    let dir = std::env::temp_dir().join(format!("smartretry-admin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("admin.sock");
    let _ = std::fs::remove_file(&path);
    let config = AdminConfig {
        listen: format!("unix:{}", path.display()),
        ..Default::default()
    };
    let admin = AdminServer::start(&e, config).unwrap();
    assert!(admin.url().starts_with("unix:"));
    let mut s = std::os::unix::net::UnixStream::connect(&path).unwrap();
    s.write_all(b"GET /stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    assert!(out.contains("\"episodes\":0"));
    drop(admin);
    let _ = std::fs::remove_dir_all(&dir);
}
