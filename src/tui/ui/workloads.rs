//! Workloads pane: Deployments with their (init) containers, image, pull policy, readiness,
//! finding marker and rollout progress.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{fit, fit_right, inner, pane_block, pane_message, row_style};
use crate::k8s::PullPolicy;
use crate::tui::action::Pane;
use crate::tui::app::App;
use crate::tui::columns::{Col, allocate};
use crate::tui::elide::{elide_image, elide_middle, image_key_len};
use crate::tui::layout::visible_rows;
use crate::tui::port::FollowOutcome;
use crate::tui::theme;
use crate::tui::view::{WorkloadKey, WorkloadRow};

/// Pull policy as shown, whole; `*` when defaulted.
fn policy_text(policy: &str, defaulted: bool) -> String {
    format!(
        "{policy}{}",
        if defaulted { theme::MARK_DEFAULTED } else { "" }
    )
}

/// Widths of the container columns (name, image, policy): the image keeps its registry, last
/// path segment and tag whole first, the policy is never cut, the name takes the rest.
fn columns(rows: &[WorkloadRow], width: usize) -> (usize, usize, usize) {
    let (mut name_w, mut image_w, mut image_key, mut policy_w) = (4, 5, 5, 6);
    for r in rows {
        if let WorkloadRow::Container {
            name,
            init,
            image,
            policy,
            defaulted,
            ..
        } = r
        {
            let label = name.chars().count() + 2 + if *init { 5 } else { 0 };
            name_w = name_w.max(label);
            image_w = image_w.max(image.chars().count());
            image_key = image_key.max(image_key_len(image));
            let shown = policy
                .clone()
                .unwrap_or_else(|| PullPolicy::default_for(image).to_string());
            policy_w = policy_w.max(policy_text(&shown, *defaulted).chars().count());
        }
    }
    let w = allocate(
        width.saturating_sub(2),
        1,
        &[
            Col::new(name_w.min(40), name_w.min(10), 2),
            Col::new(image_w, image_key, 0),
            Col::new(policy_w, policy_w, 1),
        ],
    );
    (w[0], w[1], w[2])
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
        Some(FollowOutcome::Running) => ("✓ Running".to_string(), theme::OK),
        Some(FollowOutcome::Failed(reason)) => (format!("✗ {reason}"), theme::ERROR),
    })
}

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let folded = app.view.folded.deployments;
    let extra = if folded > 0 {
        format!("· {folded} Kind Deployments folded (s)")
    } else {
        String::new()
    };
    frame.render_widget(pane_block(app, Pane::Workloads, &extra), area);
    let body = inner(area);
    let width = usize::from(body.width);
    let wide = width >= 60;
    // Widths from the rows in view (never a pass over every row per frame).
    let state = app.pane(Pane::Workloads);
    let height = visible_rows(area);
    let offset = state.scroll_for(app.view.workloads.len(), height);
    let end = (offset + height).min(app.view.workloads.len());
    let (name_w, image_w, policy_w) = columns(&app.view.workloads[offset.min(end)..end], width);
    let mut lines = vec![Line::styled(
        format!(
            "  {} {} {}",
            fit(if name_w >= 11 { "CONTAINER" } else { "NAME" }, name_w),
            fit("IMAGE", image_w),
            fit(
                if policy_w >= 11 {
                    "PULL POLICY"
                } else {
                    "POLICY"
                },
                policy_w
            )
        ),
        theme::HEADER,
    )];
    if let Some(msg) = pane_message(app, "deployments") {
        lines.push(msg);
    } else if app.view.workloads.is_empty() {
        lines.push(Line::styled("No Deployments.", theme::DIM));
    }
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
                // The name whole first, then the status, then the namespace (its own
                // column, never glued to the name; omitted when one namespace is chosen).
                let name = format!("▾ {}", key.name);
                let ns = if app.namespace.is_none() {
                    key.namespace.as_str()
                } else {
                    ""
                };
                let w = allocate(
                    width.saturating_sub(2),
                    2,
                    &[
                        Col::new(name.chars().count(), name.chars().count().min(14), 0),
                        Col::new(ns.chars().count(), ns.chars().count().clamp(1, 11), 2),
                        Col::new(right.chars().count(), right.chars().count().min(9), 1),
                    ],
                );
                let mark = if *findings > 0 {
                    theme::MARK_FINDING
                } else {
                    " "
                };
                let (name_w, right_w) = (w[0], w[2]);
                let ns_w = if ns.is_empty() { 0 } else { w[1] };
                let fill = width
                    .saturating_sub(2 + name_w + right_w + if ns_w > 0 { ns_w + 2 } else { 0 });
                let mut spans = vec![
                    Span::styled(format!("{mark} "), theme::ERROR),
                    Span::styled(elide_middle(&name, name_w), theme::HEADER),
                ];
                if ns_w > 0 && !ns.is_empty() {
                    spans.push(Span::styled(
                        format!("  {}", fit(&elide_middle(ns, ns_w), ns_w)),
                        theme::DIM,
                    ));
                }
                spans.push(Span::raw(" ".repeat(fill.max(usize::from(right_w > 0)))));
                spans.push(Span::styled(
                    fit_right(&elide_middle(&right, right_w), right_w),
                    right_style,
                ));
                Line::from(spans)
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
                    .unwrap_or_else(|| PullPolicy::default_for(image).to_string());
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
                        fit(&policy_text(&shown_policy, *defaulted), policy_w),
                        if *defaulted { theme::DIM } else { Style::new() },
                    ),
                ])
            }
        };
        lines.push(line.style(row_style(app, Pane::Workloads, selected, Style::new())));
    }
    frame.render_widget(Paragraph::new(lines), body);
}
