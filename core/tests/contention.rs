//! Contention pacing through the engine: a crowd of writers on one resource, where an attempt
//! that starts within a short window after another one conflicts (HTTP 409). With learning on,
//! the key's conflict retries stretch to the crowd and far fewer attempts conflict; with
//! learning off the class schedule runs as it is. Manual clock, fixed seeds.

use smartretry::*;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

fn s(x: f64) -> Duration {
    Duration::from_secs_f64(x)
}

/// What a run of crowded rounds did.
struct Crowd {
    /// Failed attempts per writer, per round.
    failed_per_writer: Vec<f64>,
    /// Writers that gave up.
    gave_up: usize,
    /// The last paced retry's reason, if any retry was paced.
    paced_reason: Option<String>,
    /// The largest stretch any retry was given.
    max_stretch: f64,
}

/// `rounds` rounds of `writers` writers starting at the same instant, an hour apart; an
/// attempt conflicts when it starts less than `window` seconds after the previous attempt.
fn crowd(learning: bool, writers: usize, window: f64, rounds: usize) -> Crowd {
    crowd_over(1, learning, writers, window, rounds)
}

/// `crowd`, with the writers spread over `processes` engines (writer w in engine w % processes),
/// each learning only from its own writers' retries.
fn crowd_over(
    processes: usize,
    learning: bool,
    writers: usize,
    window: f64,
    rounds: usize,
) -> Crowd {
    let clock = ManualClock::shared(s(1_700_000_000.0));
    let engines: Vec<Engine> = (0..processes)
        .map(|i| {
            let policy = format!(
                r#"{{"seed":{},"learning":{{"enabled":{learning}}},
                    "classes":{{"conflict":{{"max_attempts":1000,"max_delay":600}}}}}}"#,
                11 + i
            );
            Engine::from_json(&policy, clock.clone()).unwrap()
        })
        .collect();
    let engine_of = |w: usize| &engines[w % processes];
    let start = clock.now();
    let mut out = Crowd {
        failed_per_writer: Vec::new(),
        gave_up: 0,
        paced_reason: None,
        max_stretch: 1.0,
    };
    for round in 0..rounds {
        let t0 = round as f64 * 3600.0;
        let mut episodes: Vec<Episode> = (0..writers)
            .map(|w| engine_of(w).begin("ledger", None).unwrap())
            .collect();
        // (time in µs, writer): attempts in the order they start.
        let mut queue: BinaryHeap<Reverse<(u64, usize)>> = (0..writers)
            .map(|w| Reverse(((t0 * 1e6) as u64, w)))
            .collect();
        let mut last_start = f64::NEG_INFINITY;
        let mut failed = 0usize;
        while let Some(Reverse((at, w))) = queue.pop() {
            let t = at as f64 / 1e6;
            clock.set(start + s(t));
            let conflict = t - last_start < window;
            last_start = t;
            let e = engine_of(w);
            if !conflict {
                e.on_success(&mut episodes[w]).unwrap();
                continue;
            }
            failed += 1;
            let r = e.on_failure(&mut episodes[w], &Failure::http(409)).unwrap();
            if let Reason::Paced { factor, .. } = r.reason {
                out.max_stretch = out.max_stretch.max(factor);
                out.paced_reason = Some(r.to_string());
            }
            if !r.should_retry() {
                out.gave_up += 1;
                continue;
            }
            queue.push(Reverse((((t + r.delay.as_secs_f64()) * 1e6) as u64, w)));
        }
        out.failed_per_writer.push(failed as f64 / writers as f64);
    }
    out
}

#[test]
fn a_crowd_stretches_its_conflict_retries_and_conflicts_far_less() {
    let paced = crowd(true, 60, 0.05, 6);
    let fixed = crowd(false, 60, 0.05, 6);
    assert_eq!((paced.gave_up, fixed.gave_up), (0, 0));
    // The later rounds, once the key's pace has been learned.
    let late = |c: &Crowd| c.failed_per_writer[2..].iter().sum::<f64>() / 4.0;
    assert!(
        late(&paced) < 0.6 * late(&fixed),
        "failed attempts per writer: paced {:?}, class schedule {:?}",
        paced.failed_per_writer,
        fixed.failed_per_writer
    );
    let reason = paced.paced_reason.expect("some retry was paced");
    assert!(reason.contains("conflict"), "{reason}");
    assert!(fixed.paced_reason.is_none());
}

#[test]
fn a_crowd_spread_over_processes_is_paced_by_each_of_them() {
    // Each engine sees a quarter of the writers, but its retries meet the whole crowd.
    let paced = crowd_over(4, true, 60, 0.05, 6);
    let fixed = crowd_over(4, false, 60, 0.05, 6);
    let late = |c: &Crowd| c.failed_per_writer[2..].iter().sum::<f64>() / 4.0;
    assert_eq!(paced.gave_up, 0);
    assert!(
        late(&paced) < 0.6 * late(&fixed),
        "paced {:?}, class schedule {:?}",
        paced.failed_per_writer,
        fixed.failed_per_writer
    );
}

#[test]
fn two_writers_are_barely_slowed_down() {
    // Rare conflicts: most retries go through, so the pace stays near the class schedule.
    let paced = crowd(true, 2, 0.05, 20);
    let fixed = crowd(false, 2, 0.05, 20);
    let total = |c: &Crowd| c.failed_per_writer.iter().sum::<f64>();
    assert!(total(&paced) <= total(&fixed) + 1.0);
    assert!(paced.max_stretch < 2.0, "{:?}", paced.paced_reason);
}

#[test]
fn a_dry_run_quotes_the_paced_delay() {
    let clock = ManualClock::shared(s(1_700_000_000.0));
    let e = Engine::from_json(r#"{"seed":3}"#, clock.clone()).unwrap();
    // Teach the key that its conflict retries conflict again.
    for _ in 0..30 {
        let mut ep = e.begin("ledger", None).unwrap();
        let r = e.on_failure(&mut ep, &Failure::http(409)).unwrap();
        clock.advance(r.delay);
        e.on_failure(&mut ep, &Failure::http(409)).unwrap();
        e.abandon(&mut ep);
    }
    let mut ep = e.begin("ledger", None).unwrap();
    let dry = e.recommend(&ep, &Failure::http(409)).unwrap();
    let live = e.on_failure(&mut ep, &Failure::http(409)).unwrap();
    assert!(
        dry.reason.to_string().contains("stretched"),
        "{}",
        dry.reason
    );
    assert!(
        live.reason.to_string().contains("stretched"),
        "{}",
        live.reason
    );
}
