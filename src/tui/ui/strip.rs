//! The findings strip: every finding, word-wrapped to the screen's width (never cut at the
//! edge), scrolled so that the selected one is in view; the title says what is above and below.
//! One pure layout ([`rows`]) serves drawing and mouse clicks alike.

use std::sync::Arc;

use ratatui::text::{Line, Span};

use super::chrome::{compact, detail_lines};
use crate::tui::app::App;
use crate::tui::layout::Areas;
use crate::tui::theme;

/// One screen row of the strip and the finding (index into `view.findings`) it belongs to.
pub struct Row {
    pub line: Line<'static>,
    pub finding: Option<usize>,
}

/// The lines of one finding: its header, and for the selected one the two (or three) lines
/// spelling it out.
fn group(app: &App, i: usize, selected: bool) -> Vec<Line<'static>> {
    let f = &app.view.findings[i];
    let (mark, style) = if selected {
        ("▶", theme::ERROR)
    } else {
        (theme::MARK_FINDING, theme::WARN)
    };
    let mut head = vec![
        Span::styled(format!("{mark} {} ", f.kind.as_str()), style),
        Span::styled(
            format!("{} {} [{}]", f.namespace, f.workload, f.container),
            theme::HEADER,
        ),
    ];
    if !selected {
        head.push(Span::raw(format!(": {}", compact(f))));
    }
    let mut lines = vec![Line::from(head)];
    if selected {
        lines.extend(detail_lines(f));
    }
    lines
}

/// Every row of the strip at `width`, top to bottom. Wrapping every finding is the costly part
/// of a frame when there are hundreds, so the rows are kept until the findings, the selected
/// one or the width change (`App::strip_rows`).
pub fn rows(app: &App, width: u16) -> Arc<Vec<Row>> {
    if let Some(rows) = kept(app, width) {
        return rows;
    }
    let key = key(app, width);
    let rows: Arc<Vec<Row>> = Arc::new(wrapped(app, key.1, width).collect());
    *app.strip_rows.borrow_mut() = Some((key, rows.clone()));
    rows
}

/// How many rows the strip has, counted no further than `max`.
pub fn count_rows(app: &App, width: u16, max: usize) -> usize {
    match kept(app, width) {
        Some(rows) => rows.len(),
        None => wrapped(app, app.selected_finding_index(), width)
            .take(max)
            .count(),
    }
}

/// What the kept rows were wrapped for: (findings generation, selected finding, width).
fn key(app: &App, width: u16) -> (u64, Option<usize>, u16) {
    (app.cache.findings_gen, app.selected_finding_index(), width)
}

/// The kept rows, if they are still the strip's at `width`.
fn kept(app: &App, width: u16) -> Option<Arc<Vec<Row>>> {
    let kept = app.strip_rows.borrow();
    let (k, rows) = kept.as_ref()?;
    (*k == key(app, width)).then(|| rows.clone())
}

/// The strip's rows, wrapped as they are asked for.
fn wrapped(app: &App, selected: Option<usize>, width: u16) -> impl Iterator<Item = Row> + '_ {
    let width = usize::from(width).max(8);
    (0..app.view.findings.len()).flat_map(move |i| {
        group(app, i, selected == Some(i))
            .into_iter()
            .flat_map(move |line| wrap(line, width))
            .map(move |line| Row {
                line,
                finding: Some(i),
            })
    })
}

/// The first row to show in `height` rows so the selected finding's rows are in view
/// (remembered in `app.strip_offset`, like a pane's scroll position).
pub fn offset(app: &App, rows: &[Row], height: usize) -> usize {
    let selected = app.selected_finding_index();
    let mut offset = app.strip_offset.get().min(rows.len().saturating_sub(1));
    if let Some(s) = selected {
        let first = rows.iter().position(|r| r.finding == Some(s));
        let end = rows
            .iter()
            .rposition(|r| r.finding == Some(s))
            .map(|e| e + 1);
        if let (Some(first), Some(end)) = (first, end) {
            if first < offset || end - first > height {
                offset = first;
            } else if end > offset + height {
                offset = end - height;
            }
        }
    }
    offset = offset.min(rows.len().saturating_sub(height));
    app.strip_offset.set(offset);
    offset
}

/// The finding whose strip row is at (`column`, `row`) on screen, if any.
pub fn finding_at(app: &App, areas: &Areas, column: u16, row: u16) -> Option<usize> {
    let strip = areas.findings;
    // The strip's first row is its title (top border).
    if !strip.contains(ratatui::layout::Position::new(column, row)) || row == strip.y {
        return None;
    }
    let all = rows(app, strip.width);
    let index = app.strip_offset.get() + usize::from(row - strip.y - 1);
    all.get(index).and_then(|r| r.finding)
}

/// Word-wrap a styled line to `width` columns. Continuation rows are indented; a word longer
/// than a whole row is cut with `…` at the row's end (it never runs off the edge unmarked).
pub fn wrap(line: Line<'static>, width: usize) -> Vec<Line<'static>> {
    const INDENT: &str = "      ";
    let total: usize = line.spans.iter().map(|s| s.content.chars().count()).sum();
    if total <= width {
        return vec![line];
    }
    // Words with their style; spaces stay attached to the word before them.
    let mut words: Vec<(String, ratatui::style::Style)> = Vec::new();
    for span in &line.spans {
        for w in span.content.split_inclusive(' ') {
            words.push((w.to_string(), span.style));
        }
    }
    let mut out: Vec<Vec<Span<'static>>> = vec![Vec::new()];
    let mut used = 0;
    for (word, style) in words {
        let n = word.chars().count();
        let visible = word.trim_end_matches(' ').chars().count();
        if used > 0 && used + visible > width {
            // The space the row ended on does not count against its width.
            if let Some(last) = out.last_mut().and_then(|r| r.last_mut()) {
                last.content = last.content.trim_end().to_string().into();
            }
            out.push(vec![Span::raw(INDENT)]);
            used = INDENT.len();
        }
        if used + visible > width {
            let room = width.saturating_sub(used).max(1);
            let cut: String = word.chars().take(room - 1).collect();
            out.last_mut()
                .expect("a row")
                .push(Span::styled(format!("{cut}…"), style));
            used = width;
            continue;
        }
        out.last_mut()
            .expect("a row")
            .push(Span::styled(word, style));
        used += n;
    }
    out.into_iter().map(Line::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(l: &Line) -> String {
        l.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn long_lines_wrap_at_spaces_and_keep_words_whole() {
        let line = Line::from(vec![
            Span::raw("✗ registry-prefix default Deployment/gateway [gateway]: "),
            Span::raw("asks kubernaut/gateway:debug · node has localhost/kubernaut/gateway:debug"),
        ]);
        let rows = wrap(line, 60);
        assert!(rows.len() > 1);
        let all: Vec<String> = rows.iter().map(text).collect();
        for r in &all {
            assert!(r.chars().count() <= 60, "{r}");
        }
        assert!(
            all.iter()
                .any(|r| r.contains("localhost/kubernaut/gateway:debug")),
            "{all:?}"
        );
        assert!(
            all.iter().any(|r| r.contains("kubernaut/gateway:debug ")),
            "{all:?}"
        );
    }

    #[test]
    fn a_word_longer_than_a_row_is_cut_with_an_ellipsis() {
        let rows = wrap(Line::raw(format!("asks {}", "x".repeat(50))), 20);
        let all: Vec<String> = rows.iter().map(text).collect();
        assert!(all.iter().any(|r| r.ends_with('…')), "{all:?}");
        for r in &all {
            assert!(r.chars().count() <= 20, "{r}");
        }
    }
}
