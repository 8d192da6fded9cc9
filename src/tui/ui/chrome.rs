//! Everything around the panes: banner, tab bar, findings strip, log pane, status bar.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::diagnose::{Finding, FindingKind, Pending};
use crate::imageref;
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
        FindingKind::UnresolvableName => format!(
            "{} is on the node only under a name containerd does not resolve",
            f.image
        ),
    }
}

/// A short what-is-wrong for one line: what is asked and what the node has instead (every
/// candidate, when no single one is certain).
pub(super) fn compact(f: &Finding) -> String {
    match f.suggested_image.as_deref() {
        Some(s) if s != f.image => format!("asks {} · node has {s}", f.image),
        None if !f.candidates.is_empty() => {
            format!("asks {} · node has {}", f.image, f.candidates.join(", "))
        }
        _ => sentence(f),
    }
}

/// The selected finding spelled out: what is asked (and what the kubelet makes of it), and
/// what the node holds instead — the whole story in two lines; a third gives the command when
/// no patch can fix it.
pub(super) fn detail_lines(f: &Finding) -> Vec<Line<'static>> {
    let mut asks = vec![
        Span::styled("    asks      ", theme::HEADER),
        Span::raw(f.image.clone()),
    ];
    if let Ok(r) = imageref::ImageRef::parse(&f.image) {
        let lookup = r.lookup_name();
        if lookup != f.image {
            asks.push(Span::styled(
                format!("  (the kubelet looks up {lookup})"),
                theme::DIM,
            ));
        }
    }
    let on = |spans: &mut Vec<Span<'static>>| {
        if !f.nodes.is_empty() {
            spans.push(Span::styled(
                format!("  (on {})", f.nodes.join(", ")),
                theme::DIM,
            ));
        }
    };
    let has = match f.suggested_image.as_deref() {
        Some(s) if s != f.image => {
            let mut spans = vec![
                Span::styled("    node has  ", theme::HEADER),
                Span::styled(s.to_string(), theme::OK),
            ];
            on(&mut spans);
            Line::from(spans)
        }
        None if !f.candidates.is_empty() => {
            let mut spans = vec![
                Span::styled("    node has  ", theme::HEADER),
                Span::styled(f.candidates.join(", "), theme::NEAR),
            ];
            on(&mut spans);
            Line::from(spans)
        }
        _ if f.kind == FindingKind::NotOnNode => Line::from(vec![
            Span::styled("    pod's node ", theme::HEADER),
            Span::styled(f.nodes.join(", "), theme::ERROR),
            Span::raw(format!(" lacks it — {}", sentence(f))),
        ]),
        _ if !f.nodes.is_empty() => Line::from(vec![
            Span::styled(format!("    on {}: ", f.nodes.join(", ")), theme::HEADER),
            Span::raw(sentence(f)),
        ]),
        _ => Line::from(vec![Span::raw("    "), Span::raw(sentence(f))]),
    };
    let mut lines = vec![Line::from(asks), has];
    if f.patch.is_none()
        && let Some(cmd) = &f.command
    {
        let label = if crate::tui::kubectl::is_check_command(cmd) {
            "    check     "
        } else {
            "    run       "
        };
        lines.push(Line::from(vec![
            Span::styled(label, theme::HEADER),
            Span::raw(cmd.clone()),
            Span::styled("  (c copies)", theme::DIM),
        ]));
    }
    lines
}

pub fn findings(frame: &mut Frame, app: &App, area: Rect) {
    let n = app.view.findings.len();
    let starting = app.starting_in_view();
    let body = Block::default().borders(Borders::TOP).inner(area);
    let mut lines = Vec::new();
    let elapsed = app.now.saturating_sub(app.started_at).max(0);
    if app.connecting() {
        let (context, server) = app.cluster_name();
        let to = match (context.is_empty(), server.is_empty()) {
            (true, _) => "the cluster".to_string(),
            (false, true) => context,
            (false, false) => format!("{context} ({server})"),
        };
        lines.push(Line::styled(
            format!("Connecting to {to}… {elapsed}s"),
            theme::DIM,
        ));
    } else if !app.ready() {
        lines.push(Line::styled(
            format!("Loading {}… {elapsed}s", app.loading().join(", ")),
            theme::DIM,
        ));
    } else if n == 0 && !app.forbidden().is_empty() {
        lines.push(Line::styled(
            format!(
                "No verdict: kindscope may not list {}.",
                app.forbidden().join(", ")
            ),
            theme::WARN,
        ));
    } else if n == 0 && !starting.is_empty() {
        lines.push(Line::styled(
            format!(
                "⧗ {}: no image mismatch so far, nothing is known to be right yet.",
                pods_starting(&starting)
            ),
            theme::WARN,
        ));
        let room = usize::from(body.height).saturating_sub(1);
        for p in starting.iter().take(room) {
            lines.push(starting_line(app, p));
        }
    } else if n == 0 && app.judging {
        // The rows moved on; their diagnosis is still being made.
        lines.push(Line::styled("⧗ Checking the latest changes…", theme::DIM));
    } else if n == 0 {
        lines.push(Line::styled(
            "✓ No image mismatches: every workload's image is on its nodes.",
            theme::OK,
        ));
    }
    // No count before the lists are in: "(0)" would read as a verdict.
    let mut title = if app.ready() {
        format!(" Findings ({n}) ")
    } else {
        " Findings · loading ".to_string()
    };
    if app.ready() && !starting.is_empty() {
        title.push_str(&format!("· {} ", pods_starting(&starting)));
    }
    if n > 0 {
        let rows = super::strip::rows(app, body.width);
        let height = usize::from(body.height);
        let offset = super::strip::offset(app, &rows, height);
        let above = rows[..offset]
            .iter()
            .filter_map(|r| r.finding)
            .collect::<std::collections::BTreeSet<_>>();
        let below = rows[(offset + height).min(rows.len())..]
            .iter()
            .filter_map(|r| r.finding)
            .collect::<std::collections::BTreeSet<_>>();
        if !above.is_empty() || !below.is_empty() {
            title.push_str(&format!(
                "· ▲ {} ▼ {} more · ] next [ previous · click selects ",
                above.len(),
                below.len()
            ));
        } else if n > 1 {
            title.push_str("· ] next [ previous ");
        }
        lines.extend(
            rows.iter()
                .skip(offset)
                .take(height)
                .map(|r| r.line.clone()),
        );
    }
    let block = Block::default()
        .borders(Borders::TOP)
        .title(Span::styled(title, theme::HEADER));
    frame.render_widget(block, area);
    frame.render_widget(Paragraph::new(lines), body);
}

