//! Popups: fix and undo dialogs, namespace chooser, details/explanations, help.

use std::cell::Cell;

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::chrome::sentence;
use super::wrapped_rows;
use crate::fix::FixPlan;
use crate::tui::app::{App, DialogStatus, FixDialog, Overlay, UndoDialog};
use crate::tui::keymap::HELP;
use crate::tui::port::WriteAccess;
use crate::tui::theme;

pub fn draw(frame: &mut Frame, app: &App) {
    match &app.overlay {
        Overlay::None | Overlay::Filter | Overlay::Command(_) => {}
        Overlay::Help => help(frame, &app.dialog_scroll),
        Overlay::Namespaces { choices, selected } => namespaces(frame, choices, *selected),
        Overlay::Fix(d) => fix(frame, app, d),
        Overlay::Undo(d) => undo(frame, app, d),
        Overlay::View(v) => super::textview::draw(frame, v),
        Overlay::Info { title, lines } => popup_scrolled(
            frame,
            title,
            lines.iter().map(|l| Line::raw(l.clone())).collect(),
            Line::styled(" Esc closes ", theme::DIM),
            &app.dialog_scroll,
        ),
    }
}

/// A centred, bordered popup sized to its content (wrapped) within the screen. The footer
/// (what the keys do, or how the request went) sits in the bottom border so that it stays
/// visible when the content is cut on small terminals.
fn popup(frame: &mut Frame, title: &str, lines: Vec<Line<'static>>, footer: Line<'static>) {
    popup_scrolled(frame, title, lines, footer, &Cell::new(0))
}

/// [`popup`] scrolled down by `scroll` rows (clamped to the text); when the text is taller
/// than the popup, the top border says how far and that ↑↓ PgUp PgDn scroll.
fn popup_scrolled(
    frame: &mut Frame,
    title: &str,
    lines: Vec<Line<'static>>,
    footer: Line<'static>,
    scroll: &Cell<u16>,
) {
    let screen = frame.area();
    let width = screen.width.saturating_sub(4).min(100);
    let inner_w = usize::from(width.saturating_sub(2)).max(1);
    let needed: usize = lines
        .iter()
        .map(|l| {
            let text: String = l.spans.iter().map(|s| s.content.as_ref()).collect();
            wrapped_rows(&text, inner_w)
        })
        .sum::<usize>()
        + 2;
    let height = (needed as u16).min(screen.height.saturating_sub(2));
    let [area] = Layout::horizontal([Constraint::Length(width)])
        .flex(Flex::Center)
        .areas(screen);
    let [area] = Layout::vertical([Constraint::Length(height)])
        .flex(Flex::Center)
        .areas(area);
    frame.render_widget(Clear, area);
    let max_scroll = needed.saturating_sub(usize::from(height)) as u16;
    // Kept clamped, so that ↑ after End moves at once.
    scroll.set(scroll.get().min(max_scroll));
    let scroll = scroll.get();
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme::BORDER_FOCUSED)
        .title(Span::styled(format!(" {title} "), theme::TITLE_FOCUSED))
        .title_bottom(footer);
    if max_scroll > 0 {
        block = block.title(
            Line::styled(
                format!(" {scroll}/{max_scroll} · ↑↓ PgUp PgDn scroll "),
                theme::DIM,
            )
            .right_aligned(),
        );
    }
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        area,
    );
}

fn label(name: &str, value: String) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{name:<13}"), theme::HEADER),
        Span::raw(value),
    ])
}

fn change(before: &str, after: &str) -> String {
    if before == after {
        format!("{before} (unchanged)")
    } else {
        format!("{before}  →  {after}")
    }
}

fn plan_lines(
    lines: &mut Vec<Line<'static>>,
    context: &str,
    plan: &FixPlan,
    patch: &serde_json::Value,
) {
    lines.push(label(
        "Target",
        format!(
            "context {context} · namespace {} · {}/{} · container {}",
            plan.target.namespace, plan.target.kind, plan.target.name, plan.container
        ),
    ));
    lines.push(label(
        "Image",
        change(&plan.image_before, &plan.image_after),
    ));
    let none = "(not set)".to_string();
    lines.push(label(
        "Pull policy",
        change(
            plan.pull_policy_before.as_ref().unwrap_or(&none),
            plan.pull_policy_after.as_ref().unwrap_or(&none),
        ),
    ));
    lines.push(Line::styled(
        "JSON patch (the test op makes it fail if someone changed the field meanwhile):",
        theme::HEADER,
    ));
    for op in patch.as_array().into_iter().flatten() {
        lines.push(Line::raw(format!("  {}", spaced_json(op))));
    }
    let same = FixPlan {
        patch: patch.clone(),
        ..plan.clone()
    };
    lines.push(Line::styled(
        "The same guarded patch with kubectl (c copies it):",
        theme::HEADER,
    ));
    lines.push(Line::raw(format!(
        "  {}",
        crate::sanitize::term(&crate::tui::kubectl::patch_command(context, &same))
    )));
}

