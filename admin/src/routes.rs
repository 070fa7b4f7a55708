//! The endpoint's routes, independent of the HTTP server so that they are tested directly.
//! Every answer is JSON except `/metrics` (Prometheus text); every error is JSON
//! `{"error": message, "code": CODE}` with the core's error code.

use serde::{Deserialize, Serialize};
use smartretry::monitor::{model_views, Monitor};
use smartretry::{Engine, Error, ErrorClass, Failure, PolicyPatch, Scope};

/// A request as the routes see it.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub method: String,
    /// Path without the query string.
    pub path: String,
    pub query: String,
    /// The `Authorization` header's value.
    pub authorization: Option<String>,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

const JSON: &str = "application/json";
const PROMETHEUS: &str = "text/plain; version=0.0.4; charset=utf-8";

impl Reply {
    pub(crate) fn json(value: &impl Serialize) -> Reply {
        Reply {
            status: 200,
            content_type: JSON,
            body: serde_json::to_string(value).unwrap_or_else(|_| "null".into()),
        }
    }

    pub(crate) fn error(status: u16, code: &str, message: impl Into<String>) -> Reply {
        let body = serde_json::json!({"error": message.into(), "code": code});
        Reply {
            status,
            content_type: JSON,
            body: body.to_string(),
        }
    }

    pub(crate) fn core(e: Error) -> Reply {
        let status = if e.code() == "IO" { 500 } else { 400 };
        Reply::error(status, e.code(), e.to_string())
    }
}

/// One override, as listed and as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverrideEntry {
    /// "queue" or "tenant".
    pub scope: String,
    pub name: String,
    /// An error class, or null/absent for every class.
    #[serde(default)]
    pub class: Option<String>,
    #[serde(default)]
    pub patch: Option<PolicyPatch>,
}

/// The body of `/preview` (`steps`) and `/explain` (`attempt`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PreviewRequest {
    key: String,
    #[serde(default)]
    tenant: Option<String>,
    failure: serde_json::Value,
    #[serde(default)]
    steps: Option<usize>,
    #[serde(default)]
    attempt: Option<u32>,
}

const ROUTES: &[&str] = &[
    "GET /stats",
    "GET /models",
    "GET /decisions?limit=N",
    "GET /metrics",
    "GET /metrics.json",
    "GET /policy",
    "GET /overrides",
    "PUT /overrides (token)",
    "DELETE /overrides (token)",
    "POST /preview",
    "POST /explain",
    "GET /rollouts",
    "PUT /rollouts (token)",
];

/// Answer one request.
pub fn handle(engine: &Engine, monitor: &Monitor, token: Option<&str>, req: &Request) -> Reply {
    match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/") => Reply::json(&serde_json::json!({ "routes": ROUTES })),
        ("GET", "/stats") => Reply::json(&engine.stats()),
        ("GET", "/models") => Reply::json(&model_views(engine)),
        ("GET", "/decisions") => match limit(&req.query) {
            Ok(n) => Reply::json(&monitor.recent(n)),
            Err(r) => r,
        },
        ("GET", "/metrics") => Reply {
            status: 200,
            content_type: PROMETHEUS,
            body: monitor.prometheus(),
        },
        ("GET", "/metrics.json") => Reply::json(&monitor.metrics_json()),
        ("GET", "/policy") => Reply {
            status: 200,
            content_type: JSON,
            body: engine.policy().to_json(),
        },
        ("GET", "/overrides") => Reply::json(&list_overrides(engine)),
        ("PUT" | "POST", "/overrides") => {
            authorized(token, req).unwrap_or_else(|| set_override(engine, &req.body))
        }
        ("DELETE", "/overrides") => {
            authorized(token, req).unwrap_or_else(|| clear_override(engine, &req.body))
        }
        ("GET", "/rollouts") => crate::rollouts::list(engine),
        ("PUT" | "POST", "/rollouts") => {
            authorized(token, req).unwrap_or_else(|| crate::rollouts::change(engine, &req.body))
        }
        ("POST", "/preview") => preview(engine, &req.body, false),
        ("POST", "/explain") => preview(engine, &req.body, true),
        (_, "/" | "/stats" | "/models" | "/decisions" | "/metrics" | "/metrics.json")
        | (_, "/policy" | "/overrides" | "/preview" | "/explain" | "/rollouts") => {
            Reply::error(405, "METHOD_NOT_ALLOWED", "method not allowed here")
        }
        _ => Reply::error(404, "NOT_FOUND", format!("no route {}", req.path)),
    }
}

