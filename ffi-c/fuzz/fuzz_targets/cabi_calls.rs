//! Arbitrary bytes as a sequence of C ABI calls on a small handle table: engines, episodes,
//! failures, policies, recommendation structs (copied freely) and schedules, with fuzzed
//! arguments, stale handles and arbitrary ids. Checks that nothing crashes, that every failing
//! call sets a typed status and a message, that a handle the harness knows is live is never
//! refused as invalid, and that a handle it freed is always refused.
//!
//! Engines come from a pool made once per process: building one compiles the classifier's
//! regexes, which takes ~0.3 s under the sanitizer and would cap the run at a few executions a
//! second. The pool's engines therefore keep what they learn across inputs; keys come from a
//! small set (plus invalid ones) so that per-key state stays bounded.
#![no_main]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use smartretry_ffi::*;
use std::ffi::{c_char, CStr};
use std::ptr::{null, null_mut};
use std::sync::OnceLock;

const SLOTS: usize = 4;

/// Handle ids made once per process (ids, so plain integers).
struct Pool {
    clock: usize,
    engines: [usize; 2],
    /// An engine freed at once: a stale id for every input.
    freed: usize,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let mut c = null_mut();
        let mut e = [null_mut(); 3];
        // SAFETY: every pointer is a valid out slot or a NUL-terminated literal.
        unsafe {
            live(smartretry_clock_new_manual(1.7e9, &mut c));
            live(smartretry_engine_new_from_json(
                c"{}".as_ptr(),
                c,
                &mut e[0],
            ));
            live(smartretry_engine_new_from_json(
                c"{\"seed\":7}".as_ptr(),
                c,
                &mut e[1],
            ));
            live(smartretry_engine_new(null(), c, &mut e[2]));
            live(smartretry_engine_free(e[2]));
        }
        Pool {
            clock: c.addr(),
            engines: [e[0].addr(), e[1].addr()],
            freed: e[2].addr(),
        }
    })
}

fn id<T>(v: usize) -> *mut T {
    std::ptr::without_provenance_mut(v)
}

#[derive(Default)]
struct World {
    engines: [Option<*mut smartretry_engine>; SLOTS],
    /// Episodes with the engine slot they were begun on.
    episodes: [Option<(*mut smartretry_episode, usize)>; SLOTS],
    failures: [Option<*mut smartretry_failure>; SLOTS],
    recs: [Option<smartretry_recommendation>; SLOTS],
    schedules: [Option<*mut smartretry_schedule>; SLOTS],
    /// Handles freed by the harness: every use must be refused.
    stale_engines: Vec<*mut smartretry_engine>,
    stale_episodes: Vec<*mut smartretry_episode>,
}

/// A checked status: a known code, and a message when it is an error.
fn check(s: smartretry_status) -> smartretry_status {
    assert!(
        !smartretry_status_name(s as u32).is_null(),
        "unknown status"
    );
    if s != smartretry_status::SMARTRETRY_OK {
        assert_eq!(smartretry_last_status(), s);
        // SAFETY: smartretry_last_error never returns NULL and is NUL-terminated.
        let msg = unsafe { CStr::from_ptr(smartretry_last_error()) };
        assert!(!msg.to_bytes().is_empty(), "error without a message");
    }
    assert_ne!(
        s,
        smartretry_status::SMARTRETRY_PANIC,
        "a panic reached the boundary"
    );
    s
}

/// The call involved only live handles of the right type: it must not say INVALID_HANDLE.
fn live(s: smartretry_status) {
    assert_ne!(check(s), smartretry_status::SMARTRETRY_INVALID_HANDLE);
}

/// The call involved a handle the harness freed: it must be refused.
fn stale(s: smartretry_status) {
    assert_eq!(check(s), smartretry_status::SMARTRETRY_INVALID_HANDLE);
}

/// A NUL-terminated byte string, possibly invalid UTF-8 or empty.
fn text(u: &mut Unstructured) -> Result<Vec<u8>> {
    let pick: u8 = u.arbitrary()?;
    let mut v = match pick % 4 {
        0 => b"payments".to_vec(),
        1 => b"ECONNRESET".to_vec(),
        2 => vec![b'k'; 600],
        _ => {
            let n = u.int_in_range(0..=24)?;
            u.bytes(n)?.to_vec()
        }
    };
    v.retain(|b| *b != 0);
    v.push(0);
    Ok(v)
}

