//! Drawing a logs/describe/YAML view: over the panes, the status bar stays visible below.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::tui::textview::{TextView, ViewKind, ViewStatus};
use crate::tui::theme;

pub fn draw(frame: &mut Frame, v: &TextView) {
    let screen = frame.area();
    let area = Rect {
        height: screen.height.saturating_sub(2),
        ..screen
    };
    frame.render_widget(Clear, area);
    let keys = match &v.kind {
        ViewKind::Logs { containers, .. } if containers.len() > 1 => {
            " ↑↓ PgUp PgDn g G scroll · f follow · p previous · Tab container · Esc closes "
        }
        ViewKind::Logs { .. } => " ↑↓ PgUp PgDn g G scroll · f follow · p previous · Esc closes ",
        _ => " ↑↓ PgUp PgDn g G scroll · Esc closes ",
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme::BORDER_FOCUSED)
        .title(Span::styled(
            format!(" {} ", v.title()),
            theme::TITLE_FOCUSED,
        ))
        .title_bottom(Line::styled(keys, theme::DIM));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let height = usize::from(inner.height);
    let mut lines: Vec<Line<'static>> = Vec::new();
    // The state of the request first, where it is seen at once.
    let (note, style) = match &v.status {
        ViewStatus::Loading => (Some("Loading…"), theme::DIM),
        ViewStatus::Failed(message) => (Some(message.as_str()), theme::ERROR),
        ViewStatus::Ended(why) if v.lines.is_empty() => (Some(why.as_str()), theme::DIM),
        ViewStatus::Ready if v.lines.is_empty() => (
            Some(match v.kind {
                ViewKind::Logs { .. } => "(no log lines yet)",
                _ => "(empty)",
            }),
            theme::DIM,
        ),
        _ => (None, theme::DIM),
    };
    // The server's sentence is the point of the view then: wrapped, never cut.
    let note = note
        .map(|n| wrap(n, usize::from(inner.width)))
        .unwrap_or_default();
    let room = height.saturating_sub(note.len());
    lines.extend(note.into_iter().map(|n| Line::styled(n, style)));
    let first = v.first_line(room);
    lines.extend(
        v.lines
            .iter()
            .skip(first)
            .take(room)
            .map(|l| Line::raw(l.clone())),
    );
    if let ViewStatus::Ended(why) = &v.status
        && !v.lines.is_empty()
        && lines.len() < height
    {
        lines.push(Line::styled(why.clone(), theme::DIM));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// `text` cut into rows of `width` characters.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars
        .chunks(width.max(1))
        .map(|c| c.iter().collect())
        .collect()
}
