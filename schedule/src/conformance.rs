//! The behaviour every backend must have, as one check that backends' tests run against a real
//! store (SQLite file, redis-server). Panics with the broken rule.

use crate::{RetrySchedule, ScheduleError};
use std::time::Duration;

fn s(secs: u64) -> Duration {
    Duration::from_secs(1_700_000_000 + secs)
}

/// Run every rule on an empty schedule.
pub fn check(q: &dyn RetrySchedule) {
    let lease = Duration::from_secs(30);
    assert!(q.is_empty().expect("len"), "the schedule must start empty");
    q.schedule("b", b"pay #2", s(20)).expect("schedule");
    q.schedule("a", b"pay #1", s(10)).expect("schedule");
    q.schedule("c", b"later", s(1000)).expect("schedule");
    assert_eq!(q.len().expect("len"), 3);
    // Nothing before its time; earliest first; limit respected.
    assert!(q.claim_due(s(5), 10, lease).expect("claim").is_empty());
    let first = q.claim_due(s(25), 1, lease).expect("claim");
    assert_eq!(first.len(), 1);
    assert_eq!(
        (first[0].job_id.as_str(), first[0].payload.as_slice()),
        ("a", &b"pay #1"[..])
    );
    assert_eq!(first[0].deliveries, 1);
    assert_eq!(first[0].lease_until, s(25) + lease);
    // A claimed retry is not handed out again while its lease runs.
    let second = q.claim_due(s(26), 10, lease).expect("claim");
    assert_eq!(
        second.iter().map(|c| c.job_id.as_str()).collect::<Vec<_>>(),
        ["b"]
    );
    assert!(q.claim_due(s(30), 10, lease).expect("claim").is_empty());
    // Acks are idempotent.
    assert!(q.ack("a").expect("ack"));
    assert!(!q.ack("a").expect("ack again"));
    assert!(!q.ack("never").expect("ack unknown"));
    // An unacked claim comes back after its lease, counted as a redelivery.
    let again = q.claim_due(s(26) + lease, 10, lease).expect("claim");
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].job_id.as_str(), again[0].deliveries), ("b", 2));
    // Nack: run again later.
    assert!(q.nack("b", s(500)).expect("nack"));
    assert!(!q.nack("never", s(500)).expect("nack unknown"));
    assert!(q.claim_due(s(499), 10, lease).expect("claim").is_empty());
    let later = q.claim_due(s(1000), 10, lease).expect("claim");
    assert_eq!(
        later.iter().map(|c| c.job_id.as_str()).collect::<Vec<_>>(),
        ["b", "c"]
    );
    // Scheduling again replaces the job (payload, time, claim).
    q.schedule("c", b"replaced", s(2000)).expect("schedule");
    let replaced = q.claim_due(s(2000), 10, lease).expect("claim");
    let c = replaced.iter().find(|c| c.job_id == "c").expect("c is due");
    assert_eq!((c.payload.as_slice(), c.deliveries), (&b"replaced"[..], 1));
    for id in ["b", "c"] {
        q.ack(id).expect("ack");
    }
    assert!(q.is_empty().expect("len"));
    // Bad input is a typed error.
    assert!(matches!(
        q.schedule("", b"", s(0)),
        Err(ScheduleError::InvalidInput(_))
    ));
    let huge = vec![0u8; crate::MAX_PAYLOAD_LEN + 1];
    assert!(matches!(
        q.schedule("x", &huge, s(0)),
        Err(ScheduleError::InvalidInput(_))
    ));
    assert!(q.is_empty().expect("len"));
}
