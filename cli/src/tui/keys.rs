//! Keys to actions. While a delay is being typed, characters go to the input.

use super::app::Action;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

pub fn action(key: KeyEvent, typing: bool) -> Action {
    if key.kind == KeyEventKind::Release {
        return Action::None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Char('c') if ctrl => Action::Quit,
        KeyCode::Char('r') if ctrl => Action::Refit,
        KeyCode::Char('p') if ctrl => Action::Preview,
        KeyCode::Char('o') if ctrl => Action::StartOverride,
        KeyCode::Char('e') if ctrl => Action::Export,
        KeyCode::Char('a') if ctrl => Action::ShowAlerts,
        KeyCode::Enter => Action::Apply,
        KeyCode::Esc => Action::Cancel,
        KeyCode::Backspace if typing => Action::Backspace,
        KeyCode::Char(c) if typing && (c.is_ascii_digit() || c == '.') => Action::Type(c),
        _ if typing => Action::None,
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Char(' ') => Action::Refresh,
        KeyCode::Tab => Action::NextPanel,
        KeyCode::Char(c @ '1'..='4') => Action::Tab(c as usize - '1' as usize),
        KeyCode::Up | KeyCode::Char('k') => Action::Up,
        KeyCode::Down | KeyCode::Char('j') => Action::Down,
        _ => Action::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, m)
    }

    #[test]
    fn control_keys_and_typing() {
        let c = KeyModifiers::CONTROL;
        let none = KeyModifiers::NONE;
        assert_eq!(action(key(KeyCode::Char('p'), c), false), Action::Preview);
        assert_eq!(
            action(key(KeyCode::Char('o'), c), false),
            Action::StartOverride
        );
        assert_eq!(action(key(KeyCode::Char('3'), none), false), Action::Tab(2));
        assert_eq!(
            action(key(KeyCode::Char('3'), none), true),
            Action::Type('3')
        );
        assert_eq!(action(key(KeyCode::Char('q'), none), true), Action::None);
        assert_eq!(action(key(KeyCode::Esc, none), true), Action::Cancel);
    }
}
