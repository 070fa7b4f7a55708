//! Reading a policy as people write it: one or more JSON layers (a file, then a dict, then keyword
//! arguments), merged deeply, with top-level shortcuts for the common settings, and errors that
//! name the field by its path. Every binding reads policies through here, so the rules are the
//! same in every language.
//!
//! **Merge.** Layers apply in order; a later layer wins. Two objects merge key by key, at every
//! depth; any other value (a number, a string, an array such as `rules`, and `null`, which means
//! "none" for `deadline`) replaces what was there. So `{"learning": {"min_episodes": 5}}` over a
//! policy that sets `learning.half_life_episodes` keeps both.
//!
//! **Shortcuts**, expanded inside their own layer before it is merged:
//! - `max_attempts: n` sets `max_attempts` of every class that retries (by default, or by a
//!   `disposition` of `retry` in the same layer); a class's own `max_attempts` in the same layer
//!   wins over the shortcut.
//! - `failure_cost: seconds` is `learning.failure_cost` (giving both in one layer is an error).
//! - `deadline` and `preset` are fields of the policy itself.

use crate::class::{Disposition, ErrorClass};
use crate::error::{Error, Result};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// Parse JSON text into a policy layer (an object), naming the layer in errors.
fn parse_layer(text: &str) -> Result<Map<String, Value>> {
    match serde_json::from_str::<Value>(text)? {
        Value::Object(map) => Ok(map),
        other => Err(Error::InvalidPolicy {
            path: "policy".into(),
            message: format!("a policy is a JSON object, not {}", kind(&other)),
        }),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Merge `overlay` into `base`: objects key by key at every depth, anything else replaces.
pub fn merge(base: &mut Value, overlay: Value) {
    match (base, overlay) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (slot, v) => *slot = v,
    }
}

/// Replace the layer's shortcuts by the fields they stand for.
fn expand_shortcuts(layer: &mut Map<String, Value>) -> Result<()> {
    if let Some(cost) = layer.remove("failure_cost") {
        let learning = object_at(layer, "learning")?;
        if learning.contains_key("failure_cost") {
            return Err(Error::InvalidPolicy {
                path: "failure_cost".into(),
                message: "given twice (also as learning.failure_cost); keep one".into(),
            });
        }
        learning.insert("failure_cost".into(), cost);
    }
    if let Some(n) = layer.remove("max_attempts") {
        if !n
            .as_u64()
            .is_some_and(|n| (1..=u64::from(u32::MAX)).contains(&n))
        {
            return Err(Error::InvalidPolicy {
                path: "max_attempts".into(),
                message: format!(
                    "must be a whole number of attempts, at least 1 (1 = no retries), not {n}"
                ),
            });
        }
        let classes = object_at(layer, "classes")?;
        for class in ErrorClass::ALL {
            let entry = classes
                .entry(class.as_str())
                .or_insert_with(|| Value::Object(Map::new()));
            let Value::Object(entry) = entry else {
                continue; // not an object: reported with its path when the layer is read
            };
            let retries = match entry.get("disposition").and_then(Value::as_str) {
                Some(d) => d == Disposition::Retry.as_str(),
                None => class.is_retryable(),
            };
            if retries && !entry.contains_key("max_attempts") {
                entry.insert("max_attempts".into(), n.clone());
            }
        }
        classes.retain(|_, v| v.as_object().map_or(true, |o| !o.is_empty()));
    }
    Ok(())
}

/// The object at `key`, created empty when absent; an error naming `key` when it is not one.
fn object_at<'m>(
    layer: &'m mut Map<String, Value>,
    key: &str,
) -> Result<&'m mut Map<String, Value>> {
    match layer
        .entry(key)
        .or_insert_with(|| Value::Object(Map::new()))
    {
        Value::Object(m) => Ok(m),
        other => Err(Error::InvalidPolicy {
            path: key.into(),
            message: format!("must be an object, not {}", kind(other)),
        }),
    }
}

/// The layers (JSON texts, first to last) merged into one policy value, shortcuts expanded.
pub fn merged(layers: &[&str]) -> Result<Value> {
    let mut out = Value::Object(Map::new());
    for text in layers {
        let mut layer = parse_layer(text)?;
        expand_shortcuts(&mut layer)?;
        merge(&mut out, Value::Object(layer));
    }
    Ok(out)
}

impl crate::policy::PolicyPatch {
    /// A run-time override from JSON text (a partial class policy, durations in seconds); a
    /// field that does not fit is named by its path.
    pub fn from_json(text: &str) -> Result<crate::policy::PolicyPatch> {
        read(serde_json::from_str::<Value>(text)?)
    }
}

/// An unknown top-level policy field's message lists the fields serde knows; add the shortcuts,
/// which are read before serde sees the policy.
pub(crate) fn hint_shortcuts(err: Error) -> Error {
    match err {
        Error::InvalidPolicy { path, message }
            if !path.contains('.') && message.starts_with("unknown field") =>
        {
            Error::InvalidPolicy {
                path,
                message: format!("{message}, or the shortcuts `max_attempts`, `failure_cost`"),
            }
        }
        other => other,
    }
}

