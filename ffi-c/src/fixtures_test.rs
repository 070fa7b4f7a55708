//! The shared fixtures (`tests/fixtures/*.json`, format in its README) run through the C ABI
//! exactly as a C caller makes the calls: failure from JSON, Retry-After header, classify,
//! begin, on_failure, with an observer collecting event kinds. Drift between the C ABI and the
//! core fails here, as it does in the Rust, Python and Node suites.

use crate::clock::smartretry_clock_new_manual;
use crate::engine::{smartretry_engine_begin, smartretry_engine_classify, smartretry_engine_new};
use crate::engine::{
    smartretry_engine_free, smartretry_engine_on_failure, smartretry_episode_free,
};
use crate::failure::{
    smartretry_failure_free, smartretry_failure_new_from_json,
    smartretry_failure_set_retry_after_header,
};
use crate::names::{smartretry_action_name, smartretry_class_name, smartretry_tier_name};
use crate::observer::{smartretry_engine_add_observer, smartretry_event};
use crate::recommendation::{smartretry_recommendation, smartretry_recommendation_free};
use crate::status::{smartretry_status, smartretry_status_name};
use crate::text::smartretry_string_free;
use std::ffi::{c_char, c_void, CStr, CString};
use std::ptr::{null, null_mut};

const EVENT_NAMES: [&str; 6] = [
    "attempt",
    "decision",
    "success",
    "exhausted",
    "breaker",
    "clamp",
];

extern "C" fn collect(event: *const smartretry_event, user: *mut c_void) {
    // A callback called from the library must not unwind into it either.
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: the engine passes a valid event for the callback's duration, and `user` is
        // the `Vec<String>` registered below, alive for the whole case, used by this thread only.
        let (event, seen) = unsafe { (&*event, &mut *user.cast::<Vec<String>>()) };
        let name = EVENT_NAMES.get(event.kind as usize).copied().unwrap_or("?");
        seen.push(name.to_string());
    });
}

fn name(p: *const c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: the library's name functions return static NUL-terminated strings or NULL.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

fn code(status: smartretry_status) -> Result<(), String> {
    match status {
        smartretry_status::SMARTRETRY_OK => Ok(()),
        s => Err(name(smartretry_status_name(s as u32))),
    }
}

/// One case through the C ABI: the fields the fixtures compare, or the error code.
fn run(case: &serde_json::Value) -> Result<serde_json::Value, String> {
    let json = CString::new(case["failure"].to_string()).map_err(|e| e.to_string())?;
    let mut seen: Vec<String> = Vec::new();
    let (mut clock, mut engine, mut failure, mut episode) =
        (null_mut(), null_mut(), null_mut(), null_mut());
    let mut rec: smartretry_recommendation =
        // SAFETY: the struct is plain data; all-zero is its documented "empty" state.
        unsafe { std::mem::zeroed() };
    let out = (|| {
        // SAFETY (every call below): handles come from the calls before them, strings are
        // NUL-terminated CStrings alive for the call, outs point to locals.
        unsafe {
            code(smartretry_clock_new_manual(1_700_000_000.0, &mut clock))?;
            code(smartretry_engine_new(null(), clock, &mut engine))?;
            let user = (&mut seen as *mut Vec<String>).cast::<c_void>();
            code(smartretry_engine_add_observer(engine, Some(collect), user))?;
            code(smartretry_failure_new_from_json(
                json.as_ptr(),
                &mut failure,
            ))?;
            if let Some(h) = case["retry_after_header"].as_str() {
                let h = CString::new(h).map_err(|e| e.to_string())?;
                code(smartretry_failure_set_retry_after_header(
                    failure,
                    engine,
                    h.as_ptr(),
                ))?;
            }
            let (mut class, mut rule) = (0, null_mut());
            code(smartretry_engine_classify(
                engine, failure, &mut class, &mut rule,
            ))?;
            let rule_name = name(rule);
            smartretry_string_free(rule);
            let key = CString::new(case["key"].as_str().unwrap_or("fixture"))
                .map_err(|e| e.to_string())?;
            let tenant = case["tenant"].as_str().map(CString::new).transpose();
            let tenant = tenant.map_err(|e| e.to_string())?;
            let tenant_ptr = tenant.as_ref().map_or(null(), |t| t.as_ptr());
            code(smartretry_engine_begin(
                engine,
                key.as_ptr(),
                tenant_ptr,
                &mut episode,
            ))?;
            code(smartretry_engine_on_failure(
                engine, episode, failure, &mut rec,
            ))?;
            Ok(serde_json::json!({
                "class": name(smartretry_class_name(class)),
                "rule": rule_name,
                "action": name(smartretry_action_name(rec.action)),
                "tier": name(smartretry_tier_name(rec.tier)),
                "delay": rec.delay,
            }))
        }
    })();
    // SAFETY: each handle is NULL or live and freed once; freeing NULL is a typed no-op.
    unsafe {
        smartretry_recommendation_free(&mut rec);
        smartretry_episode_free(episode);
        smartretry_failure_free(failure);
        smartretry_engine_free(engine);
        crate::clock::smartretry_clock_free(clock);
    }
    out.map(|mut v| {
        v["events"] = seen.into();
        v
    })
}

/// Compare one case's outcome with its `expect`; the mismatches, if any.
fn check(case: &serde_json::Value) -> Vec<String> {
    let expect = &case["expect"];
    let name = case["name"].as_str().unwrap_or("?");
    let got = match (run(case), expect["error"].as_str()) {
        (Err(e), Some(want)) if e == want => return vec![],
        (Err(e), want) => return vec![format!("{name}: error {e}, expected {want:?}")],
        (Ok(_), Some(want)) => return vec![format!("{name}: accepted, expected {want}")],
        (Ok(v), None) => v,
    };
    let mut bad = Vec::new();
    for field in ["class", "rule", "action", "tier", "events"] {
        if !expect[field].is_null() && expect[field] != got[field] {
            bad.push(format!(
                "{name}: {field} {} expected {}",
                got[field], expect[field]
            ));
        }
    }
    if let (Some(lo), Some(hi)) = (expect["delay"][0].as_f64(), expect["delay"][1].as_f64()) {
        let d = got["delay"].as_f64().unwrap_or(f64::NAN);
        if !(lo - 1e-9..=hi + 1e-9).contains(&d) {
            bad.push(format!("{name}: delay {d} outside [{lo}, {hi}]"));
        }
    }
    bad
}

#[test]
fn every_shared_fixture_answers_the_same_through_the_c_abi() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/fixtures exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let (mut cases, mut bad) = (0, Vec::new());
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable fixture");
        let list: Vec<serde_json::Value> = serde_json::from_str(&text).expect("fixture JSON");
        for case in &list {
            cases += 1;
            bad.extend(check(case));
        }
    }
    assert!(cases >= 100, "only {cases} cases found");
    assert!(
        bad.is_empty(),
        "{} of {cases} cases differ:\n{}",
        bad.len(),
        bad.join("\n")
    );
}