fn limit(query: &str) -> Result<usize, Reply> {
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        if let Some(v) = pair.strip_prefix("limit=") {
            return v
                .parse()
                .map_err(|_| Reply::error(400, "INVALID_QUERY", "limit must be an integer"));
        }
    }
    Ok(50)
}

/// None when the request may write; otherwise the refusal.
fn authorized(token: Option<&str>, req: &Request) -> Option<Reply> {
    let Some(token) = token else {
        return Some(Reply::error(
            403,
            "WRITES_DISABLED",
            "write operations are disabled: start the admin endpoint with a token",
        ));
    };
    let given = req
        .authorization
        .as_deref()
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or("");
    if constant_time_eq(given.as_bytes(), token.as_bytes()) {
        None
    } else {
        Some(Reply::error(
            401,
            "UNAUTHORIZED",
            "missing or wrong bearer token",
        ))
    }
}

/// Compare without an early exit, so that timing does not reveal the token's prefix.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn list_overrides(engine: &Engine) -> Vec<OverrideEntry> {
    engine
        .overrides()
        .into_iter()
        .map(|(scope, class, patch)| {
            let (kind, name) = match scope {
                Scope::Queue(n) => ("queue", n),
                Scope::Tenant(n) => ("tenant", n),
            };
            OverrideEntry {
                scope: kind.into(),
                name,
                class: class.map(|c| c.as_str().to_string()),
                patch: Some(patch),
            }
        })
        .collect()
}

fn parse_entry(body: &str) -> Result<(Scope, Option<ErrorClass>, Option<PolicyPatch>), Reply> {
    let e: OverrideEntry =
        serde_json::from_str(body).map_err(|e| Reply::error(400, "INVALID_JSON", e.to_string()))?;
    let scope = match e.scope.as_str() {
        "queue" => Scope::Queue(e.name),
        "tenant" => Scope::Tenant(e.name),
        other => {
            return Err(Reply::error(
                400,
                "INVALID_CONFIG",
                format!("scope must be \"queue\" or \"tenant\", not {other:?}"),
            ))
        }
    };
    let class = e
        .class
        .as_deref()
        .map(str::parse::<ErrorClass>)
        .transpose()
        .map_err(Reply::core)?;
    Ok((scope, class, e.patch))
}

fn set_override(engine: &Engine, body: &str) -> Reply {
    let (scope, class, patch) = match parse_entry(body) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(patch) = patch else {
        return Reply::error(400, "INVALID_CONFIG", "an override needs a patch");
    };
    match engine.set_override(scope, class, patch) {
        Ok(()) => Reply::json(&list_overrides(engine)),
        Err(e) => Reply::core(e),
    }
}

fn clear_override(engine: &Engine, body: &str) -> Reply {
    match parse_entry(body) {
        Ok((scope, class, _)) => {
            engine.clear_override(&scope, class);
            Reply::json(&list_overrides(engine))
        }
        Err(r) => r,
    }
}

/// The schedule a failure would get (`explain`: one step of it taken apart). Read-only.
fn preview(engine: &Engine, body: &str, explain: bool) -> Reply {
    let req: PreviewRequest = match serde_json::from_str(body) {
        Ok(r) => r,
        Err(e) => return Reply::error(400, "INVALID_JSON", e.to_string()),
    };
    let failure = match Failure::from_json(&req.failure.to_string()) {
        Ok(f) => f,
        Err(e) => return Reply::core(e),
    };
    let tenant = req.tenant.as_deref();
    if explain {
        let attempt = req.attempt.unwrap_or(1).min(1000);
        return match engine.explain(&req.key, tenant, &failure, attempt) {
            Ok(x) => Reply::json(&x),
            Err(e) => Reply::core(e),
        };
    }
    let steps = req.steps.unwrap_or(10).min(1000);
    match engine.preview(&req.key, tenant, &failure, steps) {
        Ok(recs) => Reply::json(&recs),
        Err(e) => Reply::core(e),
    }
}
