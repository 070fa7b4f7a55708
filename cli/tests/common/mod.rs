//! Running the `smartretry` binary from a test: no endpoint or token from the environment, so
//! each command names its own.

#![allow(dead_code)] // Each test file uses its own share of these.

use std::process::{Command, Output};

/// Run the binary with `args`.
pub fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_smartretry"))
        .args(args)
        .env_remove("SMARTRETRY_ENDPOINT")
        .env_remove("SMARTRETRY_ADMIN_TOKEN")
        .output()
        .unwrap()
}

/// Run it, require success, and return what it printed.
pub fn ok(args: &[&str]) -> String {
    let o = run(args);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{args:?} failed: {stderr}");
    String::from_utf8(o.stdout).unwrap()
}

/// Run it, require exit status 1, and return its error output.
pub fn fails(args: &[&str]) -> String {
    let o = run(args);
    assert_eq!(o.status.code(), Some(1), "{args:?} should fail");
    String::from_utf8(o.stderr).unwrap()
}
