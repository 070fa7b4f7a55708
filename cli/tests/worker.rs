//! `smartretry worker` end to end on a SQLite schedule: due retries printed as JSON lines or
//! handed to a command with their payload, then acked or nacked; bad arguments refused.

use smartretry_schedule::{RetrySchedule, SqliteSchedule};
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

/// Long past: due whatever the system clock reads.
const DUE: Duration = Duration::from_secs(1_000_000);

fn worker(db: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_smartretry"))
        .arg("worker")
        .arg("--schedule")
        .arg(db)
        .arg("--drain")
        .args(extra)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn prints_each_due_retry_as_a_json_line_and_acks_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("retries.db");
    let schedule = SqliteSchedule::open(&db).unwrap();
    schedule.schedule("a", b"orders/1", DUE).unwrap();
    schedule.schedule("b", &[0xff, 0x00], DUE).unwrap();
    schedule.schedule("c", b"orders/3", DUE).unwrap();
    // Not due for a day: left alone.
    schedule
        .schedule("later", b"x", Duration::from_secs(u32::MAX as u64 * 10))
        .unwrap();
    // Two a poll: the three due ones take two polls.
    let o = worker(&db, &["--batch", "2"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let mut lines: Vec<serde_json::Value> = text(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    lines.sort_by_key(|l| l["job_id"].as_str().unwrap_or_default().to_string());
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(
        (&lines[0]["job_id"], &lines[0]["payload"]),
        (&"a".into(), &"orders/1".into())
    );
    assert_eq!(lines[1]["payload_hex"], "ff00");
    assert!(lines.iter().all(|l| l["deliveries"] == 1));
    assert!(text(&o.stderr).contains("3 acked, 0 nacked"));
    assert_eq!(schedule.len().unwrap(), 1);
}

#[test]
fn hands_each_retry_to_the_command_and_acks_successes_and_nacks_failures() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("retries.db");
    let log = dir.path().join("ran.log");
    let schedule = SqliteSchedule::open(&db).unwrap();
    for (id, payload) in [("ok-1", "ok"), ("bad-1", "fail"), ("ok-2", "ok")] {
        schedule.schedule(id, payload.as_bytes(), DUE).unwrap();
    }
    let command = format!(
        "echo \"$SMARTRETRY_JOB_ID $SMARTRETRY_DELIVERIES $(cat)\" >> '{}'; \
         tail -n 1 '{}' | grep -q ' ok$'",
        log.display(),
        log.display()
    );
    let o = worker(
        &db,
        &["--exec", &command, "--retry-after", "3600", "--batch", "2"],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("2 acked, 1 nacked"));
    let mut ran: Vec<String> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    ran.sort();
    assert_eq!(ran, ["bad-1 1 fail", "ok-1 1 ok", "ok-2 1 ok"]);
    // The failed one waits an hour, not a lease: a second drain finds nothing due.
    assert_eq!(schedule.len().unwrap(), 1);
    let again = worker(&db, &["--exec", "exit 1"]);
    assert!(again.status.success());
    assert!(text(&again.stderr).contains("0 acked, 0 nacked"));
    assert_eq!(schedule.len().unwrap(), 1);
}

#[test]
fn refuses_bad_arguments_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("retries.db");
    for (args, message) in [
        (&["--lease", "0"][..], "--lease must be above 0 seconds"),
        (&["--retry-after=-1"][..], "--retry-after must be 0 or more"),
        (&["--batch", "0"][..], "--batch must be at least 1"),
    ] {
        let o = worker(&db, args);
        assert!(!o.status.success());
        assert!(text(&o.stderr).contains(message), "{}", text(&o.stderr));
    }
    let o = worker(Path::new("redis://127.0.0.1:1/0"), &["--namespace", "a{b}"]);
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("namespace"), "{}", text(&o.stderr));
}