/// Read `T` from a JSON value; a field that does not fit is named by its path.
pub fn read<T: DeserializeOwned>(value: Value) -> Result<T> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        // serde names an unknown field in the message, not in the path: put it in the path.
        let unknown = message
            .strip_prefix("unknown field `")
            .and_then(|rest| rest.split('`').next());
        let path = match (path.as_str(), unknown) {
            (".", Some(field)) => field.to_string(),
            (".", None) => "policy".to_string(),
            (_, Some(field)) if !path.ends_with(&format!(".{field}")) && path != field => {
                format!("{path}.{field}")
            }
            _ => path,
        };
        Error::InvalidPolicy { path, message }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn objects_merge_at_every_depth_and_other_values_replace() {
        let v = merged(&[
            r#"{"learning":{"min_episodes":5,"half_life_episodes":50},"deadline":10,"rules":[1]}"#,
            r#"{"learning":{"min_episodes":7},"deadline":null,"rules":[]}"#,
        ])
        .unwrap();
        assert_eq!(
            v,
            json!({"learning":{"min_episodes":7,"half_life_episodes":50},"deadline":null,"rules":[]})
        );
    }

    #[test]
    fn max_attempts_reaches_the_retrying_classes_unless_a_class_sets_its_own() {
        let v =
            merged(&[r#"{"max_attempts":6,"classes":{"timeout":{"max_attempts":2}}}"#]).unwrap();
        assert_eq!(v["classes"]["timeout"]["max_attempts"], 2);
        assert_eq!(v["classes"]["unavailable"]["max_attempts"], 6);
        assert!(v["classes"].get("validation").is_none());
        // A later layer's shortcut wins over an earlier layer's class value.
        let v = merged(&[
            r#"{"classes":{"timeout":{"max_attempts":2}}}"#,
            r#"{"max_attempts":6}"#,
        ])
        .unwrap();
        assert_eq!(v["classes"]["timeout"]["max_attempts"], 6);
    }

    #[test]
    fn shortcut_errors_name_the_shortcut() {
        for (bad, path) in [
            (r#"{"max_attempts":0}"#, "max_attempts"),
            (r#"{"max_attempts":"six"}"#, "max_attempts"),
            (
                r#"{"failure_cost":1,"learning":{"failure_cost":2}}"#,
                "failure_cost",
            ),
            (r#"{"failure_cost":1,"learning":3}"#, "learning"),
            ("[]", "policy"),
        ] {
            match merged(&[bad]) {
                Err(Error::InvalidPolicy { path: p, .. }) => assert_eq!(p, path, "{bad}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }
}

#[cfg(test)]
mod path_tests {
    use crate::error::Error;
    use crate::policy::Policy;

    #[test]
    fn errors_name_the_field_by_its_path() {
        for (bad, path) in [
            (
                r#"{"classes":{"unavailable":{"strategy":{"kind":"full_jitter","base":1,"factr":2}}}}"#,
                "classes.unavailable.strategy.factr",
            ),
            (
                r#"{"classes":{"unavailable":{"max_atempts":6}}}"#,
                "classes.unavailable.max_atempts",
            ),
            (
                r#"{"learning":{"min_episodes":"x"}}"#,
                "learning.min_episodes",
            ),
            (r#"{"dedline":5}"#, "dedline"),
            (r#"{"max_atempts":5}"#, "max_atempts"),
            (r#"{"classes":{"unavailabel":{}}}"#, "classes.unavailabel"),
        ] {
            match Policy::from_json(bad) {
                Err(Error::InvalidPolicy { path: p, message }) => {
                    assert!(p.starts_with(path), "{bad}: {p}: {message}");
                    if !p.contains('.') && message.starts_with("unknown field") {
                        assert!(
                            message.ends_with("or the shortcuts `max_attempts`, `failure_cost`")
                        );
                    }
                    println!("{p}: {message}");
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn shortcuts_and_layers_make_a_policy() {
        use crate::class::ErrorClass;
        use std::time::Duration;
        let p = Policy::from_layers(&[
            r#"{"preset":"request","learning":{"min_episodes":5}}"#,
            r#"{"max_attempts":6,"failure_cost":1,"deadline":60,"learning":{"half_life_episodes":50}}"#,
        ])
        .unwrap();
        assert_eq!(p.class(ErrorClass::Unavailable).max_attempts, 6);
        assert_eq!(p.class(ErrorClass::Validation).max_attempts, 1);
        assert_eq!(p.learning.failure_cost, Some(Duration::from_secs(1)));
        assert_eq!(p.learning.min_episodes, 5);
        assert_eq!(p.learning.half_life_episodes, 50.0);
        assert_eq!(p.deadline, Some(Duration::from_secs(60)));
        assert_eq!(p.preset.as_str(), "request");
    }
}
