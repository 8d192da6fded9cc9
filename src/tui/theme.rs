//! Colours and markers, in one place so panes agree.

use ratatui::style::{Color, Modifier, Style};

pub const ERROR: Style = Style::new().fg(Color::Red).add_modifier(Modifier::BOLD);
pub const WARN: Style = Style::new().fg(Color::Yellow);
pub const OK: Style = Style::new().fg(Color::Green);
pub const DIM: Style = Style::new().fg(Color::DarkGray);
pub const HEADER: Style = Style::new().add_modifier(Modifier::BOLD);
pub const TITLE_FOCUSED: Style = Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD);
pub const BORDER_FOCUSED: Style = Style::new().fg(Color::Cyan);
pub const SELECTED_FOCUSED: Style = Style::new().add_modifier(Modifier::REVERSED);
pub const SELECTED: Style = Style::new().bg(Color::DarkGray);
/// Rows linked to the selected workload (its pods).
pub const LINKED: Style = Style::new().fg(Color::Cyan);
pub const FIX_TARGET: Style = Style::new().fg(Color::Green).add_modifier(Modifier::BOLD);
pub const NEAR: Style = Style::new().fg(Color::Yellow);
pub const BANNER: Style = Style::new()
    .fg(Color::White)
    .bg(Color::Red)
    .add_modifier(Modifier::BOLD);

pub const MARK_FINDING: &str = "✗";
pub const MARK_FIX_TARGET: &str = "★";
pub const MARK_EXACT: &str = "=";
pub const MARK_NEAR: &str = "≈";
pub const MARK_DEFAULTED: &str = "*";
pub const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
