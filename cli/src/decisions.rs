//! `preview` (the whole schedule a failure would get, with reasons) and `explain` (one decision:
//! every tier's proposal and every clamp), from a live endpoint or a local engine.

use crate::source::{CmdResult, Source, SourceArgs};
use crate::table::{pct, secs, Table};
use serde_json::{json, Value};

#[derive(Debug, clap::Args)]
pub struct FailureArgs {
    /// Queue or job type.
    #[arg(long)]
    key: String,
    #[arg(long)]
    tenant: Option<String>,
    /// HTTP status of the failure.
    #[arg(long, conflicts_with_all = ["class", "failure"])]
    status: Option<u16>,
    /// Error class of the failure (timeout, connection, rate_limited, unavailable, ...).
    #[arg(long, conflicts_with = "failure")]
    class: Option<String>,
    /// The failure as the core's JSON, e.g. '{"error_code":"ECONNRESET"}'.
    #[arg(long)]
    failure: Option<String>,
    /// The server's Retry-After, seconds.
    #[arg(long)]
    retry_after: Option<f64>,
    #[command(flatten)]
    source: SourceArgs,
}

impl FailureArgs {
    fn failure(&self) -> CmdResult<Value> {
        let mut f = match (&self.failure, self.status, &self.class) {
            (Some(text), _, _) => {
                serde_json::from_str(text).map_err(|e| format!("--failure: {e}"))?
            }
            (None, Some(s), _) => json!({ "http_status": s }),
            (None, None, Some(c)) => json!({ "class": c }),
            (None, None, None) => return Err("give --status, --class or --failure".into()),
        };
        if let Some(ra) = self.retry_after {
            f["retry_after"] = json!(ra);
        }
        Ok(f)
    }

    fn body(&self) -> CmdResult<Value> {
        Ok(json!({ "key": self.key, "tenant": self.tenant, "failure": self.failure()? }))
    }
}

#[derive(Debug, clap::Args)]
pub struct PreviewArgs {
    #[command(flatten)]
    what: FailureArgs,
    /// Decisions to show at most.
    #[arg(long, default_value_t = 10)]
    steps: usize,
}

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    what: FailureArgs,
    /// Which failed attempt of the schedule to explain (1 = the first failure).
    #[arg(long, default_value_t = 1)]
    attempt: u32,
}

fn clamps_text(rec: &Value) -> String {
    let list: Vec<String> = rec["clamps"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            format!(
                "{} {} -> {}",
                c["guardrail"].as_str().unwrap_or("?"),
                secs(c["from"].as_f64()),
                secs(c["to"].as_f64())
            )
        })
        .collect();
    if list.is_empty() {
        "-".into()
    } else {
        list.join("; ")
    }
}

pub fn preview(args: &PreviewArgs) -> CmdResult {
    let source = Source::open(&args.what.source)?;
    let mut body = args.what.body()?;
    body["steps"] = json!(args.steps);
    let recs = source.send("POST", "/preview", body)?;
    if args.what.source.json {
        println!("{recs:#}");
        return Ok(());
    }
    let mut t = Table::new(&[
        "attempt", "action", "delay", "at", "tier", "p(next)", "clamps", "reason",
    ]);
    let mut at = 0.0;
    for r in recs.as_array().into_iter().flatten() {
        let delay = r["delay"].as_f64().unwrap_or(0.0);
        let retry = r["action"] == "retry";
        if retry {
            at += delay;
        }
        t.row(vec![
            r["attempt"].to_string(),
            r["action"].as_str().unwrap_or("?").to_string(),
            if retry { secs(Some(delay)) } else { "-".into() },
            if retry { secs(Some(at)) } else { "-".into() },
            r["tier"].as_str().unwrap_or("?").to_string(),
            pct(r["success_probability"].as_f64()),
            clamps_text(r),
            r["reason"].as_str().unwrap_or("").to_string(),
        ]);
    }
    print!("{}", t.render());
    Ok(())
}

pub fn explain(args: &ExplainArgs) -> CmdResult {
    let source = Source::open(&args.what.source)?;
    let mut body = args.what.body()?;
    body["attempt"] = json!(args.attempt);
    let x = source.send("POST", "/explain", body)?;
    if args.what.source.json {
        println!("{x:#}");
        return Ok(());
    }
    let rec = &x["recommendation"];
    println!(
        "attempt {} of {} ({}): {} {} [{}]",
        rec["attempt"],
        args.what.key,
        rec["class"].as_str().unwrap_or("?"),
        rec["action"].as_str().unwrap_or("?"),
        secs(rec["delay"].as_f64()),
        rec["tier"].as_str().unwrap_or("?"),
    );
    println!("reason: {}", rec["reason"].as_str().unwrap_or(""));
    println!("\nproposals (highest tier first; the first decides unless a guardrail overrules):");
    let mut t = Table::new(&["tier", "delay", "p(next)", "reason"]);
    for p in x["proposals"].as_array().into_iter().flatten() {
        t.row(vec![
            p["tier"].as_str().unwrap_or("?").to_string(),
            p["delay"].as_f64().map_or("stop".into(), |d| secs(Some(d))),
            pct(p["success_probability"].as_f64()),
            p["reason"].as_str().unwrap_or("").to_string(),
        ]);
    }
    print!("{}", t.render());
    println!("\nclamps:");
    let clamps = rec["clamps"].as_array().cloned().unwrap_or_default();
    if clamps.is_empty() {
        println!("(none: no guardrail changed the proposal)");
    } else {
        let mut t = Table::new(&["guardrail", "from", "to"]);
        for c in &clamps {
            t.row(vec![
                c["guardrail"].as_str().unwrap_or("?").to_string(),
                secs(c["from"].as_f64()),
                secs(c["to"].as_f64()),
            ]);
        }
        print!("{}", t.render());
    }
    Ok(())
}
