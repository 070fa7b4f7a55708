//! The learned tier through the C ABI, called as a C caller calls it: the model-file fixtures
//! (`tests/fixtures/learned/`), rollout control and the context JSON, with every refusal a typed
//! status. The C suite (tests/c/test_learned.c) and the Go tests run the same cases from their
//! languages.

use crate::clock::{smartretry_clock, smartretry_clock_free, smartretry_clock_new_manual};
use crate::context::{
    smartretry_engine_begin_with_context, smartretry_episode_context_json,
    smartretry_episode_set_context,
};
use crate::engine::{
    smartretry_engine, smartretry_engine_free, smartretry_engine_new_from_json,
    smartretry_engine_on_failure, smartretry_episode, smartretry_episode_free,
};
use crate::failure::smartretry_failure_set_http_status;
use crate::failure::{smartretry_failure, smartretry_failure_free, smartretry_failure_new};
use crate::learned::*;
use crate::names::SMARTRETRY_TIER_LEARNED;
use crate::recommendation::{
    smartretry_recommendation, smartretry_recommendation_free, smartretry_recommendation_reason,
};
use crate::status::smartretry_status::{self, *};
use crate::text::smartretry_string_free;
use std::ffi::{c_char, CStr, CString};
use std::ptr::{null, null_mut};

/// 2023-11-14 (a Tuesday) 02:05 UTC.
const AT_0205: f64 = 1_699_920_000.0 + 2.0 * 3600.0 + 300.0;

fn c(s: &str) -> CString {
    CString::new(s).expect("no NUL")
}

