//! Everything around the panes: banner, tab bar, findings strip, log pane, status bar.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::diagnose::{Finding, FindingKind};
use crate::model::ResourceState;
use crate::tui::action::Pane;
use crate::tui::app::{App, Overlay};
use crate::tui::layout::tab_label;
use crate::tui::theme;

pub fn banner(frame: &mut Frame, app: &App, area: Rect) {
    if let Some(text) = app.banner() {
        frame.render_widget(
            Paragraph::new(format!(" ⚠ {text}")).style(theme::BANNER),
            area,
        );
    }
}

pub fn tabs(frame: &mut Frame, app: &App, area: Rect) {
    let mut spans = Vec::new();
    for pane in Pane::ALL {
        let style = if pane == app.focus {
            theme::TITLE_FOCUSED.patch(theme::SELECTED_FOCUSED)
        } else {
            theme::DIM
        };
        spans.push(Span::styled(format!(" {} ", tab_label(pane)), style));
        spans.push(Span::styled("│", theme::DIM));
    }
    spans.push(Span::styled(" Tab switches", theme::DIM));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// One plain sentence for a finding (its own summary when the core wrote one).
pub fn sentence(f: &Finding) -> String {
    if !f.summary.is_empty() {
        return f.summary.clone();
    }
    let suggested = f.suggested_image.as_deref().unwrap_or("?");
    match f.kind {
        FindingKind::RegistryPrefix => format!(
            "asks {}; the node holds {suggested} (other registry prefix)",
            f.image
        ),
        FindingKind::TagMismatch => format!("asks for {}, the node has other tags of it", f.image),
        FindingKind::NotOnNode => format!("{} is not on the pod's node", f.image),
        FindingKind::PullPolicy => format!(
            "{} is on the node but the pull policy forces a pull that fails",
            f.image
        ),
        FindingKind::NotLoaded => format!("{} is on no node and cannot be pulled", f.image),
        FindingKind::InvalidReference => format!("{} is not a valid image reference", f.image),
        FindingKind::RenamedOnImport => format!(
            "{} was stored under another name on import: {suggested}",
            f.image
        ),
    }
}

pub fn findings(frame: &mut Frame, app: &App, area: Rect) {
    let n = app.view.findings.len();
    let block = Block::default()
        .borders(Borders::TOP)
        .title(Span::styled(format!(" Findings ({n}) "), theme::HEADER));
    let body = block.inner(area);
    frame.render_widget(block, area);
    let selected = app.selected_finding();
    let mut lines = Vec::new();
    if !app.loaded {
        lines.push(Line::styled("Waiting for the first snapshot…", theme::DIM));
    } else if n == 0 {
        lines.push(Line::styled(
            "✓ No image mismatches: every workload's image is on its nodes.",
            theme::OK,
        ));
    }
    let room = usize::from(body.height);
    let shown = if n > room { room.saturating_sub(1) } else { n };
    for f in app.view.findings.iter().take(shown) {
        let is_selected = selected.is_some_and(|s| s == f);
        let (name, style) = if is_selected {
            ("▶", theme::ERROR)
        } else {
            (theme::MARK_FINDING, theme::WARN)
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{name} {} ", f.kind.as_str()), style),
            Span::styled(
                format!("{} {} [{}]: ", f.namespace, f.workload, f.container),
                theme::HEADER,
            ),
            Span::raw(sentence(f)),
        ]));
    }
    if shown < n {
        lines.push(Line::styled(
            format!("… and {} more (select them in Workloads)", n - shown),
            theme::DIM,
        ));
    }
    frame.render_widget(Paragraph::new(lines), body);
}

pub fn log(frame: &mut Frame, area: Rect) {
    let widget = tui_logger::TuiLoggerWidget::default()
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title(Span::styled(" Log (l hides) ", theme::HEADER)),
        )
        .style_error(theme::ERROR)
        .style_warn(theme::WARN)
        .style_info(Style::new())
        .style_debug(theme::DIM)
        .output_file(false)
        .output_line(false);
    frame.render_widget(widget, area);
}

fn resource_span(name: &str, state: &ResourceState) -> Span<'static> {
    let (text, style) = match state {
        ResourceState::Loading => ("loading", theme::DIM),
        ResourceState::Live => ("live", theme::OK),
        ResourceState::Stale { .. } => ("stale", theme::WARN),
        ResourceState::Forbidden { .. } => ("forbidden", theme::ERROR),
    };
    Span::styled(format!(" {name}:{text}"), style)
}

pub fn status(frame: &mut Frame, app: &App, area: Rect) {
    let snap = &app.snapshot;
    let ns = app.namespace.as_deref().unwrap_or("all namespaces");
    let write_style = match app.write {
        crate::tui::backend::WriteAccess::Allowed { .. } => theme::OK,
        crate::tui::backend::WriteAccess::Refused { .. } => theme::WARN,
    };
    let context = if snap.context.is_empty() {
        "(no context)"
    } else {
        &snap.context
    };
    let mut first = vec![
        Span::styled(format!(" {context}"), theme::HEADER),
        Span::raw(format!(" · ns {ns} · ")),
        Span::styled(format!("writes: {}", app.write.label()), write_style),
        Span::raw(" ·"),
    ];
    first.extend(snap.resources.iter().map(|(n, s)| resource_span(n, s)));
    if !snap.server.is_empty() {
        first.push(Span::styled(format!(" · {}", snap.server), theme::DIM));
    }
    let second = if matches!(app.overlay, Overlay::Filter) {
        Line::from(vec![
            Span::styled(" filter: /", theme::HEADER),
            Span::raw(app.filter.clone()),
            Span::styled("▏", theme::TITLE_FOCUSED),
            Span::styled("   Enter keeps · Esc clears", theme::DIM),
        ])
    } else if let Some(s) = &app.status {
        Line::styled(
            format!(" {}", s.text),
            if s.error { theme::ERROR } else { theme::OK },
        )
    } else {
        Line::styled(
            " f fix · u undo · / filter · n namespace · Tab pane · Enter details · l log · ? help · q quit",
            theme::DIM,
        )
    };
    frame.render_widget(Paragraph::new(vec![Line::from(first), second]), area);
}
