//! Drawing: three panels side by side on a wide terminal, tabs (keys 1-4) on a narrow one, a
//! popup for previews and override input, and a status line.

use super::app::{App, Panel, Popup};
use crate::table::{pct, secs};
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Tabs, Wrap};
use ratatui::Frame;
use serde_json::Value;

/// Narrower than this, panels become tabs.
pub const WIDE: u16 = 120;

pub fn draw(f: &mut Frame, app: &App) {
    let area = f.area();
    let [main, status] = Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(area);
    if area.width >= WIDE {
        let cols = Layout::default()
            .direction(Direction::Horizontal)
            .constraints([
                Constraint::Percentage(28),
                Constraint::Percentage(44),
                Constraint::Percentage(28),
            ])
            .split(main);
        panel(f, app, Panel::Config, cols[0]);
        panel(f, app, Panel::Live, cols[1]);
        // The right panel holds analytics and, below them, the alerts.
        let right = Layout::vertical([Constraint::Percentage(65), Constraint::Percentage(35)])
            .split(cols[2]);
        panel(f, app, Panel::Analytics, right[0]);
        panel(f, app, Panel::Alerts, right[1]);
    } else {
        let [tabs, body] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(2)]).areas(main);
        let titles: Vec<String> = Panel::TABS
            .iter()
            .enumerate()
            .map(|(i, p)| format!("{} {}", i + 1, p.title()))
            .collect();
        let selected = Panel::TABS
            .iter()
            .position(|p| *p == app.focus)
            .unwrap_or(1);
        f.render_widget(
            Tabs::new(titles)
                .select(selected)
                .highlight_style(Style::default().add_modifier(Modifier::REVERSED)),
            tabs,
        );
        panel(f, app, app.focus, body);
    }
    f.render_widget(Paragraph::new(app.status.as_str()), status);
    if let Some(p) = &app.popup {
        popup(f, p, area);
    }
}

fn block(title: &str, focused: bool) -> Block<'_> {
    let b = Block::default().borders(Borders::ALL).title(title);
    if focused {
        b.border_style(Style::default().add_modifier(Modifier::BOLD))
    } else {
        b
    }
}

fn panel(f: &mut Frame, app: &App, which: Panel, area: Rect) {
    let lines = match which {
        Panel::Config => config_lines(app),
        Panel::Live => live_lines(app),
        Panel::Analytics => analytics_lines(app),
        Panel::Alerts => alert_lines(app),
    };
    let title = match which {
        Panel::Alerts => format!("{} ({})", which.title(), app.alerts().len()),
        _ => which.title().to_string(),
    };
    let p = Paragraph::new(lines).block(block(&title, app.focus == which));
    // One decision per line: the live panel is cut at its edge, the others wrap.
    let p = if which == Panel::Live {
        p
    } else {
        p.wrap(Wrap { trim: false })
    };
    f.render_widget(p, area);
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("?")
}

fn config_lines(app: &App) -> Vec<Line<'static>> {
    let mut out = vec![Line::from("classes: strategy, attempts, max delay")];
    for (class, cp) in app.policy["classes"].as_object().into_iter().flatten() {
        let strategy = cp["strategy"]["kind"]
            .as_str()
            .or_else(|| cp["strategy"].as_str())
            .unwrap_or("-");
        out.push(Line::from(format!(
            " {class:<13}{strategy:<16}{:>3}  {}",
            cp["max_attempts"],
            secs(cp["max_delay"].as_f64())
        )));
    }
    out.push(Line::from(""));
    out.push(Line::from(format!("overrides ({})", app.overrides.len())));
    for o in &app.overrides {
        let patch: Vec<String> = o["patch"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        out.push(Line::from(format!(
            " {} {} [{}] {}",
            s(&o["scope"]),
            s(&o["name"]),
            o["class"].as_str().unwrap_or("*"),
            patch.join(" ")
        )));
    }
    out.push(Line::from(""));
    out.push(Line::from(format!("models ({})", app.models.len())));
    for m in &app.models {
        let r = &m["report"];
        out.push(Line::from(format!(
            " {}/{} {:.0} ep, prefers {}",
            s(&m["key"]),
            s(&m["class"]),
            r["episodes"].as_f64().unwrap_or(0.0),
            s(&r["preferred"])
        )));
    }
    out
}

/// The clock the decisions are on: the system's, unless they are far from it (a manual clock).
fn now_of(decisions: &[Value]) -> f64 {
    let latest = decisions
        .iter()
        .filter_map(|d| d["time"].as_f64())
        .fold(f64::MIN, f64::max);
    let system = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    if latest > f64::MIN && (system - latest).abs() > 86_400.0 {
        latest
    } else {
        system
    }
}

