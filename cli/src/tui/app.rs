//! The TUI's state and what each key does. Data comes from the same source as the other
//! commands (a live endpoint, or a local policy and snapshot); every action is one request.

use crate::source::Source;
use serde_json::{json, Value};
use std::path::PathBuf;

/// The panels: wide terminals show the first three side by side; narrow ones show one tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Panel {
    Config,
    Live,
    Analytics,
    Alerts,
}

impl Panel {
    pub const TABS: [Panel; 4] = [Panel::Config, Panel::Live, Panel::Analytics, Panel::Alerts];

    pub fn title(self) -> &'static str {
        match self {
            Panel::Config => "Strategy & models",
            Panel::Live => "Live recommendations",
            Panel::Analytics => "Analytics",
            Panel::Alerts => "Alerts",
        }
    }
}

/// A popup over the panels.
pub enum Popup {
    /// The schedule the selected job's failure would get.
    Preview {
        key: String,
        class: String,
        steps: Vec<Value>,
    },
    /// Typing a fixed delay (seconds) for the selected job's queue.
    Override { key: String, input: String },
}

/// What a key asks for, decided by `keys.rs`.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Quit,
    Refresh,
    Refit,
    Preview,
    StartOverride,
    Export,
    ShowAlerts,
    NextPanel,
    Tab(usize),
    Up,
    Down,
    Apply,
    Cancel,
    Type(char),
    Backspace,
    None,
}

pub struct App {
    pub source: Source,
    pub policy: Value,
    pub models: Vec<Value>,
    pub decisions: Vec<Value>,
    pub stats: Value,
    pub metrics: Value,
    pub overrides: Vec<Value>,
    pub focus: Panel,
    pub selected: usize,
    pub popup: Option<Popup>,
    pub status: String,
    pub export_to: PathBuf,
    pub quit: bool,
}

/// The alerts the right panel lists, from the same thresholds as ops/prometheus/alerts.yml.
pub fn alerts(metrics: &Value, stats: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for m in metrics["models"].as_array().into_iter().flatten() {
        let drift = m["drift"].as_f64().unwrap_or(0.0);
        if drift > 0.25 && m["scored"].as_u64().unwrap_or(0) > 30 {
            out.push(format!(
                "drift {:.2} on {}/{}",
                drift,
                m["key"].as_str().unwrap_or("?"),
                m["class"].as_str().unwrap_or("?")
            ));
        }
    }
    let decisions: u64 = metrics["decisions_by_tier"]
        .as_object()
        .map(|o| o.values().filter_map(Value::as_u64).sum())
        .unwrap_or(0);
    let clamps: u64 = metrics["clamps"]
        .as_object()
        .map(|o| o.values().filter_map(Value::as_u64).sum())
        .unwrap_or(0);
    if decisions >= 20 && clamps * 2 > decisions {
        out.push(format!(
            "guardrails clamp {clamps} of {decisions} decisions"
        ));
    }
    let fallbacks = metrics["fallbacks"].as_u64().unwrap_or(0);
    if decisions >= 20 && fallbacks * 2 > decisions {
        out.push(format!(
            "{fallbacks} of {decisions} decisions fell back while learning"
        ));
    }
    let denials = stats["budget_denials"].as_u64().unwrap_or(0);
    if denials > 0 {
        out.push(format!("{denials} retries denied by a budget"));
    }
    out
}

impl App {
    pub fn new(source: Source, export_to: PathBuf) -> App {
        let mut app = App {
            source,
            policy: Value::Null,
            models: Vec::new(),
            decisions: Vec::new(),
            stats: Value::Null,
            metrics: Value::Null,
            overrides: Vec::new(),
            focus: Panel::Live,
            selected: 0,
            popup: None,
            status: "Tab panels · ^P preview · ^O override · Enter apply · Esc cancel override · ^E export · ^A alerts · ^R refit · Space refresh · q quit".into(),
            export_to,
            quit: false,
        };
        app.refresh();
        app
    }

    /// Fetch everything again; what a local source cannot answer stays empty.
    pub fn refresh(&mut self) {
        let list = |v: Result<Value, String>| v.ok().and_then(|v| v.as_array().cloned());
        self.policy = self.source.get("/policy").unwrap_or(Value::Null);
        self.models = list(self.source.get("/models")).unwrap_or_default();
        self.overrides = list(self.source.get("/overrides")).unwrap_or_default();
        if self.source.is_live() {
            self.decisions = list(self.source.get("/decisions?limit=200")).unwrap_or_default();
            self.stats = self.source.get("/stats").unwrap_or(Value::Null);
            self.metrics = self.source.get("/metrics.json").unwrap_or(Value::Null);
        }
        self.selected = self.selected.min(self.decisions.len().saturating_sub(1));
    }

    pub fn alerts(&self) -> Vec<String> {
        alerts(&self.metrics, &self.stats)
    }

