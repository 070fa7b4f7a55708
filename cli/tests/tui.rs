//! The console through a real terminal: tmux runs `smartretry tui` against a live engine's
//! admin endpoint (in this process), keys go in with `send-keys`, the screen comes back with
//! `capture-pane`, at a wide and a narrow size. With SMARTRETRY_WRITE_CAPTURES=1 the captures
//! are written to docs/ (the screenshots the operations guide shows).

use smartretry::{Engine, Failure, ManualClock, Policy};
use smartretry_admin::{AdminConfig, AdminServer};
use std::process::Command;
use std::time::{Duration, Instant};

const TOKEN: &str = "tui-test-token-0123456789";

/// A tmux server of this test's own (`-L`), so that no one else's sessions are touched.
fn socket() -> String {
    format!("smartretry-test-{}", std::process::id())
}

fn tmux_status(args: &[&str]) -> std::process::Output {
    Command::new("tmux")
        .args(["-L", &socket()])
        .args(args)
        .output()
        .expect("tmux must be installed (apt-get install tmux)")
}

fn tmux(args: &[&str]) -> String {
    let o = Command::new("tmux")
        .args(["-L", &socket()])
        .args(args)
        .output()
        .expect("tmux must be installed (apt-get install tmux)");
    assert!(
        o.status.success(),
        "tmux {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

struct Session(String);

impl Session {
    fn capture(&self) -> String {
        tmux(&["capture-pane", "-p", "-t", &self.0])
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.0];
        args.extend_from_slice(keys);
        tmux(&args);
    }

    /// The screen once it shows `text` and is not being drawn (the TUI draws asynchronously;
    /// the bound only stops a broken build from hanging the suite).
    fn wait_for(&self, text: &str) -> String {
        let start = Instant::now();
        loop {
            let screen = self.capture();
            // Shown, and the frame fully drawn: the screen holds still for a moment (a loaded
            // machine can pause the TUI mid-frame).
            if screen.contains(text) {
                std::thread::sleep(Duration::from_millis(150));
                if screen == self.capture() {
                    return screen;
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "screen never showed {text:?}:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = tmux_status(&["kill-server"]);
    }
}

fn episode(e: &Engine, clock: &ManualClock, key: &str) -> smartretry::Recommendation {
    let mut ep = e.begin(key, None).unwrap();
    let rec = e.on_failure(&mut ep, &Failure::http(503)).unwrap();
    clock.advance(rec.delay);
    e.on_success(&mut ep).unwrap();
    rec
}

fn save(name: &str, screen: &str) {
    if std::env::var_os("SMARTRETRY_WRITE_CAPTURES").is_some() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/");
        std::fs::write(format!("{path}{name}"), screen).unwrap();
    }
}

#[test]
fn console_wide_and_narrow_through_tmux() {
    let clock = ManualClock::shared(Duration::from_secs(1_700_000_000));
    let policy = Policy::from_json(r#"{"seed":5,"learning":{"portfolio":false}}"#).unwrap();
    let engine = Engine::with_clock(policy, clock.clone()).unwrap();
    let config = AdminConfig {
        token: Some(TOKEN.into()),
        ..Default::default()
    };
    let admin = AdminServer::start(&engine, config).unwrap();
    for _ in 0..25 {
        episode(&engine, &clock, "payments");
    }
    episode(&engine, &clock, "mail");

    let dir = std::env::temp_dir().join(format!("smartretry-tui-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let export = dir.join("config.json");
    let name = format!("smartretry-tui-{}", std::process::id());
    let cmd = format!(
        "{} tui --endpoint {} --token {TOKEN} --refresh-ms 200 --export-to {}",
        env!("CARGO_BIN_EXE_smartretry"),
        admin.url(),
        export.display()
    );
    tmux(&[
        "new-session",
        "-d",
        "-s",
        &name,
        "-x",
        "160",
        "-y",
        "40",
        &cmd,
    ]);
    let s = Session(name);

    // Wide: the three panels side by side, the newest decision (mail) selected.
    let screen = s.wait_for("Live recommendations");
    assert!(
        screen.contains("Strategy & models") && screen.contains("Analytics"),
        "{screen}"
    );
    assert!(screen.contains("Alerts"), "{screen}");
    assert!(screen.contains(">mail"), "{screen}");
    assert!(screen.contains("payments/unavailable"), "{screen}");
    save("tui-wide.txt", &screen);

    // Ctrl+P previews the selected job's schedule; Esc closes it.
    s.keys(&["C-p"]);
    let screen = s.wait_for("Preview mail (unavailable)");
    assert!(screen.contains("attempt 1"), "{screen}");
    s.keys(&["Escape"]);
    let screen = s.wait_for("cancelled");
    assert!(!screen.contains("Preview mail"), "{screen}");

    // Ctrl+O overrides its delay: the next decision for mail obeys.
    s.keys(&["C-o"]);
    s.wait_for("Override mail");
    s.keys(&["7", "Enter"]);
    s.wait_for("override: queue mail retries after a fixed 7 s");
    let rec = episode(&engine, &clock, "mail");
    assert_eq!(
        (rec.delay, rec.tier.as_str()),
        (Duration::from_secs(7), "operator")
    );
    let screen = s.wait_for("operator");
    assert!(screen.contains("fixed_delay=7.0"), "{screen}");
    save("tui-override.txt", &screen);

    // Esc (no popup) cancels the selected queue's override.
    s.keys(&["Escape"]);
    s.wait_for("override of queue mail cancelled");
    assert!(engine.overrides().is_empty());

    // Enter applies the selected recommendation's delay as the queue's fixed delay.
    s.keys(&["Enter"]);
    s.wait_for("override: queue mail retries after a fixed 7 s");
    assert_eq!(engine.overrides().len(), 1);

    // Ctrl+E exports the configuration; Ctrl+A goes to the alerts; Ctrl+R refits.
    s.keys(&["C-e"]);
    s.wait_for("configuration exported");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&export).unwrap()).unwrap();
    assert_eq!(doc["overrides"][0]["name"], "mail");
    s.keys(&["C-a"]);
    s.wait_for("alert(s)");
    s.keys(&["C-r"]);
    s.wait_for("model plans recomputed");

    // Narrow: tabs 1-4, one panel at a time.
    tmux(&["resize-window", "-t", &s.0, "-x", "90", "-y", "30"]);
    s.keys(&["2"]);
    let screen = s.wait_for("1 Strategy & models");
    assert!(screen.contains("4 Alerts"), "{screen}");
    assert!(!screen.contains("┌Analytics"), "{screen}");
    s.keys(&["3"]);
    let screen = s.wait_for("┌Analytics");
    assert!(screen.contains("decisions by tier"), "{screen}");
    save("tui-narrow.txt", &screen);
    s.keys(&["Tab"]);
    s.wait_for("┌Alerts");

    s.keys(&["q"]);
    let start = Instant::now();
    while tmux_status(&["has-session", "-t", &s.0]).status.success() {
        assert!(start.elapsed() < Duration::from_secs(10), "q did not quit");
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