/// `1 pod starting` / `3 pods starting`.
fn pods_starting(starting: &[&Pending]) -> String {
    let n = App::starting_pods(starting);
    format!("{n} pod{} starting", if n == 1 { "" } else { "s" })
}

/// One pending container: where, what it waits on, for how long, what its node holds.
fn starting_line(app: &App, p: &Pending) -> Line<'static> {
    let age = p
        .since
        .as_deref()
        .and_then(|s| s.parse::<k8s_openapi::jiff::Timestamp>().ok())
        .map(|t| crate::tui::format::age(app.now.saturating_sub(t.as_second())))
        .unwrap_or_else(|| "-".into());
    let who = p.pod.clone().unwrap_or_else(|| format!("({})", p.workload));
    let holds = match p.similar_on_node.first() {
        Some(name) => format!("node holds {name}"),
        None => "nothing like it on the node".to_string(),
    };
    Line::from(vec![
        Span::styled(format!("  ⧗ {}/{who} ", p.namespace), theme::HEADER),
        Span::raw(format!("[{}] {} ", p.container, p.image)),
        Span::styled(format!("{} {age}", p.reason), theme::WARN),
        Span::styled(format!(" · {holds}"), theme::DIM),
    ])
}

pub fn log(frame: &mut Frame, area: Rect) {
    let widget = tui_logger::TuiLoggerWidget::default()
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title(Span::styled(" kindscope log (L hides) ", theme::HEADER)),
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
        crate::tui::port::WriteAccess::Allowed { .. } => theme::OK,
        crate::tui::port::WriteAccess::Refused { .. } => theme::WARN,
    };
    let (known, server) = app.cluster_name();
    let context = if known.is_empty() {
        "(no context)".to_string()
    } else {
        known
    };
    let mut first = vec![
        Span::styled(format!(" {context}"), theme::HEADER),
        Span::raw(format!(" · ns {ns} · ")),
        Span::styled(format!("writes: {}", app.write.label()), write_style),
        Span::raw(" ·"),
    ];
    // All watches live is the normal case: one word. Otherwise name the ones that are not.
    if !snap.resources.is_empty()
        && snap
            .resources
            .values()
            .all(|s| matches!(s, ResourceState::Live))
    {
        first.push(Span::styled(" watching: live", theme::OK));
    } else {
        first.extend(
            snap.resources
                .iter()
                .filter(|(_, s)| !matches!(s, ResourceState::Live))
                .map(|(n, s)| resource_span(n.as_str(), s)),
        );
    }
    if !server.is_empty() {
        first.push(Span::styled(format!(" · {server}"), theme::DIM));
    }
    let second = if let Overlay::Command(line) = &app.overlay {
        Line::from(vec![
            Span::styled(" :", theme::HEADER),
            Span::raw(line.input.clone()),
            Span::styled("▏", theme::TITLE_FOCUSED),
            Span::styled("   Tab completes · Enter runs · Esc cancels", theme::DIM),
        ])
    } else if matches!(app.overlay, Overlay::Filter) {
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
            if crate::tui::layout::is_wide(area) {
                " ] next finding · f fix · c copy · u undo · l logs · d describe · y yaml · : command · / filter · s Kind's own · Tab pane · ? help · q quit"
            } else {
                " ] next · f fix · c copy · l logs · d describe · : cmd · ? help · q quit"
            },
            theme::DIM,
        )
    };
    frame.render_widget(Paragraph::new(vec![Line::from(first), second]), area);
}
