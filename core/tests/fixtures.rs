//! Runs every shared fixture in `tests/fixtures/*.json` (format: `tests/fixtures/README.md`):
//! failure JSON → classification → recommendation of a default-policy engine → events, or the
//! expected error code. The C, Python and Node suites run the same files.

use parking_lot::Mutex;
use serde::Deserialize;
use smartretry::{Engine, Error, Event, Failure, ManualClock, Policy};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Where the engine's manual clock starts (seconds since the Unix epoch).
const CLOCK_START: u64 = 1_700_000_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    tenant: Option<String>,
    failure: serde_json::Value,
    #[serde(default)]
    retry_after_header: Option<String>,
    expect: Expect,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    error: Option<String>,
    class: Option<String>,
    rule: Option<String>,
    retry_after: Option<f64>,
    action: Option<String>,
    tier: Option<String>,
    delay: Option<[f64; 2]>,
    events: Option<Vec<String>>,
}

/// What one case produced, in the fixtures' terms.
#[derive(Debug, Default)]
struct Outcome {
    class: String,
    rule: String,
    retry_after: Option<f64>,
    action: String,
    tier: String,
    delay: f64,
    events: Vec<String>,
}

fn run(case: &Case) -> Result<Outcome, Error> {
    let clock = ManualClock::shared(Duration::from_secs(CLOCK_START));
    let engine = Engine::with_clock(Policy::default(), clock.clone())?;
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    engine.add_observer(Arc::new(move |e: &Event<'_>| {
        sink.lock().push(e.event_type().to_string())
    }));
    let mut failure = Failure::from_json(&case.failure.to_string())?;
    if let Some(header) = &case.retry_after_header {
        failure = failure.with_retry_after_header(header, engine.now())?;
    }
    let classification = engine.classify(&failure);
    let key = case.key.as_deref().unwrap_or("fixture");
    let mut episode = engine.begin(key, case.tenant.as_deref())?;
    let rec = engine.on_failure(&mut episode, &failure)?;
    let events = events.lock().clone();
    Ok(Outcome {
        class: classification.class.as_str().to_string(),
        rule: classification.rule,
        retry_after: failure.retry_after.map(|d| d.as_secs_f64()),
        action: rec.action.as_str().to_string(),
        tier: rec.tier.as_str().to_string(),
        delay: rec.delay.as_secs_f64(),
        events,
    })
}

/// Every difference between what a case expects and what it got.
fn check(case: &Case) -> Vec<String> {
    let e = &case.expect;
    let mut bad = Vec::new();
    let mut same = |what: &str, want: Option<&String>, got: &str| {
        if let Some(want) = want {
            if want != got {
                bad.push(format!("{what}: expected {want:?}, got {got:?}"));
            }
        }
    };
    match (run(case), &e.error) {
        (Err(err), Some(code)) => same("error", Some(code), err.code()),
        (Err(err), None) => bad.push(format!("unexpected error {}: {err}", err.code())),
        (Ok(out), Some(code)) => bad.push(format!("expected error {code}, got {out:?}")),
        (Ok(out), None) => {
            same("class", e.class.as_ref(), &out.class);
            same("rule", e.rule.as_ref(), &out.rule);
            same("action", e.action.as_ref(), &out.action);
            same("tier", e.tier.as_ref(), &out.tier);
            if let Some(want) = &e.events {
                same("events", Some(&want.join(",")), &out.events.join(","));
            }
            if e.retry_after.is_some() && e.retry_after != out.retry_after {
                bad.push(format!(
                    "retry_after: expected {:?}, got {:?}",
                    e.retry_after, out.retry_after
                ));
            }
            if let Some([lo, hi]) = e.delay {
                if !(lo..=hi).contains(&out.delay) {
                    bad.push(format!("delay: expected {lo}..={hi}, got {}", out.delay));
                }
            }
        }
    }
    bad
}

fn fixture_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_fixture_file_passes() {
    let files = fixture_files();
    assert!(files.len() >= 3, "fixture files missing: {files:?}");
    let mut failures = Vec::new();
    let mut total = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let cases: Vec<Case> = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: not a list of cases: {e}", file.display()));
        assert!(!cases.is_empty(), "{}: no cases", file.display());
        for case in &cases {
            total += 1;
            for problem in check(case) {
                let name = file.file_name().unwrap_or_default().to_string_lossy();
                failures.push(format!("{name}: {}: {problem}", case.name));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {total} fixture checks failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Case names are unique across files, so a failure report names one case.
#[test]
fn case_names_are_unique() {
    let mut names = std::collections::HashSet::new();
    for file in fixture_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        let cases: Vec<Case> = serde_json::from_str(&text).unwrap();
        for case in cases {
            assert!(
                names.insert(case.name.clone()),
                "duplicate case {:?}",
                case.name
            );
        }
    }
}
