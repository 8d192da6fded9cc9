//! Pods & events pane: pod list (linked pods highlighted), then the selected pod's events.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::{fit, fit_right, inner, pane_block, pane_message, row_style};
use crate::tui::action::Pane;
use crate::tui::app::App;
use crate::tui::columns::{Col, allocate};
use crate::tui::elide::{elide_middle, elide_start};
use crate::tui::layout::visible_rows;
use crate::tui::{format, theme};

/// Column budgets for the pod list: name, status and age first; then the namespace (when all
/// namespaces are shown), the node and the restarts as room allows.
struct Columns {
    ns: usize,
    name: usize,
    status: usize,
    restarts: usize,
    node: usize,
    age: usize,
}

/// Widths from the rows in view (`pods`): never a pass over every pod per frame.
fn columns(app: &App, pods: &[crate::tui::view::PodRow], width: usize) -> Columns {
    let max = |f: &dyn Fn(&crate::tui::view::PodRow) -> usize, floor: usize, cap: usize| {
        pods.iter().map(f).max().unwrap_or(0).clamp(floor, cap)
    };
    let all_ns = app.namespace.is_none();
    let ns_want = max(&|p| p.namespace.chars().count(), 2, 40);
    let name_want = max(&|p| p.name.chars().count(), 4, 63);
    let status_want = max(
        &|p| p.reason.as_deref().unwrap_or(&p.phase).chars().count(),
        6,
        24,
    );
    let node_want = max(&|p| p.node.chars().count(), 4, 40);
    let restarts_want = max(&|p| p.restarts.to_string().len(), 1, 4);
    let age_want = max(
        &|p| {
            p.created
                .map(|c| format::age(app.now - c).len())
                .unwrap_or(1)
        },
        3,
        4,
    );
    let mut cols = vec![
        // The name's start (the workload) is needed first; its hash suffix can wait.
        Col::new(name_want, name_want.min(16), 0).grow(4),
        Col::new(status_want, status_want, 1),
        Col::new(age_want, age_want, 2),
        Col::new(node_want, node_want.min(10), 4).grow(3),
        Col::new(restarts_want, 1, 5),
    ];
    if all_ns {
        cols.push(Col::new(ns_want, ns_want.min(11), 3).grow(2));
    }
    // One column for the linked-pod mark.
    let w = allocate(width.saturating_sub(1), 1, &cols);
    Columns {
        name: w[0],
        status: w[1],
        age: w[2],
        node: w[3],
        restarts: w[4],
        ns: w.get(5).copied().unwrap_or(0),
    }
}

impl Columns {
    /// One row: the cells in display order (namespace, name, status, restarts, node, age).
    fn row(
        &self,
        ns: &str,
        name: &str,
        status: &str,
        restarts: &str,
        node: &str,
        age: &str,
    ) -> Vec<String> {
        let mut cells = Vec::new();
        if self.ns > 0 {
            cells.push(fit(&elide_middle(ns, self.ns), self.ns));
        }
        // Node names differ at their end (`-worker`, `-worker2`, `-control-plane`).
        cells.push(fit(&elide_middle(name, self.name), self.name));
        cells.push(fit(&elide_middle(status, self.status), self.status));
        if self.restarts > 0 {
            cells.push(fit_right(restarts, self.restarts));
        }
        if self.node > 0 {
            cells.push(fit(&elide_start(node, self.node), self.node));
        }
        if self.age > 0 {
            cells.push(fit_right(age, self.age));
        }
        cells
    }
}

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let folded = app.view.folded.pods;
    let extra = if folded > 0 {
        format!("· {folded} Kind pods folded (s)")
    } else {
        String::new()
    };
    frame.render_widget(pane_block(app, Pane::Pods, &extra), area);
    let body = inner(area);
    let state = app.pane(Pane::Pods);
    let height = visible_rows(area);
    let offset = state.scroll_for(app.view.pods.len(), height);
    let end = (offset + height).min(app.view.pods.len());
    let cols = columns(
        app,
        &app.view.pods[offset.min(end)..end],
        usize::from(body.width),
    );
    let ns_label = if cols.ns >= 9 { "NAMESPACE" } else { "NS" };
    let header = cols.row(ns_label, "NAME", "STATUS", "R", "NODE", "AGE");
    let mut lines = vec![Line::styled(
        format!(" {}", header.join(" ")),
        theme::HEADER,
    )];
    if let Some(msg) = pane_message(app, "pods") {
        lines.push(msg);
    } else if app.view.pods.is_empty() {
        lines.push(Line::styled("No pods.", theme::DIM));
    }
    let linked = app.selected_workload().map(|(k, _)| k.clone());
    for (i, pod) in app.view.pods.iter().enumerate().skip(offset).take(height) {
        let status = pod.reason.as_deref().unwrap_or(&pod.phase);
        let age = pod
            .created
            .map(|c| format::age(app.now - c))
            .unwrap_or_default();
        let is_linked = linked.is_some() && pod.workload == linked;
        let base = if is_linked {
            theme::LINKED
        } else {
            Style::new()
        };
        let status_style = if pod.reason_is_error {
            theme::ERROR
        } else if pod.phase == "Running" {
            theme::OK
        } else {
            Style::new()
        };
        let cells = cols.row(
            &pod.namespace,
            &pod.name,
            status,
            &pod.restarts.to_string(),
            &pod.node,
            &age,
        );
        // The status cell is styled on its own: namespace and name come before it.
        let before = usize::from(cols.ns > 0) + 1;
        let mut spans = vec![Span::raw(if is_linked { "▌" } else { " " })];
        for (j, cell) in cells.into_iter().enumerate() {
            if j > 0 {
                spans.push(Span::raw(" "));
            }
            if j == before {
                spans.push(Span::styled(cell, status_style));
            } else {
                spans.push(Span::raw(cell));
            }
        }
        let selected = i == state.selected;
        lines.push(Line::from(spans).style(row_style(app, Pane::Pods, selected, base)));
    }
    frame.render_widget(Paragraph::new(lines), body);
}

