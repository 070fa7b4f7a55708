//! `smartretry tui`: the operator console. Left: strategy configuration and models; centre:
//! live recommendations with the upcoming retry windows and their reasons; right: analytics and
//! alerts. Narrow terminals get tabs (1-4). Keys: Ctrl+R refit, Ctrl+P preview the selected
//! job, Ctrl+O override its delay, Ctrl+E export the configuration, Ctrl+A alerts, Tab switch
//! panels, Space refresh, Enter apply the recommendation, Esc cancel an override, q quit.

mod app;
mod keys;
mod view;

use crate::source::{CmdResult, Source, SourceArgs};
use app::{App, Popup};
use ratatui::crossterm::event::{self, Event};
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
pub struct TuiArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// Refresh the data this often, milliseconds.
    #[arg(long, default_value_t = 1000)]
    refresh_ms: u64,
    /// Where Ctrl+E writes the configuration.
    #[arg(long, default_value = "smartretry-config.json")]
    export_to: PathBuf,
}

pub fn run(args: &TuiArgs) -> CmdResult {
    let source = Source::open(&args.source)?;
    let mut app = App::new(source, args.export_to.clone());
    let mut terminal = ratatui::try_init().map_err(|e| format!("terminal: {e}"))?;
    let every = Duration::from_millis(args.refresh_ms.max(100));
    let mut last = Instant::now();
    let result = loop {
        if let Err(e) = terminal.draw(|f| view::draw(f, &app)) {
            break Err(format!("terminal: {e}"));
        }
        if app.quit {
            break Ok(());
        }
        let wait = every.saturating_sub(last.elapsed());
        match event::poll(wait) {
            Ok(true) => {
                if let Ok(Event::Key(k)) = event::read() {
                    let typing = matches!(app.popup, Some(Popup::Override { .. }));
                    app.apply(keys::action(k, typing));
                }
            }
            Ok(false) => {}
            Err(e) => break Err(format!("terminal: {e}")),
        }
        if last.elapsed() >= every {
            if app.popup.is_none() {
                app.refresh();
            }
            last = Instant::now();
        }
    };
    ratatui::restore();
    result
}