/// One patch op as JSON with a space after each `:` and `,`, so a narrow dialog wraps between
/// fields and an image name is never split across lines.
fn spaced_json(op: &serde_json::Value) -> String {
    match op.as_object() {
        Some(fields) => {
            let parts: Vec<String> = fields
                .iter()
                .map(|(k, v)| format!("{}: {}", serde_json::Value::from(k.as_str()), v))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        None => op.to_string(),
    }
}

fn status_line(status: &DialogStatus, ready: &str) -> Line<'static> {
    match status {
        DialogStatus::Ready => Line::styled(format!(" {ready} "), theme::OK),
        DialogStatus::Sending => Line::styled(" Sending the patch… ", theme::WARN),
        DialogStatus::Failed(_) => Line::styled(
            " y plans again from the current state · Esc closes ",
            theme::ERROR,
        ),
    }
}

/// A failed request, in full, inside the dialog.
fn failure(lines: &mut Vec<Line<'static>>, status: &DialogStatus) {
    if let DialogStatus::Failed(msg) = status {
        lines.push(Line::styled(format!("Failed: {msg}"), theme::ERROR));
    }
}

fn fix(frame: &mut Frame, app: &App, d: &FixDialog) {
    let f = &d.finding;
    let mut lines = vec![
        Line::from(vec![
            Span::styled(format!("{} ", f.kind.as_str()), theme::ERROR),
            Span::styled(
                format!("{}/{} container {}", f.namespace, f.workload, f.container),
                theme::HEADER,
            ),
        ]),
        Line::raw(sentence(f)),
    ];
    for e in &f.evidence {
        lines.push(Line::styled(format!("  {e}"), theme::DIM));
    }
    lines.push(Line::raw(""));
    match &d.plan {
        Some(plan) => {
            plan_lines(&mut lines, &app.snapshot.context, plan, &plan.patch);
            lines.push(Line::raw(""));
            hotfix(&mut lines, app, f);
        }
        None => {
            lines.push(Line::styled("No safe patch for this finding.", theme::WARN));
            if let Some(cmd) = &f.command {
                lines.push(Line::raw(if crate::tui::kubectl::is_check_command(cmd) {
                    "Check first (c copies it):"
                } else {
                    "Run this instead (c copies it):"
                }));
                lines.push(Line::styled(
                    format!("  {}", crate::sanitize::term(cmd)),
                    theme::HEADER,
                ));
            }
            if !f.candidates.is_empty() {
                lines.push(Line::raw(format!(
                    "Candidates on the nodes: {}",
                    f.candidates.join(", ")
                )));
            }
        }
    }
    let footer = match (&app.write, &d.plan) {
        (WriteAccess::Refused { why, how, .. }, _) => {
            lines.push(Line::raw(""));
            lines.push(Line::styled(format!("Writes are off: {why}"), theme::WARN));
            lines.push(Line::raw(how.clone()));
            Line::styled(" Esc closes ", theme::DIM)
        }
        (_, None) => Line::styled(" Esc closes ", theme::DIM),
        (_, Some(_)) => {
            failure(&mut lines, &d.status);
            status_line(&d.status, "y or Enter applies · Esc cancels")
        }
    };
    // On a short screen the evidence (also in the events pane) gives way to the patch.
    let inner_w = usize::from(
        frame
            .area()
            .width
            .saturating_sub(4)
            .min(100)
            .saturating_sub(2),
    );
    let rows = |ls: &[Line<'static>]| -> usize {
        ls.iter()
            .map(|l| {
                let text: String = l.spans.iter().map(|s| s.content.as_ref()).collect();
                wrapped_rows(&text, inner_w)
            })
            .sum()
    };
    let room = usize::from(frame.area().height.saturating_sub(4));
    if rows(&lines) > room && !f.evidence.is_empty() {
        lines.drain(2..2 + f.evidence.len());
    }
    popup_scrolled(frame, "Fix", lines, footer, &app.dialog_scroll);
}

/// The live patch is a hotfix; the durable edit is in the repository (or was not found).
fn hotfix(lines: &mut Vec<Line<'static>>, app: &App, f: &crate::diagnose::Finding) {
    let mut f = f.clone();
    // None: no repository; Some(None): its search is still running.
    let found = app.sources.as_ref().map(|c| c.get(&f));
    let searching = matches!(found, Some(None));
    if let Some(Some(v)) = found {
        f.sources = v;
    }
    let root = app.sources.as_ref().map(|c| c.root());
    let hint = "run kindscope inside the git work tree of your manifests to see the line";
    for (i, text) in crate::source::hotfix_lines(&f, root, hint)
        .into_iter()
        .enumerate()
    {
        let style = if i == 0 { theme::WARN } else { theme::HEADER };
        if searching && i > 0 {
            lines.push(Line::styled(
                "Looking for the source of this name…",
                theme::DIM,
            ));
            break;
        }
        lines.push(Line::styled(text, style));
    }
}

