//! `smartretry rollout`: a live engine's learned-tier rollout per queue (through its admin
//! endpoint; changes need the token): list, load a model, set a mode, promote on evidence,
//! roll back.

use crate::source::{CmdResult, Source, SourceArgs};
use crate::table::Table;
use serde_json::{json, Value};

#[derive(Debug, clap::Subcommand)]
pub enum RolloutCmd {
    /// Every queue's mode, evidence and verdict, and the learned tier's counters.
    List(SourceArgs),
    /// Load a model file (a path on the engine's machine) and/or set a queue's mode.
    Set(SetArgs),
    /// Step a queue up one mode (shadow -> canary -> full), refused without evidence.
    Promote(QueueArgs),
    /// Roll a queue back to `off` at once.
    Rollback(QueueArgs),
}

#[derive(Debug, clap::Args)]
pub struct QueueArgs {
    #[arg(long)]
    queue: String,
    #[command(flatten)]
    source: SourceArgs,
}

#[derive(Debug, clap::Args)]
pub struct SetArgs {
    #[command(flatten)]
    queue: QueueArgs,
    /// off, shadow, canary:WEIGHT (e.g. canary:0.1) or full.
    #[arg(long)]
    mode: Option<String>,
    /// A model file written by `smartretry train`.
    #[arg(long)]
    model: Option<String>,
}

fn print(v: &Value, as_json: bool) {
    if as_json {
        println!("{v:#}");
        return;
    }
    let mut t = Table::new(&[
        "queue",
        "mode",
        "model",
        "live n / J",
        "learned n / J",
        "shadow n / ΔJ",
        "verdict",
        "last change",
    ]);
    for r in v["rollouts"].as_array().into_iter().flatten() {
        let e = &r["evidence"];
        let tally = |k: &str| {
            format!(
                "{} / {:.2}",
                e[k]["n"].as_u64().unwrap_or(0),
                e[k]["mean"].as_f64().unwrap_or(f64::NAN)
            )
        };
        let mode = &r["mode"];
        let mode = match mode["weight"].as_f64() {
            Some(w) => format!("canary:{w}"),
            None => mode["mode"].as_str().unwrap_or("?").to_string(),
        };
        t.row(vec![
            r["queue"].as_str().unwrap_or("?").to_string(),
            mode,
            r["model_loaded"].as_bool().unwrap_or(false).to_string(),
            tally("live"),
            tally("learned"),
            tally("shadow_diff"),
            r["verdict"].as_str().unwrap_or("?").to_string(),
            r["last_change"].as_str().unwrap_or("?").to_string(),
        ]);
    }
    print!("{}", t.render());
    println!("learned tier: {}", v["stats"]);
}

fn live(source: &SourceArgs) -> CmdResult<Source> {
    let s = Source::open(source)?;
    if !s.is_live() {
        return Err("rollouts live in a running engine: give --endpoint URL".into());
    }
    Ok(s)
}

pub fn run(cmd: &RolloutCmd) -> CmdResult {
    let (source, body) = match cmd {
        RolloutCmd::List(s) => {
            print(&live(s)?.get("/rollouts")?, s.json);
            return Ok(());
        }
        RolloutCmd::Set(a) => {
            if a.mode.is_none() && a.model.is_none() {
                return Err("nothing to set: give --mode and/or --model".into());
            }
            (
                &a.queue.source,
                json!({"queue": a.queue.queue, "mode": a.mode, "model": a.model}),
            )
        }
        RolloutCmd::Promote(a) => (&a.source, json!({"queue": a.queue, "promote": true})),
        RolloutCmd::Rollback(a) => (&a.source, json!({"queue": a.queue, "mode": "off"})),
    };
    let v = live(source)?.send("PUT", "/rollouts", body)?;
    print(&v, source.json);
    Ok(())
}
