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

/// Run `cmd`, require success (else fail with what it printed), and return its stdout.
fn succeeded(cmd: &mut Command) -> String {
    let o = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    stdout
}

#[test]
fn simulate_prints_the_table_and_writes_the_report() {
    let out = scratch("simulate");
    let stdout = succeeded(
        bin()
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
            .arg(&out),
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

/// The example file of docs/demo.md ("Your own outage").
fn example_scenario() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/sim/db-failover.toml")
}

#[test]
fn a_scenario_file_of_ones_own_runs_against_the_static_schedules() {
    let out = scratch("own-scenario");
    let stdout = succeeded(
        bin()
            .args([
                "simulate",
                "--seeds",
                "1",
                "--jobs",
                "300",
                "--scenario-file",
            ])
            .arg(example_scenario())
            .arg("--out")
            .arg(&out),
    );
    assert!(stdout.contains("== 101 db-failover"), "{stdout}");
    assert!(stdout.contains("decorrelated") && stdout.contains("engine"));
    assert!(stdout.contains("Over 1 scenarios"), "{stdout}");
    // Only the file's scenario ran, and the report's command says how to run it again.
    assert!(!stdout.contains("payment-outage"), "{stdout}");
    let md = std::fs::read_to_string(out.join("REPORT.md")).unwrap();
    assert!(md.contains("--scenario-file"), "{md}");
    assert!(out.join("101-cost.svg").exists());
    // The same file's attempt history, as `replay` and `train` read it.
    let history = out.join("history.jsonl");
    succeeded(
        bin()
            .args(["history", "--policy", "engine", "--jobs", "50"])
            .arg("--scenario-file")
            .arg(example_scenario())
            .arg("--out")
            .arg(&history),
    );
    let text = std::fs::read_to_string(&history).unwrap();
    assert!(text.lines().count() >= 100, "two attempts or more per job");
    assert!(text.lines().all(|l| l.contains("\"queue\":\"orders\"")));
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn bad_scenario_files_fail_with_a_message() {
    let dir = scratch("bad-scenario");
    std::fs::create_dir_all(&dir).unwrap();
    let example = std::fs::read_to_string(example_scenario()).unwrap();
    let unknown_field = dir.join("unknown-field.toml");
    std::fs::write(&unknown_field, format!("{example}\nretries = 3\n")).unwrap();
    let negative_cost = dir.join("negative-cost.toml");
    std::fs::write(&negative_cost, example.replace("c = 0.5", "c = -1.0")).unwrap();
    let run = |args: &[&std::ffi::OsStr]| {
        let o = bin().arg("simulate").args(args).output().unwrap();
        assert!(!o.status.success(), "{args:?} was accepted");
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let flag = std::ffi::OsStr::new("--scenario-file");
    let missing = dir.join("missing.toml");
    assert!(run(&[flag, missing.as_os_str()]).contains("missing.toml"));
    let err = run(&[flag, unknown_field.as_os_str()]);
    assert!(
        err.contains("unknown-field.toml") && err.contains("retries"),
        "{err}"
    );
    let err = run(&[flag, negative_cost.as_os_str()]);
    assert!(err.contains("negative-cost.toml"), "{err}");
    // The same scenario twice, and a file beside an embedded selection.
    let example = example_scenario();
    let err = run(&[flag, example.as_os_str(), flag, example.as_os_str()]);
    assert!(err.contains("already used"), "{err}");
    let err = run(&[
        flag,
        example.as_os_str(),
        std::ffi::OsStr::new("--scenario"),
        std::ffi::OsStr::new("1"),
    ]);
    assert!(err.contains("without --ml, --scenario"), "{err}");
    // The learned tier's comparison runs the embedded scenarios only: refused, not ignored.
    let err = run(&[flag, example.as_os_str(), std::ffi::OsStr::new("--ml")]);
    assert!(err.contains("without --ml"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
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
    let stdout = succeeded(
        bin()
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
            .arg(&out),
    );
    assert!(stdout.contains("150 failure episodes"));
    assert!(out.join("REPORT.md").exists());
    let _ = std::fs::remove_dir_all(&out);
}
