//! Workloads pane: Deployments with their (init) containers, image, pull policy, readiness,
//! finding marker and rollout progress.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{fit, fit_right, inner, pane_block, pane_message, row_style};
use crate::imageref;
use crate::tui::action::Pane;
use crate::tui::app::App;
use crate::tui::backend::RolloutOutcome;
use crate::tui::elide::{elide_image, elide_middle};
use crate::tui::layout::visible_rows;
use crate::tui::theme;
use crate::tui::view::{WorkloadKey, WorkloadRow};

/// Pull policy as shown: full when there is room, else shortened; `*` when defaulted.
fn policy_text(policy: &str, defaulted: bool, wide: bool) -> String {
    let short = match (policy, wide) {
        ("IfNotPresent", false) => "IfNotPr",
        (p, _) => p,
    };
    format!(
        "{short}{}",
        if defaulted { theme::MARK_DEFAULTED } else { "" }
    )
}

fn rollout_text(app: &App, key: &WorkloadKey) -> Option<(String, Style)> {
    let r = app.rollout.as_ref()?;
    if r.target.kind != "Deployment"
        || r.target.namespace != key.namespace
        || r.target.name != key.name
    {
        return None;
    }
    Some(match &r.outcome {
        None => (
            format!(
                "{} {}",
                theme::SPINNER[app.spinner % theme::SPINNER.len()],
                r.message
            ),
            theme::WARN,
        ),
        Some(RolloutOutcome::Running) => ("✓ Running".to_string(), theme::OK),
        Some(RolloutOutcome::Failed(reason)) => (format!("✗ {reason}"), theme::ERROR),
    })
}

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    frame.render_widget(pane_block(app, Pane::Workloads, ""), area);
    let body = inner(area);
    let width = usize::from(body.width);
    let wide = width >= 60;
    let policy_w = if wide { 13 } else { 8 };
    let name_w = (width * 2 / 7).clamp(8, 18);
    let image_w = width.saturating_sub(2 + name_w + 1 + 1 + policy_w);
    let mut lines = vec![Line::styled(
        format!(
            "  {} {} {}",
            fit("CONTAINER", name_w),
            fit("IMAGE", image_w),
            fit(if wide { "PULL POLICY" } else { "POLICY" }, policy_w)
        ),
        theme::HEADER,
    )];
    if let Some(msg) = pane_message(app, "deployments") {
        lines.push(msg);
    } else if app.view.workloads.is_empty() {
        lines.push(Line::styled("No Deployments.", theme::DIM));
    }
    let state = app.pane(Pane::Workloads);
    let height = visible_rows(area);
    let offset = state.scroll_for(app.view.workloads.len(), height);
    for (i, row) in app
        .view
        .workloads
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
    {
        let selected = i == state.selected;
        let line = match row {
            WorkloadRow::Deployment {
                key,
                desired,
                ready,
                updated,
                available,
                findings,
                waiting,
            } => {
                let (right, right_style) = rollout_text(app, key).unwrap_or_else(|| {
                    // Not ready because the kubelet refuses: say why, it is the story (when
                    // the pane has room; side by side the pods pane next to it says it).
                    if let Some(reason) = waiting.as_ref().filter(|_| wide && ready < desired) {
                        return (format!("{ready}/{desired} ready · {reason}"), theme::ERROR);
                    }
                    let counts = if wide {
                        format!(
                            "{ready}/{desired} ready · {updated} updated · {available} available"
                        )
                    } else {
                        format!("{ready}/{desired} ready")
                    };
                    let style = if ready >= desired {
                        theme::OK
                    } else {
                        theme::WARN
                    };
                    (counts, style)
                });
                // The name keeps its room first (up to half the row); the status gets the rest.
                let left = format!("▾ {}/{}", key.namespace, key.name);
                let left_want = left.chars().count().min(width / 2);
                let right_w = width
                    .saturating_sub(2 + left_want + 1)
                    .min(right.chars().count());
                let right = elide_middle(&right, right_w);
                let mark = if *findings > 0 {
                    theme::MARK_FINDING
                } else {
                    " "
                };
                let left_w = width.saturating_sub(2 + right_w + 1);
                Line::from(vec![
                    Span::styled(format!("{mark} "), theme::ERROR),
                    Span::styled(fit(&elide_middle(&left, left_w), left_w), theme::HEADER),
                    Span::raw(" "),
                    Span::styled(fit_right(&right, right_w), right_style),
                ])
            }
            WorkloadRow::Container {
                name,
                init,
                image,
                policy,
                defaulted,
                finding,
                ..
            } => {
                let label = if *init {
                    format!("  init:{name}")
                } else {
                    format!("  {name}")
                };
                let shown_policy = policy
                    .clone()
                    .unwrap_or_else(|| imageref::default_pull_policy(image).to_string());
                let mark = if finding.is_some() {
                    theme::MARK_FINDING
                } else {
                    " "
                };
                let image_style = if finding.is_some() {
                    theme::ERROR
                } else {
                    Style::new()
                };
                Line::from(vec![
                    Span::styled(format!("{mark} "), theme::ERROR),
                    Span::raw(format!("{} ", fit(&elide_middle(&label, name_w), name_w))),
                    Span::styled(fit(&elide_image(image, image_w), image_w), image_style),
                    Span::raw(" "),
                    Span::styled(
                        fit(&policy_text(&shown_policy, *defaulted, wide), policy_w),
                        if *defaulted { theme::DIM } else { Style::new() },
                    ),
                ])
            }
        };
        lines.push(line.style(row_style(app, Pane::Workloads, selected, Style::new())));
    }
    frame.render_widget(Paragraph::new(lines), body);
}
