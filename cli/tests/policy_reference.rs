//! The committed policy reference is what `smartretry policy-schema` generates from the Rust
//! types: the JSON Schema, docs/policy.md, the Python TypedDicts and the TypeScript types. A
//! policy type changed without regenerating fails here (as a stale C header fails the C tests).
//! Regenerate: SMARTRETRY_WRITE_SCHEMA=1 cargo test -p smartretry-cli --test policy_reference

use std::path::PathBuf;
use std::process::Command;

const FILES: [(&str, &str); 4] = [
    ("json", "schema/policy.schema.json"),
    ("markdown", "docs/policy.md"),
    (
        "python",
        "bindings-python/python/smartretry/_policy_types.py",
    ),
    ("typescript", "bindings-node/lib/policy.d.ts"),
];

fn generate(format: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_smartretry"))
        .args(["policy-schema", "--format", format])
        .output()
        .expect("run smartretry policy-schema");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

#[test]
fn committed_policy_reference_is_fresh() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let write = std::env::var_os("SMARTRETRY_WRITE_SCHEMA").is_some();
    let mut stale = Vec::new();
    for (format, path) in FILES {
        let fresh = generate(format);
        let file = root.join(path);
        if write {
            std::fs::write(&file, &fresh).expect("write the reference");
        } else if std::fs::read_to_string(&file).ok().as_deref() != Some(fresh.as_str()) {
            stale.push(path);
        }
    }
    assert!(
        stale.is_empty(),
        "stale policy reference: {stale:?}; run SMARTRETRY_WRITE_SCHEMA=1 cargo test -p smartretry-cli --test policy_reference and commit"
    );
}

#[test]
fn the_schema_describes_what_the_core_reads() {
    let schema: serde_json::Value = serde_json::from_str(&generate("json")).expect("JSON");
    let props = schema["properties"].as_object().expect("properties");
    for field in [
        "preset", "classes", "deadline", "learning", "budget", "breaker", "rules", "seed",
    ] {
        assert!(props.contains_key(field), "{field} missing");
    }
    assert_eq!(
        schema["additionalProperties"],
        serde_json::Value::Bool(false)
    );
    let strategy = &schema["$defs"]["Strategy"]["oneOf"];
    assert!(strategy.as_array().is_some_and(|v| v.len() >= 8));
}