/// An attempt context's JSON (or rollout mode or config): valid forms, typos, bad values and
/// arbitrary bytes, NUL-terminated.
fn context_text(u: &mut Unstructured) -> Result<Vec<u8>> {
    let pick: u8 = u.arbitrary()?;
    let mut v = match pick % 8 {
        0 => {
            br#"{"queue_depth": 120, "downstream_latency": 0.25, "worker_version": "w-2"}"#.to_vec()
        }
        1 => br#"{"queue_dept": 1}"#.to_vec(),
        2 => br#"{"downstream_latency": -1, "hour_of_day": 1e999}"#.to_vec(),
        3 => br#"{"hour_of_day": 23.99, "day_of_week": 6, "tenant": "acme"}"#.to_vec(),
        4 => b"canary:0.5".to_vec(),
        5 => br#"{"min_episodes": 2, "z": 0}"#.to_vec(),
        _ => return text(u),
    };
    v.push(0);
    Ok(v)
}

/// A key, tenant or dependency: one of a few valid names, or an invalid one.
fn name(u: &mut Unstructured) -> Result<Vec<u8>> {
    let pick: u8 = u.arbitrary()?;
    let mut v = match pick % 8 {
        0 => b"payments".to_vec(),
        1 => b"orders".to_vec(),
        2 => b"acme".to_vec(),
        3 => Vec::new(),
        4 => vec![b'k'; 600],
        5 => b"bad\tname".to_vec(),
        6 => b"\xff\xfe".to_vec(),
        _ => format!("key-{}", pick / 8).into_bytes(),
    };
    v.retain(|b| *b != 0);
    v.push(0);
    Ok(v)
}

fn number(u: &mut Unstructured) -> Result<f64> {
    Ok(match u.int_in_range(0..=5u8)? {
        0 => f64::NAN,
        1 => -1.0,
        2 => 1e300,
        3 => f64::INFINITY,
        4 => f64::from(u.int_in_range(0..=120u16)?),
        _ => f64::from_bits(u.arbitrary()?),
    })
}

fn slot(u: &mut Unstructured) -> Result<usize> {
    u.int_in_range(0..=SLOTS - 1)
}

/// A handle argument: usually a slot's, sometimes NULL, a freed one or an arbitrary id.
fn any_engine(w: &World, u: &mut Unstructured) -> Result<*mut smartretry_engine> {
    Ok(match u.int_in_range(0..=9u8)? {
        0 => null_mut(),
        1 => std::ptr::without_provenance_mut(u.arbitrary::<usize>()?),
        2 => w.stale_engines.last().copied().unwrap_or(null_mut()),
        _ => w.engines[slot(u)?].unwrap_or(null_mut()),
    })
}

