//! Keys and mouse → actions (docs/dashboard.md). What a key means depends on what is open.

use crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEventKind,
};

use crate::tui::action::Action;
use crate::tui::app::{App, Overlay};

/// Every key, for the help overlay and docs/dashboard.md (keep in sync with `map_key`).
pub const HELP: &[(&str, &str)] = &[
    (
        "Tab / Shift-Tab",
        "next / previous pane (tab on narrow terminals)",
    ),
    (
        "↑↓ jk PgUp PgDn g G",
        "move the selection (row, page, ends)",
    ),
    ("Enter", "details of the selected row"),
    (
        "f",
        "fix the selected finding (y/Enter applies, Esc cancels)",
    ),
    ("] / [", "next / previous finding (from any pane)"),
    (
        "c",
        "copy the selected finding's fix command (OSC 52 clipboard)",
    ),
    ("s", "show / fold Kind's own namespaces and base images"),
    ("J / K", "scroll the events of the selected pod"),
    ("u", "undo the last fix (asks first)"),
    ("/", "filter rows by text (Enter keeps, Esc clears)"),
    (": or n", "choose the namespace"),
    ("l", "show / hide the log pane"),
    ("?", "show / hide this help"),
    ("Esc", "close what is open; clear the filter"),
    ("q  Ctrl-C", "quit"),
    (
        "mouse",
        "click focuses a pane and selects a row; wheel scrolls",
    ),
];

pub fn map_event(app: &App, event: &Event) -> Option<Action> {
    match event {
        Event::Key(key) => map_key(app, *key),
        Event::Mouse(m) => match m.kind {
            MouseEventKind::Down(MouseButton::Left) => Some(Action::Click {
                column: m.column,
                row: m.row,
            }),
            MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => Some(Action::Scroll {
                column: m.column,
                row: m.row,
                down: m.kind == MouseEventKind::ScrollDown,
            }),
            _ => None,
        },
        Event::Resize(width, height) => Some(Action::Resize {
            width: *width,
            height: *height,
        }),
        _ => None,
    }
}

pub fn map_key(app: &App, key: KeyEvent) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && key.code == KeyCode::Char('c') {
        return Some(Action::Quit);
    }
    match &app.overlay {
        Overlay::Filter => match key.code {
            KeyCode::Esc => Some(Action::Cancel),
            KeyCode::Enter => Some(Action::Confirm),
            KeyCode::Backspace => Some(Action::FilterBackspace),
            KeyCode::Char(c) if !ctrl => Some(Action::FilterInput(c)),
            _ => None,
        },
        Overlay::Fix(_) | Overlay::Undo(_) => match key.code {
            KeyCode::Char('y') | KeyCode::Enter => Some(Action::Confirm),
            KeyCode::Esc | KeyCode::Char('n') => Some(Action::Cancel),
            KeyCode::Char('q') => Some(Action::Quit),
            KeyCode::Char('c') => Some(Action::CopyFix),
            code => scroll_key(code),
        },
        Overlay::Namespaces { .. } => match key.code {
            KeyCode::Up | KeyCode::Char('k') => Some(Action::Up),
            KeyCode::Down | KeyCode::Char('j') => Some(Action::Down),
            KeyCode::Enter => Some(Action::Confirm),
            KeyCode::Esc => Some(Action::Cancel),
            KeyCode::Char('q') => Some(Action::Quit),
            _ => None,
        },
        Overlay::Help | Overlay::Info { .. } => match key.code {
            KeyCode::Esc | KeyCode::Enter => Some(Action::Cancel),
            KeyCode::Char('?') => Some(Action::ToggleHelp),
            KeyCode::Char('q') => Some(Action::Quit),
            code => scroll_key(code),
        },
        Overlay::None => match key.code {
            KeyCode::Char('q') => Some(Action::Quit),
            KeyCode::Tab => Some(Action::FocusNext),
            KeyCode::BackTab => Some(Action::FocusPrev),
            KeyCode::Up | KeyCode::Char('k') => Some(Action::Up),
            KeyCode::Down | KeyCode::Char('j') => Some(Action::Down),
            KeyCode::PageUp => Some(Action::PageUp),
            KeyCode::PageDown => Some(Action::PageDown),
            KeyCode::Home | KeyCode::Char('g') => Some(Action::Top),
            KeyCode::End | KeyCode::Char('G') => Some(Action::Bottom),
            KeyCode::Enter => Some(Action::Details),
            KeyCode::Char('f') => Some(Action::OpenFix),
            KeyCode::Char('u') => Some(Action::OpenUndo),
            KeyCode::Char('/') => Some(Action::OpenFilter),
            KeyCode::Char(':') | KeyCode::Char('n') => Some(Action::OpenNamespaces),
            KeyCode::Char('l') => Some(Action::ToggleLog),
            KeyCode::Char('?') => Some(Action::ToggleHelp),
            KeyCode::Char(']') => Some(Action::NextFinding),
            KeyCode::Char('[') => Some(Action::PrevFinding),
            KeyCode::Char('s') => Some(Action::ToggleSystem),
            KeyCode::Char('c') => Some(Action::CopyFix),
            KeyCode::Char('J') => Some(Action::ScrollEvents { down: true }),
            KeyCode::Char('K') => Some(Action::ScrollEvents { down: false }),
            KeyCode::Esc => Some(Action::Cancel),
            _ => None,
        },
    }
}

/// Scrolling inside a dialog: the selection keys move its text.
fn scroll_key(code: KeyCode) -> Option<Action> {
    match code {
        KeyCode::Up | KeyCode::Char('k') => Some(Action::Up),
        KeyCode::Down | KeyCode::Char('j') => Some(Action::Down),
        KeyCode::PageUp => Some(Action::PageUp),
        KeyCode::PageDown => Some(Action::PageDown),
        KeyCode::Home | KeyCode::Char('g') => Some(Action::Top),
        KeyCode::End | KeyCode::Char('G') => Some(Action::Bottom),
        _ => None,
    }
}
