//! The binary end to end: arguments, exit codes, what it prints and what it writes.

use std::path::PathBuf;
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_smartretry"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("smartretry-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn simulate_prints_the_table_and_writes_the_report() {
    let out = scratch("simulate");
    let o = bin()
        .args([
            "simulate",
            "--scenario",
            "1,3",
            "--seeds",
            "1",
            "--jobs",
            "200",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(stdout.contains("payment-outage") && stdout.contains("full-jitter"));
    assert!(stdout.contains("report: "));
    assert!(stdout.contains("Summary: the engine against the best static schedule"));
    assert!(stdout.contains("Over 2 scenarios the engine costs less per job"));
    let md = std::fs::read_to_string(out.join("REPORT.md")).unwrap();
    assert!(md.contains("## 3. Rate limit"));
    assert!(md.contains("## Summary"));
    assert!(out.join("01-time-to-success.svg").exists());
    assert!(out.join("01-cost.svg").exists());
    assert!(out.join("cost-vs-best-static.svg").exists());
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("id=\"summary\"") && html.matches("<svg").count() >= 7);
    assert!(out.join("results.json").exists());
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn bad_arguments_fail_with_a_message() {
    let o = bin()
        .args(["simulate", "--scenario", "nope"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown scenario"));
    let o = bin().args(["simulate", "--seeds", "0"]).output().unwrap();
    assert!(!o.status.success());
    let o = bin()
        .args(["replay", "--history", "/nonexistent/h.jsonl"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("I/O error"));
}

#[test]
fn history_export_then_replay() {
    let out = scratch("replay");
    std::fs::create_dir_all(&out).unwrap();
    let h = out.join("h.jsonl");
    let o = bin()
        .args([
            "history",
            "--scenario",
            "4",
            "--policy",
            "full-jitter",
            "--jobs",
            "150",
            "--out",
        ])
        .arg(&h)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = bin()
        .args([
            "replay",
            "--seeds",
            "1",
            "--c",
            "0.5",
            "--deadline",
            "600",
            "--history",
        ])
        .arg(&h)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(stdout.contains("150 failure episodes"));
    assert!(out.join("REPORT.md").exists());
    let _ = std::fs::remove_dir_all(&out);
}