fn fixture(name: &str) -> CString {
    c(&format!(
        "{}/../tests/fixtures/learned/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
}

/// Take a library-owned string.
fn take(p: *mut c_char) -> String {
    assert!(!p.is_null());
    // SAFETY: a string this library returned, freed once right after.
    let s = unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned();
    // SAFETY: as above.
    assert_eq!(unsafe { smartretry_string_free(p) }, SMARTRETRY_OK);
    s
}

struct World {
    clock: *mut smartretry_clock,
    engine: *mut smartretry_engine,
    failure: *mut smartretry_failure,
}

impl World {
    /// An engine on a manual clock at 02:05 UTC whose classes may wait an hour.
    fn new() -> World {
        let mut w = World {
            clock: null_mut(),
            engine: null_mut(),
            failure: null_mut(),
        };
        let policy = c(
            r#"{"classes": {"unavailable": {"max_delay": 3600}, "server_error": {"max_delay": 3600}}}"#,
        );
        // SAFETY: valid strings and out-pointers.
        unsafe {
            assert_eq!(
                smartretry_clock_new_manual(AT_0205, &mut w.clock),
                SMARTRETRY_OK
            );
            assert_eq!(
                smartretry_engine_new_from_json(policy.as_ptr(), w.clock, &mut w.engine),
                SMARTRETRY_OK
            );
            assert_eq!(smartretry_failure_new(&mut w.failure), SMARTRETRY_OK);
            assert_eq!(
                smartretry_failure_set_http_status(w.failure, 503),
                SMARTRETRY_OK
            );
        }
        w
    }

    fn begin(
        &self,
        queue: &str,
        context: Option<&str>,
    ) -> Result<*mut smartretry_episode, smartretry_status> {
        let (q, ctx) = (c(queue), context.map(c));
        let mut ep = null_mut();
        // SAFETY: valid strings and out-pointer.
        let s = unsafe {
            smartretry_engine_begin_with_context(
                self.engine,
                q.as_ptr(),
                null(),
                ctx.as_ref().map_or(null(), |c| c.as_ptr()),
                &mut ep,
            )
        };
        if s == SMARTRETRY_OK {
            Ok(ep)
        } else {
            Err(s)
        }
    }

    /// The first failure of an episode on `queue`: (tier, delay, reason).
    fn first_failure(&self, queue: &str) -> (u32, f64, String) {
        let ep = self
            .begin(queue, Some(r#"{"queue_depth": 12}"#))
            .expect("begin");
        // SAFETY: a C caller's `= {0}`: every field of the struct is valid as zero bits.
        let mut rec: smartretry_recommendation = unsafe { std::mem::zeroed() };
        // SAFETY: live handles, a writable recommendation, freed below.
        unsafe {
            assert_eq!(
                smartretry_engine_on_failure(self.engine, ep, self.failure, &mut rec),
                SMARTRETRY_OK
            );
            let mut reason = null_mut();
            assert_eq!(
                smartretry_recommendation_reason(&rec, &mut reason),
                SMARTRETRY_OK
            );
            let out = (rec.tier, rec.delay, take(reason));
            assert_eq!(smartretry_recommendation_free(&mut rec), SMARTRETRY_OK);
            assert_eq!(smartretry_episode_free(ep), SMARTRETRY_OK);
            out
        }
    }
}

impl Drop for World {
    fn drop(&mut self) {
        // SAFETY: handles made in `new`, freed once.
        unsafe {
            smartretry_failure_free(self.failure);
            smartretry_engine_free(self.engine);
            smartretry_clock_free(self.clock);
        }
    }
}

#[test]
fn window_model_decides_and_a_damaged_file_changes_nothing() {
    let w = World::new();
    let (db, full) = (c("db"), c("full"));
    // SAFETY: live handles, valid strings and out-pointers throughout.
    unsafe {
        // No model: no mode but off.
        assert_eq!(
            smartretry_engine_set_rollout(w.engine, db.as_ptr(), full.as_ptr()),
            SMARTRETRY_INVALID_STATE
        );
        assert_eq!(
            smartretry_engine_load_model(w.engine, db.as_ptr(), fixture("window.srm").as_ptr()),
            SMARTRETRY_OK
        );
        assert_eq!(
            smartretry_engine_load_model(w.engine, db.as_ptr(), fixture("damaged.srm").as_ptr()),
            SMARTRETRY_INVALID_MODEL
        );
        assert_eq!(SMARTRETRY_INVALID_MODEL as u32, 14);
        assert_eq!(
            smartretry_engine_set_rollout(w.engine, db.as_ptr(), c("half").as_ptr()),
            SMARTRETRY_INVALID_CONFIG
        );
        assert_eq!(
            smartretry_engine_set_rollout(w.engine, db.as_ptr(), full.as_ptr()),
            SMARTRETRY_OK
        );
    }
    // The window model (kept despite the damaged file) waits until 02:20.
    let (tier, delay, reason) = w.first_failure("db");
    assert_eq!(tier, SMARTRETRY_TIER_LEARNED);
    assert!((delay - 900.0).abs() < 0.01, "{delay}");
    assert!(reason.contains("time_of_day=02:20"), "{reason}");
    // SAFETY: plain integers, valid as zero bits.
    let mut stats: smartretry_learned_stats = unsafe { std::mem::zeroed() };
    let mut json = null_mut();
    // SAFETY: as above.
    unsafe {
        assert_eq!(
            smartretry_engine_learned_stats(w.engine, &mut stats),
            SMARTRETRY_OK
        );
        assert_eq!(stats.decisions, 1);
        assert_eq!(
            smartretry_engine_rollout_status_json(w.engine, db.as_ptr(), &mut json),
            SMARTRETRY_OK
        );
        let status: serde_json::Value = serde_json::from_str(&take(json)).expect("json");
        assert_eq!(status["mode"]["mode"], "full");
        assert_eq!(status["model_loaded"], true);
        assert_eq!(
            smartretry_engine_rollout_status_json(w.engine, c("none").as_ptr(), &mut json),
            SMARTRETRY_OK
        );
        assert_eq!(take(json), "null");
        assert_eq!(
            smartretry_engine_rollback_rollout(w.engine, db.as_ptr()),
            SMARTRETRY_OK
        );
        // Nothing to promote on: no evidence.
        assert_eq!(
            smartretry_engine_promote_rollout(w.engine, db.as_ptr(), &mut json),
            SMARTRETRY_INVALID_STATE
        );
    }
    assert_ne!(w.first_failure("db").0, SMARTRETRY_TIER_LEARNED);
}

#[test]
fn bad_contexts_and_arguments_are_typed_statuses() {
    let w = World::new();
    for (ctx, want) in [
        (r#"{"queue_dept": 3}"#, SMARTRETRY_INVALID_CONFIG),
        (
            r#"{"downstream_latency": -0.5}"#,
            SMARTRETRY_INVALID_DURATION,
        ),
        (
            r#"{"downstream_latency": 1e999}"#,
            SMARTRETRY_INVALID_CONFIG,
        ),
        (r#"{"hour_of_day": 24}"#, SMARTRETRY_INVALID_CONFIG),
        (r#"{"worker_version": "a\u0001b"}"#, SMARTRETRY_INVALID_KEY),
        ("[1]", SMARTRETRY_INVALID_CONFIG),
    ] {
        assert_eq!(w.begin("q", Some(ctx)).err(), Some(want), "{ctx}");
    }
    let ep = w
        .begin(
            "q",
            Some(r#"{"queue_depth": 7, "downstream_latency": 0.25}"#),
        )
        .expect("ok");
    let bad_utf8 = b"{\"worker_version\": \"\xff\"}\0";
    let mut json = null_mut();
    // SAFETY: a live episode, NUL-terminated strings, a writable out-pointer.
    unsafe {
        assert_eq!(
            smartretry_episode_set_context(ep, bad_utf8.as_ptr().cast()),
            SMARTRETRY_INVALID_UTF8
        );
        assert_eq!(
            smartretry_episode_set_context(ep, c(r#"{"day_of_week": 7}"#).as_ptr()),
            SMARTRETRY_INVALID_CONFIG
        );
        // Refused contexts left the first one in place.
        assert_eq!(
            smartretry_episode_context_json(ep, &mut json),
            SMARTRETRY_OK
        );
        let ctx: serde_json::Value = serde_json::from_str(&take(json)).expect("json");
        assert_eq!(
            (
                ctx["queue_depth"].as_u64(),
                ctx["downstream_latency"].as_f64()
            ),
            (Some(7), Some(0.25))
        );
        assert_eq!(smartretry_episode_set_context(ep, null()), SMARTRETRY_OK);
        assert_eq!(
            smartretry_episode_context_json(ep, &mut json),
            SMARTRETRY_OK
        );
        assert!(take(json).contains("\"queue_depth\":null"));
        assert_eq!(smartretry_episode_free(ep), SMARTRETRY_OK);
        assert_eq!(
            smartretry_episode_set_context(ep, null()),
            SMARTRETRY_INVALID_HANDLE
        );
        assert_eq!(
            smartretry_engine_set_rollout(null(), c("q").as_ptr(), c("off").as_ptr()),
            SMARTRETRY_NULL_ARGUMENT
        );
        assert_eq!(
            smartretry_engine_set_rollout(w.engine, null(), c("off").as_ptr()),
            SMARTRETRY_NULL_ARGUMENT
        );
        assert_eq!(
            smartretry_engine_load_model(w.engine, c("q").as_ptr(), c("/nonexistent.srm").as_ptr()),
            SMARTRETRY_IO
        );
        assert_eq!(
            smartretry_engine_set_rollout_config(
                w.engine,
                c("q").as_ptr(),
                c(r#"{"min_episode": 5}"#).as_ptr()
            ),
            SMARTRETRY_INVALID_CONFIG
        );
        assert_eq!(
            smartretry_engine_set_rollout_config(
                w.engine,
                c("q").as_ptr(),
                c(r#"{"min_episodes": 5}"#).as_ptr()
            ),
            SMARTRETRY_OK
        );
        assert_eq!(
            smartretry_engine_learned_stats(w.engine, null_mut()),
            SMARTRETRY_NULL_ARGUMENT
        );
    }
}