fn live_lines(app: &App) -> Vec<Line<'static>> {
    if !app.source.is_live() {
        return vec![Line::from("local policy: live decisions need --endpoint")];
    }
    let now = now_of(&app.decisions);
    let mut out = vec![Line::from("upcoming retry windows (next 60 s)")];
    let upcoming: Vec<(String, f64)> = app
        .decisions
        .iter()
        .filter(|d| d["recommendation"]["action"] == "retry")
        .filter_map(|d| {
            let due = d["time"].as_f64()? + d["recommendation"]["delay"].as_f64()?;
            (due > now + 1e-3).then(|| (s(&d["key"]).to_string(), due - now))
        })
        .take(5)
        .collect();
    if upcoming.is_empty() {
        out.push(Line::from(" (none due)"));
    }
    for (key, wait) in upcoming {
        let pos = ((wait / 60.0).min(1.0) * 30.0) as usize;
        let bar: String = (0..31).map(|i| if i == pos { '|' } else { '.' }).collect();
        out.push(Line::from(format!(
            " {key:<12} {bar} in {}",
            secs(Some(wait))
        )));
    }
    out.push(Line::from(""));
    out.push(Line::from(
        "recent decisions (newest first; Up/Down select)",
    ));
    for (i, d) in app.decisions.iter().enumerate().take(40) {
        let r = &d["recommendation"];
        let delay = if r["action"] == "retry" {
            secs(r["delay"].as_f64())
        } else {
            "-".into()
        };
        let marker = if i == app.selected { '>' } else { ' ' };
        let line = format!(
            "{marker}{:<10} #{:<2} {:<8} {:>7} {:<9} p={:>4}  {}",
            s(&d["key"]),
            r["attempt"],
            s(&r["action"]),
            delay,
            s(&r["tier"]),
            pct(r["success_probability"].as_f64()),
            s(&r["reason"]),
        );
        let style = if i == app.selected {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default()
        };
        out.push(Line::styled(line, style));
    }
    out
}

fn analytics_lines(app: &App) -> Vec<Line<'static>> {
    if !app.source.is_live() {
        return vec![Line::from("local policy: analytics need --endpoint")];
    }
    let st = &app.stats;
    let m = &app.metrics;
    let mut out = vec![
        Line::from(format!(
            "episodes {}  retries {}  give-ups {}",
            st["episodes"], st["retries"], st["give_ups"]
        )),
        Line::from(format!(
            "successes {} (after retry {})",
            st["successes"], st["successes_after_retry"]
        )),
        Line::from("decisions by tier:"),
    ];
    for (k, v) in m["decisions_by_tier"].as_object().into_iter().flatten() {
        out.push(Line::from(format!("  {k:<10} {v}")));
    }
    let clamps: Vec<String> = m["clamps"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    out.push(Line::from(format!("clamps: {}", clamps.join(", "))));
    out.push(Line::from(format!("fallbacks: {}", m["fallbacks"])));
    for (class, v) in m["calls_avoided"].as_object().into_iter().flatten() {
        out.push(Line::from(format!(
            "calls avoided {class}: {} (extra {})",
            v["avoided"], v["extra"]
        )));
    }
    let lat = &m["recommendation_latency_seconds"];
    out.push(Line::from(format!(
        "latency p50 <= {}, p99 <= {}",
        secs(lat["p50_le"].as_f64()),
        secs(lat["p99_le"].as_f64())
    )));
    for model in m["models"].as_array().into_iter().flatten() {
        out.push(Line::from(format!(
            "{}/{} brier {} drift {:.2}",
            s(&model["key"]),
            s(&model["class"]),
            model["brier"]
                .as_f64()
                .map_or("-".into(), |b| format!("{b:.3}")),
            model["drift"].as_f64().unwrap_or(0.0)
        )));
    }
    out
}

fn alert_lines(app: &App) -> Vec<Line<'static>> {
    let alerts = app.alerts();
    if alerts.is_empty() {
        return vec![Line::from("no alerts")];
    }
    alerts
        .into_iter()
        .map(|a| Line::from(format!("! {a}")))
        .collect()
}

fn popup(f: &mut Frame, p: &Popup, area: Rect) {
    let w = area.width.saturating_sub(8).min(100);
    let h = area.height.saturating_sub(4).min(16);
    let r = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    f.render_widget(Clear, r);
    let (title, lines): (String, Vec<Line>) = match p {
        Popup::Preview { key, class, steps } => {
            let mut lines = vec![Line::from(
                "Enter: pin the first delay as the queue's fixed delay · Esc: close",
            )];
            for st in steps {
                lines.push(Line::from(format!(
                    "attempt {:<2} {:<8} {:>8} [{}] {}",
                    st["attempt"],
                    s(&st["action"]),
                    if st["action"] == "retry" {
                        secs(st["delay"].as_f64())
                    } else {
                        "-".into()
                    },
                    s(&st["tier"]),
                    s(&st["reason"])
                )));
            }
            (format!("Preview {key} ({class})"), lines)
        }
        Popup::Override { key, input } => (
            format!("Override {key}"),
            vec![
                Line::from("fixed delay for this queue, seconds (Enter: set · Esc: cancel)"),
                Line::from(format!("> {input}_")),
            ],
        ),
    };
    f.render_widget(
        Paragraph::new(lines)
            .block(Block::default().borders(Borders::ALL).title(title))
            .wrap(Wrap { trim: false }),
        r,
    );
}
