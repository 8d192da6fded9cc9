//! Keys and mouse → actions (docs/dashboard.md). What a key means depends on what is open.

use crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEventKind,
};

use crate::tui::action::Action;
use crate::tui::app::{App, Overlay};

/// Every key, for the help overlay and docs/dashboard.md (keep in sync with `map_key`).
// One row each at 80×24 (the help must fit there): a text of at most 53 characters.
pub const HELP: &[(&str, &str)] = &[
    (
        "Tab S-Tab 1 2 3",
        "next / previous pane; 1 2 3 pick one (narrow: tabs)",
    ),
    (
        "↑↓ jk PgUp PgDn g G",
        "move the selection (row, page, ends)",
    ),
    ("Enter", "details of the selected row"),
    ("f", "fix the selected finding (y/Enter applies)"),
    ("] / [", "next / previous finding (from any pane)"),
    (
        "c",
        "copy the selected finding's fix command (OSC 52 clipboard)",
    ),
    ("s", "show / fold Kind's own namespaces and base images"),
    ("J / K", "scroll the events of the selected pod"),
    ("u", "undo fixes from the journal, newest first (asks)"),
    ("/", "filter rows by text (Enter keeps, Esc clears)"),
    (":", ":ns :ctx :pods :deploy :nodes :q (Tab completes)"),
    ("n", "choose the namespace"),
    ("l", "container logs (f follow · p previous · Tab next)"),
    ("d  y", "describe the selection / its YAML from the server"),
    (
        "?  L  r",
        "help / kindscope's own log / re-read node images",
    ),
    (
        "Esc  q Ctrl-C",
        "close what is open, clear the filter / quit",
    ),
    (
        "mouse",
        "click focuses a pane and selects a row; wheel scrolls",
    ),
];

/// A printable key with no meaning here: say so (a silent key reads as a hung dashboard).
/// Modifier and function keys stay silent.
fn unbound(key: KeyEvent) -> Option<Action> {
    match key.code {
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
            Some(Action::Unbound(format!("`{c}`")))
        }
        _ => None,
    }
}

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
        Overlay::Command(_) => {
            use crate::tui::command::CommandKey;
            match key.code {
                KeyCode::Esc => Some(Action::Cancel),
                KeyCode::Enter => Some(Action::Confirm),
                KeyCode::Backspace => Some(Action::Command(CommandKey::Backspace)),
                KeyCode::Tab => Some(Action::Command(CommandKey::Tab)),
                KeyCode::Char(c) if !ctrl => Some(Action::Command(CommandKey::Char(c))),
                _ => None,
            }
        }
        Overlay::View(_) => {
            use crate::tui::textview::ViewKey;
            match key.code {
                KeyCode::Esc => Some(Action::Cancel),
                KeyCode::Char('q') => Some(Action::Quit),
                KeyCode::Up | KeyCode::Char('k') => Some(Action::View(ViewKey::Scroll(-1))),
                KeyCode::Down | KeyCode::Char('j') => Some(Action::View(ViewKey::Scroll(1))),
                KeyCode::PageUp => Some(Action::View(ViewKey::Page(false))),
                KeyCode::PageDown | KeyCode::Char(' ') => Some(Action::View(ViewKey::Page(true))),
                KeyCode::Home | KeyCode::Char('g') => Some(Action::View(ViewKey::Top)),
                KeyCode::End | KeyCode::Char('G') => Some(Action::View(ViewKey::Bottom)),
                KeyCode::Char('f') => Some(Action::View(ViewKey::Follow)),
                KeyCode::Char('p') => Some(Action::View(ViewKey::Previous)),
                KeyCode::Tab => Some(Action::View(ViewKey::NextContainer)),
                _ => unbound(key),
            }
        }
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
            KeyCode::Char(':') => Some(Action::OpenCommand),
            KeyCode::Char('n') => Some(Action::OpenNamespaces),
            KeyCode::Char('L') => Some(Action::ToggleLog),
            KeyCode::Char('l') => Some(Action::OpenLogs),
            KeyCode::Char('d') => Some(Action::OpenDescribe),
            KeyCode::Char('y') => Some(Action::OpenYaml),
            KeyCode::Char('1') => Some(Action::FocusPane(crate::tui::action::Pane::Nodes)),
            KeyCode::Char('2') => Some(Action::FocusPane(crate::tui::action::Pane::Pods)),
            KeyCode::Char('3') => Some(Action::FocusPane(crate::tui::action::Pane::Workloads)),
            KeyCode::Char('r') => Some(Action::RefreshNodeImages),
            KeyCode::Char('?') => Some(Action::ToggleHelp),
            KeyCode::Char(']') => Some(Action::NextFinding),
            KeyCode::Char('[') => Some(Action::PrevFinding),
            KeyCode::Char('s') => Some(Action::ToggleSystem),
            KeyCode::Char('c') => Some(Action::CopyFix),
            KeyCode::Char('J') => Some(Action::ScrollEvents { down: true }),
            KeyCode::Char('K') => Some(Action::ScrollEvents { down: false }),
            KeyCode::Esc => Some(Action::Cancel),
            _ => unbound(key),
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
