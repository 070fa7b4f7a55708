//! A caller's caps for one episode (a call's `attempts=` / `timeout=`): they replace the class's
//! attempt limit and the policy's deadline for that episode only.

use smartretry::*;
use std::time::Duration;

fn s(x: f64) -> Duration {
    Duration::from_secs_f64(x)
}

#[test]
fn an_episode_limit_replaces_the_class_cap_and_the_deadline_for_that_episode_only() {
    let clock = ManualClock::shared(s(1_700_000_000.0));
    let e = Engine::from_json(r#"{"learning":{"enabled":false}}"#, clock.clone()).unwrap();
    let mut ep = e.begin("q", None).unwrap();
    ep.set_limits(EpisodeLimits {
        max_attempts: Some(2),
        deadline: None,
    })
    .unwrap();
    assert!(e
        .on_failure(&mut ep, &Failure::http(503))
        .unwrap()
        .should_retry());
    let stop = e.on_failure(&mut ep, &Failure::http(503)).unwrap();
    assert_eq!(stop.action, Action::GiveUp);
    assert_eq!(
        stop.reason_text(),
        "gave up after 2 attempts: the limit is 2"
    );

    // More attempts than the class's 4, and a deadline the background preset does not have.
    let mut ep = e.begin("q", None).unwrap();
    ep.set_limits(EpisodeLimits {
        max_attempts: Some(9),
        deadline: Some(s(3600.0)),
    })
    .unwrap();
    let mut last = None;
    for _ in 0..9 {
        let r = e.on_failure(&mut ep, &Failure::http(503)).unwrap();
        clock.advance(r.delay);
        last = Some(r);
        if !last.as_ref().is_some_and(Recommendation::should_retry) {
            break;
        }
    }
    let last = last.unwrap();
    assert_eq!(last.action, Action::GiveUp);
    assert!(last.attempt >= 5, "{last}");

    // An episode without limits keeps the class's cap of 4.
    let mut ep = e.begin("q", None).unwrap();
    let mut n = 0;
    while e
        .on_failure(&mut ep, &Failure::http(503))
        .unwrap()
        .should_retry()
    {
        n += 1;
    }
    assert_eq!(n, 3);
}

#[test]
fn a_short_timeout_stops_at_its_deadline() {
    let clock = ManualClock::shared(s(1_700_000_000.0));
    let e = Engine::from_json(r#"{"learning":{"enabled":false}}"#, clock).unwrap();
    let mut ep = e.begin("q", None).unwrap();
    ep.set_limits(EpisodeLimits {
        max_attempts: None,
        deadline: Some(s(0.001)),
    })
    .unwrap();
    let r = e.on_failure(&mut ep, &Failure::http(503)).unwrap();
    assert_eq!(r.action, Action::GiveUp, "{r}");
    assert!(r.reason_text().contains("deadline"), "{r}");
}

#[test]
fn impossible_limits_are_typed_errors() {
    let clock = ManualClock::shared(s(1.0));
    let e = Engine::with_clock(Policy::default(), clock).unwrap();
    let mut ep = e.begin("q", None).unwrap();
    for bad in [
        EpisodeLimits {
            max_attempts: Some(0),
            deadline: None,
        },
        EpisodeLimits {
            max_attempts: None,
            deadline: Some(Duration::ZERO),
        },
    ] {
        assert!(matches!(ep.set_limits(bad), Err(Error::InvalidConfig(_))));
    }
}