fn step(w: &mut World, u: &mut Unstructured) -> Result<()> {
    let clock: *mut smartretry_clock = id(pool().clock);
    let op: u8 = u.arbitrary()?;
    let s = slot(u)?;
    // SAFETY (whole match): every pointer passed is NULL, a handle id (checked by the library,
    // never dereferenced), a NUL-terminated buffer that outlives the call, or a valid out slot.
    unsafe {
        match op % 20 {
            0 => {
                let e = pool().engines[usize::from(u.arbitrary::<bool>()?)];
                w.engines[s] = Some(id(e));
            }
            1 => {
                // Wrong-type and stale frees of an engine id are refused and change nothing.
                if let Some((ep, _)) = w.episodes[s] {
                    stale(smartretry_engine_free(ep.cast()));
                }
                if let Some(f) = w.failures[s] {
                    stale(smartretry_engine_free(f.cast()));
                }
                stale(smartretry_engine_free(id(pool().freed)));
            }
            2 if w.episodes[s].is_none() => {
                let e = slot(u)?;
                let key = name(u)?;
                let mut ep = null_mut();
                let engine = w.engines[e].unwrap_or(null_mut());
                let st = if u.arbitrary::<bool>()? {
                    check(smartretry_engine_begin(
                        engine,
                        key.as_ptr().cast(),
                        null(),
                        &mut ep,
                    ))
                } else {
                    // With an attempt context (the learned tier's), NULL or fuzzed JSON.
                    let ctx = context_text(u)?;
                    let ctx = if u.arbitrary::<bool>()? {
                        ctx.as_ptr().cast()
                    } else {
                        null()
                    };
                    check(smartretry_engine_begin_with_context(
                        engine,
                        key.as_ptr().cast(),
                        null(),
                        ctx,
                        &mut ep,
                    ))
                };
                if st == smartretry_status::SMARTRETRY_OK {
                    w.episodes[s] = Some((ep, e));
                }
            }
            3 => {
                if let Some((ep, _)) = w.episodes[s].take() {
                    live(smartretry_episode_free(ep));
                    w.stale_episodes.push(ep);
                }
            }
            4 => match w.failures[s] {
                None => {
                    let mut f = null_mut();
                    live(smartretry_failure_new(&mut f));
                    w.failures[s] = Some(f);
                }
                Some(f) => {
                    let v = text(u)?;
                    let st = match u.int_in_range(0..=6u8)? {
                        0 => smartretry_failure_set_http_status(f, u.arbitrary()?),
                        1 => smartretry_failure_set_grpc_code(f, u.arbitrary()?),
                        2 => smartretry_failure_set_error_code(f, v.as_ptr().cast()),
                        3 => smartretry_failure_set_exception(f, v.as_ptr().cast()),
                        4 => smartretry_failure_set_retry_after(f, number(u)?),
                        5 => smartretry_failure_set_class(f, u.int_in_range(0..=14)?),
                        _ => {
                            let e = any_engine(w, u)?;
                            smartretry_failure_set_retry_after_header(f, e, v.as_ptr().cast())
                        }
                    };
                    check(st);
                }
            },
            5..=7 => {
                let (ep, e_slot) = w.episodes[s].unwrap_or((null_mut(), 0));
                let e = if u.arbitrary()? {
                    any_engine(w, u)?
                } else {
                    w.engines[e_slot].unwrap_or(null_mut())
                };
                let f = w.failures[slot(u)?].unwrap_or(null_mut());
                let r = slot(u)?;
                let rec = w.recs[r].get_or_insert_with(|| std::mem::zeroed());
                check(match op % 20 {
                    5 => smartretry_engine_on_failure(e, ep, f, rec),
                    6 => smartretry_engine_recommend(e, ep, f, rec),
                    _ => smartretry_engine_record_failure(e, ep, f, null_mut()),
                });
            }
            8 => {
                let (ep, e_slot) = w.episodes[s].unwrap_or((null_mut(), 0));
                let e = w.engines[e_slot].unwrap_or(null_mut());
                let dep = name(u)?;
                let d: *const c_char = if u.arbitrary()? {
                    dep.as_ptr().cast()
                } else {
                    null()
                };
                check(smartretry_engine_on_success(e, ep, d));
                check(smartretry_engine_abandon(e, ep));
            }
            9 => {
                if let Some(rec) = w.recs[s].as_ref() {
                    let mut out: *mut c_char = null_mut();
                    for f in [
                        smartretry_recommendation_reason,
                        smartretry_recommendation_describe,
                        smartretry_recommendation_to_json,
                    ] {
                        if check(f(rec, &mut out)) == smartretry_status::SMARTRETRY_OK {
                            live(smartretry_string_free(out));
                        }
                    }
                    let mut c = std::mem::zeroed();
                    check(smartretry_recommendation_clamp(
                        rec,
                        u.int_in_range(0..=3)?,
                        &mut c,
                    ));
                    let mut a = std::mem::zeroed();
                    check(smartretry_recommendation_alternative(
                        rec,
                        u.arbitrary()?,
                        &mut a,
                    ));
                }
            }
            10 => {
                if let Some(rec) = w.recs[s].as_mut() {
                    check(smartretry_recommendation_free(rec));
                }
            }
            11 => {
                // A byte copy of a recommendation struct: two holders of one detail.
                let from = slot(u)?;
                if from != s {
                    if let Some(rec) = w.recs[from].as_ref() {
                        let copy = std::ptr::read(rec);
                        if let Some(mut old) = w.recs[s].replace(copy) {
                            check(smartretry_recommendation_free(&mut old));
                        }
                    }
                }
            }
            12 => {
                let e = any_engine(w, u)?;
                let f = w.failures[slot(u)?].unwrap_or(null_mut());
                let key = name(u)?;
                let mut out = null_mut();
                let steps = u.int_in_range(0..=12)?;
                if check(smartretry_engine_preview(
                    e,
                    key.as_ptr().cast(),
                    null(),
                    f,
                    steps,
                    &mut out,
                )) == smartretry_status::SMARTRETRY_OK
                {
                    if let Some(old) = w.schedules[s].replace(out) {
                        live(smartretry_schedule_free(old));
                    }
                }
            }
            13 => {
                if let Some(sched) = w.schedules[s] {
                    let mut n = 0;
                    live(smartretry_schedule_len(sched, &mut n));
                    let rec = w.recs[slot(u)?].get_or_insert_with(|| std::mem::zeroed());
                    check(smartretry_schedule_get(sched, u.int_in_range(0..=n)?, rec));
                }
            }
            14 => {
                if let Some(&e) = w.stale_engines.last() {
                    stale(smartretry_engine_free(e));
                    let mut st = std::mem::zeroed();
                    stale(smartretry_engine_stats(e, &mut st));
                }
                if let Some(&ep) = w.stale_episodes.last() {
                    stale(smartretry_episode_free(ep));
                }
            }
            15 => {
                check(smartretry_clock_advance(clock, number(u)?));
            }
            16 => {
                let e = any_engine(w, u)?;
                let name = name(u)?;
                let class = if u.arbitrary()? {
                    SMARTRETRY_CLASS_ALL
                } else {
                    u.int_in_range(0..=13)?
                };
                let scope = u.int_in_range(0..=2)?;
                check(smartretry_engine_set_override_delay(
                    e,
                    scope,
                    name.as_ptr().cast(),
                    class,
                    number(u)?,
                ));
                let patch = text(u)?;
                check(smartretry_engine_set_override(
                    e,
                    scope,
                    name.as_ptr().cast(),
                    class,
                    patch.as_ptr().cast(),
                ));
                check(smartretry_engine_clear_override(
                    e,
                    scope,
                    name.as_ptr().cast(),
                    class,
                ));
            }
            17 => {
                let e = any_engine(w, u)?;
                let f = w.failures[s].unwrap_or(null_mut());
                let mut c = 0;
                let mut rule = null_mut();
                if check(smartretry_engine_classify(e, f, &mut c, &mut rule))
                    == smartretry_status::SMARTRETRY_OK
                {
                    live(smartretry_string_free(rule));
                }
            }
            18 => {
                let e = any_engine(w, u)?;
                let mut st = std::mem::zeroed();
                check(smartretry_engine_stats(e, &mut st));
                let mut info = std::mem::zeroed();
                let ep = w.episodes[s].map_or(null_mut(), |x| x.0);
                live(smartretry_episode_get_info(ep, &mut info));
                // The learned tier: context updates, rollout control on keys of the small set
                // (no model is loaded, so only "off" is accepted), counters.
                let ctx = context_text(u)?;
                if let Some((ep, _)) = w.episodes[s] {
                    check(smartretry_episode_set_context(ep, ctx.as_ptr().cast()));
                }
                let key = name(u)?;
                check(smartretry_engine_set_rollout(
                    e,
                    key.as_ptr().cast(),
                    ctx.as_ptr().cast(),
                ));
                check(smartretry_engine_set_rollout_config(
                    e,
                    key.as_ptr().cast(),
                    ctx.as_ptr().cast(),
                ));
                let mut json = null_mut();
                if check(smartretry_engine_rollout_status_json(
                    e,
                    key.as_ptr().cast(),
                    &mut json,
                )) == smartretry_status::SMARTRETRY_OK
                {
                    live(smartretry_string_free(json));
                }
                let mut ls = std::mem::zeroed();
                check(smartretry_engine_learned_stats(e, &mut ls));
            }
            _ => {
                let mut p = null_mut();
                live(smartretry_policy_new(&mut p));
                check(smartretry_policy_set_max_attempts(
                    p,
                    u.int_in_range(0..=13)?,
                    u.int_in_range(0..=12)?,
                ));
                check(smartretry_policy_set_delay_bounds(
                    p,
                    u.int_in_range(0..=13)?,
                    number(u)?,
                    number(u)?,
                ));
                check(smartretry_policy_set_deadline(p, number(u)?));
                // A real set_policy recompiles the classifier (too slow to fuzz): the refusals only.
                stale(smartretry_engine_set_policy(id(pool().freed), p));
                live(smartretry_policy_free(p));
                stale(smartretry_policy_free(p));
                let e = any_engine(w, u)?;
                let st = check(smartretry_engine_set_policy(e, p));
                assert_ne!(st, smartretry_status::SMARTRETRY_OK);
            }
        }
    }
    Ok(())
}

fn teardown(w: &mut World) {
    // SAFETY: every handle is an id the library checks; recommendation structs are ours.
    unsafe {
        for rec in w.recs.iter_mut().flatten() {
            check(smartretry_recommendation_free(rec));
        }
        for s in w.schedules.iter().flatten() {
            live(smartretry_schedule_free(*s));
        }
        for (ep, _) in w.episodes.iter().flatten() {
            live(smartretry_episode_free(*ep));
        }
        for f in w.failures.iter().flatten() {
            live(smartretry_failure_free(*f));
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let mut w = World::default();
    w.stale_engines.push(id(pool().freed));
    for _ in 0..64 {
        if u.is_empty() || step(&mut w, &mut u).is_err() {
            break;
        }
    }
    teardown(&mut w);
});
