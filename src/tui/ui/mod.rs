//! Drawing: a function of the app state (plus the remembered scroll offsets).

pub mod chrome;
mod dialogs;
mod nodes;
mod pods;
pub mod strip;
mod textview;
mod workloads;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders};

use crate::tui::action::Pane;
use crate::tui::app::App;
use crate::tui::theme;

/// Draw the whole screen.
pub fn draw(frame: &mut Frame, app: &App) {
    let areas = app.areas();
    if let Some(area) = areas.banner {
        chrome::banner(frame, app, area);
    }
    if let Some(area) = areas.tabs {
        chrome::tabs(frame, app, area);
    }
    if let Some(area) = areas.panes[Pane::Nodes.index()] {
        nodes::draw(frame, app, area);
    }
    if let Some(area) = areas.panes[Pane::Pods.index()] {
        pods::draw(frame, app, area);
    }
    if let Some(area) = areas.events {
        pods::draw_events(frame, app, area);
    }
    if let Some(area) = areas.panes[Pane::Workloads.index()] {
        workloads::draw(frame, app, area);
    }
    chrome::findings(frame, app, areas.findings);
    if let Some(area) = areas.log {
        chrome::log(frame, area);
    }
    chrome::status(frame, app, areas.status);
    dialogs::draw(frame, app);
    if app.monochrome {
        theme::monochrome(frame.buffer_mut());
    }
}

/// A pane's block: focused panes get a coloured border and title.
fn pane_block(app: &App, pane: Pane, extra: &str) -> Block<'static> {
    let focused = app.focus == pane;
    let mut title = format!(" {} ", pane.title());
    if !extra.is_empty() {
        title.push_str(extra);
        title.push(' ');
    }
    if !app.filter.is_empty() {
        title.push_str(&format!("[/{}] ", app.filter));
    }
    let block = Block::default().borders(Borders::ALL).title(Span::styled(
        title,
        if focused {
            theme::TITLE_FOCUSED
        } else {
            theme::HEADER
        },
    ));
    if focused {
        block.border_style(theme::BORDER_FOCUSED)
    } else {
        block
    }
}

/// Style of a row: selected (focused or not) on top of its own style.
fn row_style(app: &App, pane: Pane, selected: bool, base: Style) -> Style {
    match (selected, app.focus == pane) {
        (true, true) => base.patch(theme::SELECTED_FOCUSED),
        (true, false) => base.patch(theme::SELECTED),
        _ => base,
    }
}

/// `text` padded or cut to exactly `width` characters.
fn fit(text: &str, width: usize) -> String {
    let n = text.chars().count();
    if n >= width {
        text.chars().take(width).collect()
    } else {
        format!("{text}{}", " ".repeat(width - n))
    }
}

/// `text` right-aligned in `width` characters.
fn fit_right(text: &str, width: usize) -> String {
    let n = text.chars().count();
    if n >= width {
        text.chars().take(width).collect()
    } else {
        format!("{}{text}", " ".repeat(width - n))
    }
}

/// A message inside an empty or forbidden pane.
fn pane_message(app: &App, resource: &str) -> Option<Line<'static>> {
    use crate::model::ResourceState;
    match app.snapshot.resources.get(resource) {
        Some(ResourceState::Forbidden { reason }) => Some(Line::styled(
            format!("Forbidden: cannot list {resource}: {reason}"),
            theme::ERROR,
        )),
        // Never empty rows that read as an empty cluster while the list is still coming.
        Some(ResourceState::Loading) => {
            Some(Line::styled(format!("Loading {resource}…"), theme::DIM))
        }
        None if !app.loaded => Some(Line::styled(format!("Loading {resource}…"), theme::DIM)),
        _ => None,
    }
}

/// The inner area of a bordered block.
fn inner(area: Rect) -> Rect {
    Block::default().borders(Borders::ALL).inner(area)
}

/// Rows `text` takes when word-wrapped to `width` the way the popup's paragraph wraps it
/// (greedy, at spaces; a word longer than a row is cut). Counting characters alone would
/// underestimate, and the popup would cut off its last lines: the patch.
pub(super) fn wrapped_rows(text: &str, width: usize) -> usize {
    let width = width.max(1);
    let mut rows = 1;
    let mut used = 0;
    for word in text.split_inclusive(' ') {
        let len = word.chars().count();
        let visible = word.trim_end_matches(' ').chars().count();
        if used > 0 && used + visible > width {
            rows += 1;
            used = 0;
        }
        if used == 0 && len > width {
            rows += (len - 1) / width;
            used = len % width;
        } else {
            used += len;
        }
    }
    rows
}
