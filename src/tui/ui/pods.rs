//! Pods & events pane: pod list (linked pods highlighted), then the selected pod's events.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::{fit, fit_right, inner, pane_block, pane_message, row_style};
use crate::tui::action::Pane;
use crate::tui::app::App;
use crate::tui::elide::{elide_middle, elide_ns_name};
use crate::tui::layout::visible_rows;
use crate::tui::{format, theme};

const STATUS_W: usize = 17;
const RESTARTS_W: usize = 3;
const AGE_W: usize = 4;
const NODE_W: usize = 22;
/// Show the node column only when the name column keeps at least this much.
const NAME_MIN_WITH_NODE: usize = 24;

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    frame.render_widget(pane_block(app, Pane::Pods, ""), area);
    let body = inner(area);
    let width = usize::from(body.width);
    // Narrow panes drop the age column so pod names keep their room.
    let with_age = width >= 45;
    let age_w = if with_age { AGE_W + 1 } else { 0 };
    let fixed = 1 + STATUS_W + 1 + RESTARTS_W + 1 + age_w;
    let with_node = width >= fixed + NODE_W + 1 + NAME_MIN_WITH_NODE;
    let node_w = if with_node { NODE_W + 1 } else { 0 };
    let name_w = width.saturating_sub(fixed + node_w);
    let columns = |name: &str, status: &str, restarts: &str, node: &str, age: &str| {
        let mut s = format!(
            " {} {} {}",
            fit(name, name_w),
            fit(status, STATUS_W),
            fit_right(restarts, RESTARTS_W)
        );
        if with_node {
            s.push(' ');
            s.push_str(&fit(node, NODE_W));
        }
        if with_age {
            s.push(' ');
            s.push_str(&fit_right(age, AGE_W));
        }
        s
    };
    let mut lines = vec![Line::styled(
        columns("NAMESPACE/NAME", "STATUS", "R", "NODE", "AGE"),
        theme::HEADER,
    )];
    if let Some(msg) = pane_message(app, "pods") {
        lines.push(msg);
    } else if app.view.pods.is_empty() {
        lines.push(Line::styled("No pods.", theme::DIM));
    }
    let linked = app.selected_workload().map(|(k, _)| k.clone());
    let state = app.pane(Pane::Pods);
    let height = visible_rows(area);
    let offset = state.scroll_for(app.view.pods.len(), height);
    for (i, pod) in app.view.pods.iter().enumerate().skip(offset).take(height) {
        let status = pod.reason.as_deref().unwrap_or(&pod.phase);
        let age = pod
            .created
            .map(|c| format::age(app.now - c))
            .unwrap_or_default();
        let is_linked = linked.is_some() && pod.workload == linked;
        let name = elide_ns_name(&pod.namespace, &pod.name, name_w);
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
        let mut rest = format!(" {}", fit_right(&pod.restarts.to_string(), RESTARTS_W));
        if with_node {
            rest.push(' ');
            rest.push_str(&fit(&elide_middle(&pod.node, NODE_W), NODE_W));
        }
        if with_age {
            rest.push(' ');
            rest.push_str(&fit_right(&age, AGE_W));
        }
        let spans = vec![
            Span::raw(if is_linked { "▌" } else { " " }),
            Span::raw(format!("{} ", fit(&name, name_w))),
            Span::styled(fit(status, STATUS_W), status_style),
            Span::raw(rest),
        ];
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
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), body);
}
