//! `smartretry policy-schema`: the policy file's JSON Schema (derived from the core's types by
//! schemars) and what is generated from it: the Markdown reference (docs/policy.md), Python
//! TypedDicts and TypeScript types for editor completion. A test keeps the committed copies
//! identical to these outputs.

mod markdown;
mod types;

use serde_json::Value;

/// What to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Json,
    Markdown,
    Python,
    Typescript,
}

/// The rendering of the policy schema in `format`.
pub fn render(format: Format) -> String {
    let schema = smartretry::Policy::json_schema();
    match format {
        Format::Json => serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n",
        Format::Markdown => markdown::render(&schema),
        Format::Python => types::python(&schema),
        Format::Typescript => types::typescript(&schema),
    }
}

/// The name a `$ref` points at (`#/$defs/Strategy` -> `Strategy`).
fn ref_name(schema: &Value) -> Option<&str> {
    schema.get("$ref")?.as_str()?.rsplit('/').next()
}

/// `snake_case` or `kebab-case` to `PascalCase`.
fn pascal(name: &str) -> String {
    name.split(['_', '-'])
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
        })
        .collect()
}

/// The schema's description, on one line.
fn description(schema: &Value) -> String {
    schema
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or("")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The variants of a union (`oneOf` / `anyOf`), if the schema is one.
fn variants(schema: &Value) -> Option<&Vec<Value>> {
    schema
        .get("oneOf")
        .or_else(|| schema.get("anyOf"))
        .and_then(Value::as_array)
}

/// The object properties of a schema, in the schema's order.
fn properties(schema: &Value) -> Vec<(&String, &Value)> {
    schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|m| m.iter().collect())
        .unwrap_or_default()
}

/// The name of one variant of a tagged union: its `kind` constant, its single external tag, or
/// its string constant.
fn variant_name(variant: &Value) -> Option<String> {
    if let Some(c) = variant.get("const").and_then(Value::as_str) {
        return Some(c.to_string());
    }
    let props = properties(variant);
    if let Some((_, kind)) = props.iter().find(|(k, _)| k.as_str() == "kind") {
        return kind
            .get("const")
            .and_then(Value::as_str)
            .map(str::to_string);
    }
    match props.as_slice() {
        [(key, _)] => Some(key.to_string()),
        _ => None,
    }
}
