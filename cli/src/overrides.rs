//! `override set|clear|list` on a live engine (writes need the endpoint's token), and
//! `export-config`: the policy in force with its overrides, as one JSON document.

use crate::source::{CmdResult, Source, SourceArgs};
use crate::table::Table;
use serde_json::{json, Value};

#[derive(Debug, clap::Subcommand)]
pub enum OverrideCmd {
    /// Set an override for a queue or tenant (and optionally one error class).
    Set(SetArgs),
    /// Remove a queue's or tenant's override (one class, or all of them).
    Clear(ScopeArgs),
    /// List the overrides in force.
    List(SourceArgs),
}

#[derive(Debug, clap::Args)]
pub struct ScopeArgs {
    #[arg(long, conflicts_with = "tenant", required_unless_present = "tenant")]
    queue: Option<String>,
    #[arg(long)]
    tenant: Option<String>,
    /// One error class (default: every class).
    #[arg(long)]
    class: Option<String>,
    #[command(flatten)]
    source: SourceArgs,
}

#[derive(Debug, clap::Args)]
pub struct SetArgs {
    #[command(flatten)]
    scope: ScopeArgs,
    /// Retry after exactly this many seconds (still within min/max delay).
    #[arg(long)]
    fixed_delay: Option<f64>,
    /// Cap the attempts (1 = no retries).
    #[arg(long)]
    max_attempts: Option<u32>,
    /// Cap each delay, seconds.
    #[arg(long)]
    max_delay: Option<f64>,
    /// Any class-policy fields as JSON, e.g. '{"disposition":"give_up"}'.
    #[arg(long)]
    patch: Option<String>,
}

impl ScopeArgs {
    fn entry(&self) -> Value {
        let (scope, name) = match (&self.queue, &self.tenant) {
            (Some(q), _) => ("queue", q),
            (None, Some(t)) => ("tenant", t),
            (None, None) => ("queue", &String::new()),
        };
        json!({ "scope": scope, "name": name, "class": self.class })
    }
}

fn print_list(list: &Value, as_json: bool) {
    if as_json {
        println!("{list:#}");
        return;
    }
    let mut t = Table::new(&["scope", "name", "class", "patch"]);
    for o in list.as_array().into_iter().flatten() {
        let patch: serde_json::Map<String, Value> = o["patch"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        t.row(vec![
            o["scope"].as_str().unwrap_or("?").to_string(),
            o["name"].as_str().unwrap_or("?").to_string(),
            o["class"].as_str().unwrap_or("*").to_string(),
            Value::Object(patch).to_string(),
        ]);
    }
    print!("{}", t.render());
}

fn live(source: &SourceArgs) -> CmdResult<Source> {
    let s = Source::open(source)?;
    if !s.is_live() {
        return Err("overrides live in a running engine: give --endpoint URL".into());
    }
    Ok(s)
}

pub fn run(cmd: &OverrideCmd) -> CmdResult {
    match cmd {
        OverrideCmd::Set(a) => {
            let mut patch: Value = match &a.patch {
                Some(text) => serde_json::from_str(text).map_err(|e| format!("--patch: {e}"))?,
                None => json!({}),
            };
            if !patch.is_object() {
                return Err("--patch must be a JSON object".into());
            }
            for (k, v) in [
                ("fixed_delay", a.fixed_delay.map(|x| json!(x))),
                ("max_attempts", a.max_attempts.map(|x| json!(x))),
                ("max_delay", a.max_delay.map(|x| json!(x))),
            ] {
                if let Some(v) = v {
                    patch[k] = v;
                }
            }
            if patch.as_object().is_some_and(|o| o.is_empty()) {
                return Err(
                    "nothing to set: give --fixed-delay, --max-attempts, --max-delay or --patch"
                        .into(),
                );
            }
            let mut body = a.scope.entry();
            body["patch"] = patch;
            let list = live(&a.scope.source)?.send("PUT", "/overrides", body)?;
            print_list(&list, a.scope.source.json);
        }
        OverrideCmd::Clear(a) => {
            let list = live(&a.source)?.send("DELETE", "/overrides", a.entry())?;
            print_list(&list, a.source.json);
        }
        OverrideCmd::List(s) => print_list(&live(s)?.get("/overrides")?, s.json),
    }
    Ok(())
}

/// The policy in force and the overrides, as JSON: what a deployment would put in its policy
/// file and its override set to reproduce this engine.
pub fn export_config(args: &SourceArgs) -> CmdResult {
    let source = Source::open(args)?;
    let doc = json!({
        "policy": source.get("/policy")?,
        "overrides": source.get("/overrides")?,
    });
    println!("{doc:#}");
    Ok(())
}
