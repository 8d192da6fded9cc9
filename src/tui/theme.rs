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

/// The monochrome theme (`--color never`, `NO_COLOR`, a terminal without colour), applied to
/// the drawn frame so every pane agrees: colours go, emphasis stays. What colour alone said is
/// kept by an attribute — a coloured background (selection, banner) becomes reversed video,
/// dim grey becomes the terminal's dim — and findings keep their symbols (✗ ★ = ≈ *), which
/// never depended on colour.
pub fn monochrome(buf: &mut ratatui::buffer::Buffer) {
    for cell in buf.content.iter_mut() {
        let mut modifier = cell.modifier;
        if !matches!(cell.bg, Color::Reset) {
            modifier |= Modifier::REVERSED;
        }
        if matches!(cell.fg, Color::DarkGray) {
            modifier |= Modifier::DIM;
        }
        cell.modifier = modifier;
        cell.fg = Color::Reset;
        cell.bg = Color::Reset;
        cell.underline_color = Color::Reset;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::buffer::Buffer;
    use ratatui::layout::Rect;

    #[test]
    fn monochrome_drops_colour_and_keeps_what_it_meant() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 4, 1));
        buf.set_string(0, 0, MARK_FINDING, ERROR);
        buf.set_string(1, 0, "s", SELECTED);
        buf.set_string(2, 0, "d", DIM);
        buf.set_string(3, 0, "b", BANNER);
        monochrome(&mut buf);
        for cell in buf.content.iter() {
            assert_eq!((cell.fg, cell.bg), (Color::Reset, Color::Reset));
        }
        assert_eq!(buf[(0, 0)].symbol(), MARK_FINDING);
        assert!(buf[(0, 0)].modifier.contains(Modifier::BOLD));
        assert!(buf[(1, 0)].modifier.contains(Modifier::REVERSED));
        assert!(buf[(2, 0)].modifier.contains(Modifier::DIM));
        assert!(
            buf[(3, 0)]
                .modifier
                .contains(Modifier::REVERSED | Modifier::BOLD)
        );
    }
}
