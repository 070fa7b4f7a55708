//! Snapshot files under abuse: concurrent saves, readers racing writers, FIFOs, devices, huge
//! files, orphaned temporary files, and counts near the largest float.

use smartretry::learn::grid::BUCKETS;
use smartretry::learn::ModelSnapshot;
use smartretry::{Engine, Error, ErrorClass, Failure, ManualClock, Policy, Snapshot};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

fn model(key: &str, count: f64) -> ModelSnapshot {
    let json = format!(
        r#"{{"key":"{key}","tenant":null,"class":"unavailable","episodes":{count},
            "survived":[{}],"intervals":[{{"from":2,"to":9,"weight":{count}}}],
            "portfolio":{{"n":[1,1,1,1],"sum":[2,2,2,2],"sum_sq":[4,4,4,4]}}}}"#,
        vec![format!("{count}"); BUCKETS].join(",")
    );
    serde_json::from_str(&json).unwrap()
}

fn snapshot(models: usize, count: f64) -> Snapshot {
    Snapshot {
        models: (0..models)
            .map(|i| model(&format!("q{i}"), count))
            .collect(),
    }
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn eight_threads_saving_at_once_all_succeed_and_leave_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = Arc::new(dir.path().join("model.snap"));
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let path = path.clone();
            std::thread::spawn(move || {
                for i in 0..25 {
                    snapshot(1 + (t + i) % 5, 3.0).save(&path).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    Snapshot::load(&path).unwrap();
    assert_eq!(
        entries(dir.path()),
        ["model.snap"],
        "no temporary files left"
    );
}

#[test]
fn readers_never_see_a_partial_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = Arc::new(dir.path().join("model.snap"));
    snapshot(1, 1.0).save(&path).unwrap();
    let writers: Vec<_> = (0..3)
        .map(|t| {
            let path = path.clone();
            std::thread::spawn(move || {
                for i in 0..40 {
                    // sizes from 1 to 40 models, so a torn read would show
                    snapshot(1 + (t * 13 + i) % 40, 2.0).save(&path).unwrap();
                }
            })
        })
        .collect();
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || {
                for _ in 0..200 {
                    let s = Snapshot::load(&path).unwrap();
                    assert!(!s.models.is_empty());
                }
            })
        })
        .collect();
    for t in writers.into_iter().chain(readers) {
        t.join().unwrap();
    }
}

#[test]
fn orphaned_temporary_files_are_removed_by_the_next_save() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.snap");
    let old = dir.path().join(".model.snap.tmp-1-crashed");
    let young = dir.path().join(".model.snap.tmp-2-in-progress");
    let other = dir.path().join(".other.snap.tmp-1-crashed");
    let two_hours_ago = SystemTime::now() - Duration::from_secs(7200);
    for p in [&old, &young, &other] {
        let f = std::fs::File::create(p).unwrap();
        if p != &young {
            f.set_modified(two_hours_ago).unwrap();
        }
    }
    snapshot(1, 1.0).save(&path).unwrap();
    assert_eq!(
        entries(dir.path()),
        [
            ".model.snap.tmp-2-in-progress",
            ".other.snap.tmp-1-crashed",
            "model.snap"
        ]
    );
}

#[cfg(unix)]
#[test]
fn a_fifo_is_refused_without_blocking() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("model.snap");
    let c = std::ffi::CString::new(fifo.as_os_str().as_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(Snapshot::load(&fifo)).unwrap());
    // A blocked open would never answer; a generous bound so a slow machine is not a failure.
    let answer = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("load blocked on a FIFO");
    assert!(matches!(answer, Err(Error::Io { .. })), "{answer:?}");
}

#[cfg(unix)]
#[test]
fn devices_and_huge_files_are_refused_without_reading_them() {
    let zero = Snapshot::load(Path::new("/dev/zero"));
    assert!(matches!(zero, Err(Error::Io { .. })), "{zero:?}");
    let dir = tempfile::tempdir().unwrap();
    let huge = dir.path().join("huge.snap");
    // 3 GB, sparse: refused from its size alone
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(3 << 30)
        .unwrap();
    let r = Snapshot::load(&huge);
    assert!(
        matches!(r, Err(Error::SnapshotCorrupt(ref m)) if m.contains("limit")),
        "{r:?}"
    );
    let ok = dir.path().join("ok.snap");
    snapshot(3, 1.0).save(&ok).unwrap();
    let r = Snapshot::load_with_limit(&ok, 100);
    assert!(matches!(r, Err(Error::SnapshotCorrupt(_))), "{r:?}");
    assert!(
        Snapshot::load(dir.path()).is_err(),
        "a folder is not a snapshot"
    );
}

#[test]
fn counts_near_the_largest_float_are_refused_on_load() {
    for count in [1e308, f64::MAX, 1e7, 1.000001e6] {
        let bytes = snapshot(1, count).encode();
        let r = Snapshot::decode(&bytes);
        assert!(
            matches!(r, Err(Error::SnapshotCorrupt(_))),
            "{count}: {r:?}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let r = snapshot(1, 1e308).save(&dir.path().join("x.snap"));
    assert!(matches!(r, Err(Error::InvalidState(_))), "{r:?}");
    assert!(entries(dir.path()).is_empty(), "nothing written");
}

#[test]
fn merges_that_would_leave_the_range_are_refused_and_change_nothing() {
    let clock = ManualClock::shared(Duration::from_secs(1_700_000_000));
    let e = Engine::with_clock(Policy::default(), clock).unwrap();
    let big = snapshot(1, 6e5);
    e.try_merge(&big).unwrap();
    let before = e.snapshot();
    let r = e.try_merge(&big);
    assert!(matches!(r, Err(Error::SnapshotCorrupt(_))), "{r:?}");
    assert_eq!(e.snapshot(), before, "a refused merge changes nothing");
    e.merge(&big); // the infallible form refuses the same way
    assert_eq!(e.snapshot(), before);
    // what was loaded computes finite probabilities and saves into a loadable snapshot
    let mut ep = e.begin("q0", None).unwrap();
    let rec = e.on_failure(&mut ep, &Failure::http(503)).unwrap();
    if let Some(p) = rec.success_probability {
        assert!((0.0..=1.0).contains(&p), "{p}");
    }
    let curve = e
        .recovery_curve("q0", None, ErrorClass::Unavailable)
        .unwrap();
    assert!(curve.iter().all(|(_, p)| (0.0..=1.0).contains(p)));
    Snapshot::decode(&e.snapshot().encode()).unwrap();
}