pub fn draw_events(frame: &mut Frame, app: &App, area: Rect) {
    let pod = app.view.pods.get(app.pane(Pane::Pods).selected);
    let title = match pod {
        Some(p)
            if !p.node.is_empty()
                && p.name.len() + p.node.len() + 16 <= usize::from(area.width) =>
        {
            format!(" Events · {} on {} ", p.name, p.node)
        }
        Some(p) => format!(" Events · {} ", p.name),
        None => " Events ".to_string(),
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(title, theme::HEADER));
    let body = block.inner(area);
    frame.render_widget(block, area);
    let mut lines = Vec::new();
    if let Some(msg) = pane_message(app, "events") {
        lines.push(msg);
    }
    let events = pod.and_then(|p| app.view.events.get(&(p.namespace.clone(), p.name.clone())));
    match events {
        Some(list) => {
            for e in list {
                let style = if e.type_ == "Warning" {
                    theme::WARN
                } else {
                    Style::new()
                };
                let age = e.last.map(|t| format::age(app.now - t)).unwrap_or_default();
                lines.push(Line::from(vec![
                    Span::styled(
                        format!("{} {}", e.type_, e.reason),
                        style.patch(theme::HEADER),
                    ),
                    Span::styled(format!("  ×{}  {age}", e.count), theme::DIM),
                ]));
                lines.push(Line::raw(format!("  {}", e.message)));
            }
        }
        None if lines.is_empty() => lines.push(Line::styled(
            if pod.is_some() {
                "No events for this pod."
            } else {
                "Select a pod to see its events."
            },
            theme::DIM,
        )),
        None => {}
    }
    // J / K scroll the list; the title says when there is more than fits.
    let rows: usize = lines
        .iter()
        .map(|l| super::wrapped_rows(&line_text(l), usize::from(body.width)))
        .sum();
    let max_scroll = rows.saturating_sub(usize::from(body.height));
    let scroll = usize::from(app.events_scroll).min(max_scroll);
    if max_scroll > 0 {
        let more = Line::styled(
            format!(" {}/{} · J/K scroll ", scroll, max_scroll),
            theme::DIM,
        );
        frame.render_widget(
            Paragraph::new(more).alignment(ratatui::layout::Alignment::Right),
            Rect {
                x: area.x + 2,
                y: area.y + area.height.saturating_sub(1),
                width: area.width.saturating_sub(4),
                height: 1,
            },
        );
    }
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((scroll as u16, 0)),
        body,
    );
}

fn line_text(l: &Line) -> String {
    l.spans.iter().map(|s| s.content.as_ref()).collect()
}
