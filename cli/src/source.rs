//! Where operator commands read from: a live engine's admin endpoint (`--endpoint URL`), or a
//! local engine built from a policy file and, optionally, a snapshot of what it learned. Both
//! answer in the admin endpoint's JSON, so every command renders one shape.

use serde_json::{json, Value};
use smartretry::monitor::model_views;
use smartretry::{Engine, Failure, Policy, Snapshot};
use std::path::PathBuf;

/// The flags every reading command shares.
#[derive(Debug, Clone, clap::Args)]
pub struct SourceArgs {
    /// A live engine's admin endpoint, e.g. http://127.0.0.1:9464.
    #[arg(long, env = "SMARTRETRY_ENDPOINT")]
    pub endpoint: Option<String>,
    /// Bearer token for write operations on the endpoint.
    #[arg(long, env = "SMARTRETRY_ADMIN_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Policy file (JSON, partial over the defaults) for a local engine.
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// Snapshot file of learned models, loaded into the local engine.
    #[arg(long)]
    pub snapshot: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub enum Source {
    Live { base: String, token: Option<String> },
    Local(Engine),
}

pub type CmdResult<T = ()> = Result<T, String>;

impl Source {
    pub fn open(args: &SourceArgs) -> CmdResult<Source> {
        if let Some(url) = &args.endpoint {
            if args.policy.is_some() || args.snapshot.is_some() {
                return Err("give either --endpoint or --policy/--snapshot, not both".into());
            }
            let base = url.trim_end_matches('/').to_string();
            if !base.starts_with("http://") {
                return Err(format!("--endpoint must be an http:// URL, not {url:?}"));
            }
            return Ok(Source::Live {
                base,
                token: args.token.clone(),
            });
        }
        let policy = match &args.policy {
            Some(p) => {
                let text =
                    std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
                Policy::from_json(&text).map_err(|e| format!("{}: {e}", p.display()))?
            }
            None => Policy::default(),
        };
        let engine = Engine::new(policy).map_err(|e| e.to_string())?;
        if let Some(path) = &args.snapshot {
            let snap = Snapshot::load(path).map_err(|e| format!("{}: {e}", path.display()))?;
            engine.try_restore(&snap).map_err(|e| e.to_string())?;
        }
        Ok(Source::Local(engine))
    }

    pub fn is_live(&self) -> bool {
        matches!(self, Source::Live { .. })
    }

    /// GET a route of the endpoint, or compute the same answer locally.
    pub fn get(&self, route: &str) -> CmdResult<Value> {
        match self {
            Source::Live { base, .. } => request("GET", &format!("{base}{route}"), None, None),
            Source::Local(engine) => local_get(engine, route),
        }
    }

    /// POST/PUT/DELETE a JSON body (the endpoint's routes; locally, the same operation).
    pub fn send(&self, method: &str, route: &str, body: Value) -> CmdResult<Value> {
        match self {
            Source::Live { base, token } => request(
                method,
                &format!("{base}{route}"),
                token.as_deref(),
                Some(body),
            ),
            Source::Local(engine) => local_send(engine, method, route, &body),
        }
    }
}

fn request(method: &str, url: &str, token: Option<&str>, body: Option<Value>) -> CmdResult<Value> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(10)))
        .build()
        .into();
    let mut req = ureq::http::Request::builder().method(method).uri(url);
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let req = req.body(body).map_err(|e| format!("{url}: {e}"))?;
    let mut resp = agent.run(req).map_err(|e| format!("{url}: {e}"))?;
    let status = resp.status().as_u16();
    let text = resp
        .body_mut()
        .read_to_string()
        .map_err(|e| format!("{url}: {e}"))?;
    let value: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    if status >= 400 {
        let msg = value["error"].as_str().unwrap_or("request failed");
        let code = value["code"].as_str().unwrap_or("");
        return Err(format!("{url}: HTTP {status} {code}: {msg}"));
    }
    Ok(value)
}

fn to_value(v: impl serde::Serialize) -> CmdResult<Value> {
    serde_json::to_value(v).map_err(|e| e.to_string())
}

fn local_get(engine: &Engine, route: &str) -> CmdResult<Value> {
    match route {
        "/models" => to_value(model_views(engine)),
        "/policy" => serde_json::from_str(&engine.policy().to_json()).map_err(|e| e.to_string()),
        "/overrides" => Ok(json!([])),
        "/stats" | "/decisions" | "/metrics.json" => Err(format!(
            "{route} needs a live engine: give --endpoint URL (a snapshot holds models, not counters)"
        )),
        other => Err(format!("no local route {other}")),
    }
}

fn failure_of(body: &Value) -> CmdResult<Failure> {
    Failure::from_json(&body["failure"].to_string()).map_err(|e| e.to_string())
}

fn local_send(engine: &Engine, method: &str, route: &str, body: &Value) -> CmdResult<Value> {
    let key = body["key"].as_str().unwrap_or_default();
    let tenant = body["tenant"].as_str();
    match (method, route) {
        ("POST", "/preview") => {
            let steps = body["steps"].as_u64().unwrap_or(10) as usize;
            let recs = engine
                .preview(key, tenant, &failure_of(body)?, steps)
                .map_err(|e| e.to_string())?;
            to_value(recs)
        }
        ("POST", "/explain") => {
            let attempt = body["attempt"]
                .as_u64()
                .unwrap_or(1)
                .min(u64::from(u32::MAX)) as u32;
            let x = engine
                .explain(key, tenant, &failure_of(body)?, attempt)
                .map_err(|e| e.to_string())?;
            to_value(x)
        }
        _ => Err(format!(
            "{method} {route} changes a live engine: give --endpoint URL and --token"
        )),
    }
}