fn undo(frame: &mut Frame, app: &App, d: &UndoDialog) {
    let p = &d.plan;
    let mut lines = vec![Line::raw(format!(
        "Put back what the last fix changed on {}/{}:",
        p.target.kind, p.target.name
    ))];
    let reverse = FixPlan {
        image_before: p.image_after.clone(),
        image_after: p.image_before.clone(),
        pull_policy_before: p.pull_policy_after.clone(),
        pull_policy_after: p.pull_policy_before.clone(),
        ..p.clone()
    };
    plan_lines(&mut lines, &app.snapshot.context, &reverse, &p.undo);
    journal_lines(&mut lines, d);
    failure(&mut lines, &d.status);
    let footer = status_line(&d.status, "y or Enter undoes · Esc cancels");
    popup_scrolled(
        frame,
        "Undo the last fix",
        lines,
        footer,
        &app.dialog_scroll,
    );
}

/// Which journalled fix this is, and how many older ones `u` can walk back to after it.
fn journal_lines(lines: &mut Vec<Line<'static>>, d: &UndoDialog) {
    if let Some(e) = &d.entry {
        lines.push(label(
            "Fixed",
            format!(
                "{} (journal id {})",
                e.time.strftime("%Y-%m-%d %H:%M:%S UTC"),
                e.id
            ),
        ));
    }
    if d.older > 0 {
        lines.push(Line::styled(
            format!(
                "{} older fix{} of this cluster in the journal: u again walks back to {}.",
                d.older,
                if d.older == 1 { "" } else { "es" },
                if d.older == 1 { "it" } else { "them" }
            ),
            theme::DIM,
        ));
    }
}

fn namespaces(frame: &mut Frame, choices: &[Option<String>], selected: usize) {
    let lines: Vec<Line<'static>> = choices
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let text = c.clone().unwrap_or_else(|| "(all namespaces)".to_string());
            if i == selected {
                Line::styled(format!("▶ {text}"), theme::SELECTED_FOCUSED)
            } else {
                Line::raw(format!("  {text}"))
            }
        })
        .collect();
    popup(
        frame,
        "Namespace",
        lines,
        Line::styled(" ↑↓ choose · Enter switches · Esc cancels ", theme::DIM),
    );
}

fn help(frame: &mut Frame, scroll: &Cell<u16>) {
    let mut lines: Vec<Line<'static>> = HELP
        .iter()
        .map(|(k, v)| {
            Line::from(vec![
                Span::styled(format!("{k:<21}"), theme::HEADER),
                Span::raw(v.to_string()),
            ])
        })
        .collect();
    lines.push(Line::styled("Markers", theme::HEADER));
    for (mark, style, text) in [
        (
            theme::MARK_FIX_TARGET,
            theme::FIX_TARGET,
            "node image: the exact name the fix would set",
        ),
        (
            theme::MARK_NEAR,
            theme::NEAR,
            "node image: nearly the asked-for image (other registry or tag)",
        ),
        (
            theme::MARK_EXACT,
            theme::OK,
            "node image: exactly what the workload asks for",
        ),
        (
            theme::MARK_FINDING,
            theme::ERROR,
            "workload/container with a finding",
        ),
        (
            theme::MARK_DEFAULTED,
            Style::new(),
            "pull policy is the apiserver default for the image",
        ),
        ("▌", theme::LINKED, "pod of the selected workload"),
    ] {
        lines.push(Line::from(vec![
            Span::styled(format!("  {mark:<4}"), style),
            Span::raw(text),
        ]));
    }
    popup_scrolled(
        frame,
        "Keys",
        lines,
        Line::styled(" Esc or ? closes ", theme::DIM),
        scroll,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_rows_counts_word_wrapping() {
        assert_eq!(wrapped_rows("", 10), 1);
        assert_eq!(wrapped_rows("short", 10), 1);
        // "aaaa bbbb " fits 10; "cccc" goes to a second row although 14 chars fit 2 rows.
        assert_eq!(wrapped_rows("aaaa bbbb cccc", 10), 2);
        assert_eq!(wrapped_rows("aaaaaaa bbbbbbb ccccccc", 10), 3);
        // A word longer than a row is cut across rows.
        assert_eq!(wrapped_rows("abcdefghijklmnopqrstuvwxy", 10), 3);
        assert_eq!(wrapped_rows("x abcdefghijklmnopqrstu", 10), 4);
    }

    #[test]
    fn patch_ops_wrap_between_fields() {
        let op = serde_json::json!({"op": "replace", "path": "/a", "value": "localhost/x:y"});
        assert_eq!(
            spaced_json(&op),
            r#"{"op": "replace", "path": "/a", "value": "localhost/x:y"}"#
        );
    }
}
