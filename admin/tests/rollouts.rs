//! `/rollouts` through a real HTTP client: load a model file, shadow, promotion refused without
//! evidence, manual rollback; writes need the token.

use smartretry::learned::{FeatureSchema, LogisticModel, Metrics, TrainingInfo};
use smartretry::{Engine, ManualClock, ModelFile, Policy, RolloutMode};
use smartretry_admin::{AdminConfig, AdminServer};
use std::time::Duration;

const TOKEN: &str = "a-long-enough-test-token";

fn send(url: &str, token: Option<&str>, body: &str) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut req = ureq::http::Request::builder().method("PUT").uri(url);
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    let mut r = agent.run(req.body(body.to_string()).unwrap()).unwrap();
    (r.status().as_u16(), r.body_mut().read_to_string().unwrap())
}

#[test]
fn rollouts_are_set_and_rolled_back_over_http() {
    let clock = ManualClock::shared(Duration::from_secs(1_700_000_000));
    let engine = Engine::with_clock(Policy::default(), clock).unwrap();
    let config = AdminConfig {
        token: Some(TOKEN.into()),
        ..Default::default()
    };
    let admin = AdminServer::start(&engine, config).unwrap();
    let url = format!("{}/rollouts", admin.url());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.srm");
    let schema = FeatureSchema::new(vec![], vec![]);
    let n = schema.len();
    ModelFile {
        model: LogisticModel::new(schema, vec![0.1; n], vec![0.0; n]).unwrap(),
        training: TrainingInfo::default(),
        metrics: Metrics::default(),
    }
    .save(&path)
    .unwrap();
    let load = format!(
        r#"{{"queue":"db","model":{:?},"mode":"shadow"}}"#,
        path.display().to_string()
    );
    assert_eq!(send(&url, None, &load).0, 401);
    let (status, body) = send(&url, Some(TOKEN), &load);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""mode":"shadow""#), "{body}");
    assert_eq!(
        engine.rollout_status("db").unwrap().mode,
        RolloutMode::Shadow
    );
    // No evidence yet: a promotion is refused with the core's code.
    let (status, body) = send(&url, Some(TOKEN), r#"{"queue":"db","promote":true}"#);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("INVALID_STATE"), "{body}");
    // A damaged model file: INVALID_MODEL, nothing changes.
    std::fs::write(&path, b"SRML not a model").unwrap();
    let (status, body) = send(&url, Some(TOKEN), &load);
    assert!(status == 400 && body.contains("INVALID_MODEL"), "{body}");
    // Manual rollback.
    let (status, _) = send(&url, Some(TOKEN), r#"{"queue":"db","mode":"off"}"#);
    assert_eq!(status, 200);
    assert_eq!(engine.rollout_status("db").unwrap().mode, RolloutMode::Off);
}