    /// The selected job: (key, tenant, class, recommended delay) of the selected decision.
    fn selected_job(&self) -> Option<(String, Option<String>, String, Option<f64>)> {
        let d = self.decisions.get(self.selected)?;
        let r = &d["recommendation"];
        Some((
            d["key"].as_str()?.to_string(),
            d["tenant"].as_str().map(str::to_string),
            r["class"].as_str()?.to_string(),
            (r["action"] == "retry")
                .then(|| r["delay"].as_f64())
                .flatten(),
        ))
    }

    fn set_fixed_delay(&mut self, key: &str, secs: f64) {
        let body = json!({"scope": "queue", "name": key, "patch": {"fixed_delay": secs}});
        self.status = match self.source.send("PUT", "/overrides", body) {
            Ok(_) => format!("override: queue {key} retries after a fixed {secs} s"),
            Err(e) => format!("override failed: {e}"),
        };
        self.refresh();
    }

    pub fn apply(&mut self, action: Action) {
        match (&mut self.popup, action) {
            (_, Action::Quit) => self.quit = true,
            (Some(Popup::Override { input, .. }), Action::Type(c)) => input.push(c),
            (Some(Popup::Override { input, .. }), Action::Backspace) => {
                input.pop();
            }
            (Some(Popup::Override { key, input }), Action::Apply) => {
                let (key, input) = (key.clone(), input.clone());
                self.popup = None;
                match input.trim().parse::<f64>() {
                    Ok(secs) => self.set_fixed_delay(&key, secs),
                    Err(_) => self.status = format!("not a number of seconds: {input:?}"),
                }
            }
            (Some(Popup::Preview { key, steps, .. }), Action::Apply) => {
                let key = key.clone();
                let first = steps.first().and_then(|r| r["delay"].as_f64());
                self.popup = None;
                if let Some(secs) = first {
                    self.set_fixed_delay(&key, secs);
                }
            }
            (Some(_), Action::Cancel) => {
                self.popup = None;
                self.status = "cancelled".into();
            }
            (Some(_), _) => {}
            (None, a) => self.apply_main(a),
        }
    }

    fn apply_main(&mut self, action: Action) {
        match action {
            Action::Refresh => {
                self.refresh();
                self.status = "refreshed".into();
            }
            Action::Refit => {
                self.refresh();
                self.status = format!(
                    "refit: {} model plans recomputed from the latest evidence",
                    self.models.len()
                );
            }
            Action::Preview => self.preview(),
            Action::StartOverride => match self.selected_job() {
                Some((key, ..)) => {
                    self.popup = Some(Popup::Override {
                        key,
                        input: String::new(),
                    })
                }
                None => self.status = "no job selected".into(),
            },
            Action::Export => self.export(),
            Action::ShowAlerts => {
                self.focus = Panel::Alerts;
                self.status = format!("{} alert(s)", self.alerts().len());
            }
            Action::NextPanel => {
                let i = Panel::TABS
                    .iter()
                    .position(|p| *p == self.focus)
                    .unwrap_or(0);
                self.focus = Panel::TABS[(i + 1) % Panel::TABS.len()];
            }
            Action::Tab(i) => self.focus = Panel::TABS[i.min(3)],
            Action::Up => self.selected = self.selected.saturating_sub(1),
            Action::Down => {
                self.selected = (self.selected + 1).min(self.decisions.len().saturating_sub(1))
            }
            Action::Apply => match self.selected_job() {
                Some((key, _, _, Some(secs))) => self.set_fixed_delay(&key, secs),
                Some((key, ..)) => {
                    self.status = format!("{key}: the selected decision is no retry")
                }
                None => self.status = "no job selected".into(),
            },
            Action::Cancel => match self.selected_job() {
                Some((key, ..)) => {
                    let body = json!({"scope": "queue", "name": key});
                    self.status = match self.source.send("DELETE", "/overrides", body) {
                        Ok(_) => format!("override of queue {key} cancelled"),
                        Err(e) => format!("cancel failed: {e}"),
                    };
                    self.refresh();
                }
                None => self.status = "no job selected".into(),
            },
            Action::Type(_) | Action::Backspace | Action::Quit | Action::None => {}
        }
    }

    fn preview(&mut self) {
        let Some((key, tenant, class, _)) = self.selected_job() else {
            self.status = "no job selected".into();
            return;
        };
        let body = json!({"key": key, "tenant": tenant, "failure": {"class": class}, "steps": 10});
        match self.source.send("POST", "/preview", body) {
            Ok(v) => {
                self.popup = Some(Popup::Preview {
                    key,
                    class,
                    steps: v.as_array().cloned().unwrap_or_default(),
                })
            }
            Err(e) => self.status = format!("preview failed: {e}"),
        }
    }

    fn export(&mut self) {
        let doc = json!({"policy": self.policy, "overrides": self.overrides});
        let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
        self.status = match std::fs::write(&self.export_to, text) {
            Ok(()) => format!("configuration exported to {}", self.export_to.display()),
            Err(e) => format!("export failed: {}: {e}", self.export_to.display()),
        };
    }
}
