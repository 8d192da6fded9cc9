//! `App::update`: the only place state changes. Pure: no IO, no clock; effects go back to the
//! event loop.

use crate::tui::action::{Action, Effect, Pane};
use crate::tui::app::{App, DialogStatus, FixDialog, Overlay, Rollout, StatusLine};
use crate::tui::details;
use crate::tui::layout;
use crate::tui::port::{FollowOutcome, PortEvent, WriteAccess};

impl App {
    pub fn update(&mut self, action: Action) -> Option<Effect> {
        let overlay_before = std::mem::discriminant(&self.overlay);
        let effect = self.apply(action);
        // A dialog opens at its top.
        if std::mem::discriminant(&self.overlay) != overlay_before {
            self.dialog_scroll.set(0);
        }
        // Whatever moved the pod selection, its events follow (built for that pod only).
        self.sync_events();
        effect
    }

    fn apply(&mut self, action: Action) -> Option<Effect> {
        match action {
            Action::Quit => {
                self.quit = true;
                return Some(Effect::Quit);
            }
            Action::FocusNext => self.focus = self.focus.next(),
            Action::FocusPrev => self.focus = self.focus.prev(),
            Action::Up => self.move_selection(-1),
            Action::Down => self.move_selection(1),
            Action::PageUp => self.move_selection(-(self.page() as isize)),
            Action::PageDown => self.move_selection(self.page() as isize),
            Action::Top => self.move_selection(isize::MIN / 2),
            Action::Bottom => self.move_selection(isize::MAX / 2),
            Action::Details => self.open_details(),
            Action::OpenFix => self.open_fix(),
            Action::OpenUndo => return self.open_undo(),
            Action::Confirm => return self.confirm(),
            Action::Cancel if matches!(self.overlay, Overlay::View(_)) => return self.close_view(),
            Action::Cancel => self.cancel(),
            Action::OpenLogs => return self.open_logs(),
            Action::OpenDescribe => self.open_describe(),
            Action::OpenYaml => return self.open_yaml(),
            Action::View(key) => return self.view_key(key),
            Action::FocusPane(pane) => self.focus = pane,
            Action::Unbound(key) => {
                self.status = Some(StatusLine {
                    text: format!("{key} does nothing here; ? lists the keys."),
                    error: false,
                })
            }
            Action::OpenFilter => self.overlay = Overlay::Filter,
            Action::FilterInput(c) => {
                self.filter.push(c);
                self.rebuild_view();
            }
            Action::FilterBackspace => {
                self.filter.pop();
                self.rebuild_view();
            }
            Action::OpenCommand => self.open_command(),
            Action::Command(key) => self.command_key(key),
            Action::OpenNamespaces => self.open_namespaces(),
            Action::ToggleLog => self.show_log = !self.show_log,
            Action::RefreshNodeImages => return Some(Effect::RefreshNodeImages),
            Action::ToggleHelp => {
                self.overlay = match self.overlay {
                    Overlay::Help => Overlay::None,
                    _ => Overlay::Help,
                }
            }
            Action::Click { column, row } => self.click(column, row),
            Action::Scroll { down, .. } if matches!(self.overlay, Overlay::View(_)) => {
                let delta = if down { 3 } else { -3 };
                return self.view_key(crate::tui::textview::ViewKey::Scroll(delta));
            }
            Action::Scroll { column, row, down } => {
                let areas = self.areas();
                let pos = ratatui::layout::Position::new(column, row);
                let in_strip = areas.findings.contains(pos);
                let in_events = areas.events.is_some_and(|r| r.contains(pos));
                if let Overlay::None = self.overlay
                    && in_strip
                {
                    // The wheel over the findings strip walks the findings.
                    self.step_finding(down);
                } else if let Overlay::None = self.overlay
                    && in_events
                {
                    self.events_scroll = if down {
                        self.events_scroll.saturating_add(3)
                    } else {
                        self.events_scroll.saturating_sub(3)
                    };
                } else if let Overlay::None = self.overlay
                    && let Some(pane) = self.pane_at(column, row)
                {
                    self.focus = pane;
                    self.move_selection(if down { 3 } else { -3 });
                }
            }
            Action::Resize { width, height } => {
                self.viewport = ratatui::layout::Rect::new(0, 0, width, height);
            }
            Action::Snapshot(snap) => {
                let report = (self.diagnose)(&snap);
                self.set_snapshot(snap, report);
                self.refresh_describe();
            }
            Action::Rows(snap) => {
                self.set_rows(snap);
                self.refresh_describe();
            }
            Action::Derived(snap, report) => {
                self.set_diagnosis(snap, report);
                self.refresh_describe();
            }
            Action::FeedClosed => self.feed_closed = true,
            Action::Port(event) => self.port_event(event),
            Action::Tick => self.spinner = self.spinner.wrapping_add(1),
            Action::NextFinding => self.step_finding(true),
            Action::PrevFinding => self.step_finding(false),
            Action::ToggleSystem => {
                self.show_system = !self.show_system;
                self.rebuild_view();
                let text = if self.show_system {
                    "Showing Kind's own namespaces and base images (s folds them)."
                } else {
                    "Kind's own namespaces and base images are folded (s shows them)."
                };
                self.status = Some(StatusLine {
                    text: text.to_string(),
                    error: false,
                });
            }
            Action::CopyFix => return self.copy_fix(),
            Action::ScrollEvents { down } => {
                self.events_scroll = if down {
                    self.events_scroll.saturating_add(1)
                } else {
                    self.events_scroll.saturating_sub(1)
                };
            }
        }
        None
    }

    /// The namespace chooser (`n`, `:ns` without a name).
    pub(super) fn open_namespaces(&mut self) {
        let mut choices = vec![None];
        choices.extend(self.view.namespaces.iter().cloned().map(Some));
        if let Some(ns) = &self.namespace
            && !choices.contains(&Some(ns.clone()))
        {
            choices.push(Some(ns.clone()));
        }
        let selected = choices
            .iter()
            .position(|c| *c == self.namespace)
            .unwrap_or(0);
        self.overlay = Overlay::Namespaces { choices, selected };
    }

    /// `]` / `[`: the next / previous finding (wrapping), whatever pane has the focus.
    fn step_finding(&mut self, forward: bool) {
        let n = self.view.findings.len();
        if n == 0 {
            self.status = Some(StatusLine {
                text: "No findings to go to.".to_string(),
                error: false,
            });
            return;
        }
        let next = match (self.selected_finding_index(), forward) {
            (None, true) => 0,
            (None, false) => n - 1,
            (Some(i), true) => (i + 1) % n,
            (Some(i), false) => (i + n - 1) % n,
        };
        self.go_to_finding(next);
        self.user_moved = true;
        self.events_scroll = 0;
    }

    /// `c`: the selected finding's fix as one command line, to the clipboard (OSC 52).
    fn copy_fix(&mut self) -> Option<Effect> {
        let finding = match &self.overlay {
            Overlay::Fix(d) => Some(d.finding.clone()),
            _ => self.selected_finding().cloned(),
        };
        let text = finding
            .as_ref()
            .and_then(|f| match (self.plan)(f, &self.snapshot) {
                Some(plan) => Some(crate::tui::kubectl::patch_command(
                    &self.snapshot.context,
                    &plan,
                )),
                None => f.command.clone(),
            });
        let (text, effect) = match text {
            None if finding.is_none() => (
                "Nothing to copy: no finding is selected (] goes to the next one).".to_string(),
                None,
            ),
            None => (
                "Nothing to copy: this finding has no command.".to_string(),
                None,
            ),
            // Cluster data is hostile: a control character on the clipboard could act when
            // pasted. The kubectl line never holds one (it is quoted as `$'\x1b'`).
            Some(t) if t.chars().any(crate::sanitize::is_unsafe) => (
                "Not copied: the command holds control characters (from the cluster's data); read it in the fix dialog (f).".to_string(),
                None,
            ),
            Some(t) if t.len() > crate::tui::clipboard::MAX_COPY_BYTES => (
                format!(
                    "Not copied: the command is {} bytes, more than the {} a terminal clipboard takes; it is in the fix dialog (f).",
                    t.len(),
                    crate::tui::clipboard::MAX_COPY_BYTES
                ),
                None,
            ),
            Some(t) => (
                format!(
                    "Copied to the clipboard (OSC 52; if nothing arrives, allow OSC 52 in your terminal, in tmux: set -g set-clipboard on): {t}"
                ),
                Some(Effect::Copy(t)),
            ),
        };
        self.status = Some(StatusLine {
            text: crate::sanitize::term(&text).into_owned(),
            error: effect.is_none() && finding.is_some(),
        });
        effect
    }

    fn page(&self) -> usize {
        self.areas().panes[self.focus.index()]
            .map(layout::visible_rows)
            .unwrap_or(10)
            .max(1)
    }

    fn move_selection(&mut self, delta: isize) {
        if let Overlay::Namespaces { choices, selected } = &mut self.overlay {
            let last = choices.len().saturating_sub(1) as isize;
            *selected = (*selected as isize + delta.signum()).clamp(0, last) as usize;
            return;
        }
        if matches!(
            self.overlay,
            Overlay::Fix(_) | Overlay::Undo(_) | Overlay::Info { .. } | Overlay::Help
        ) {
            // Dialogs scroll; drawing clamps to what their text needs.
            let rows = (self.dialog_scroll.get() as isize).saturating_add(delta);
            self.dialog_scroll
                .set(rows.clamp(0, u16::MAX as isize) as u16);
            return;
        }
        if matches!(self.focus, Pane::Workloads | Pane::Pods) {
            self.chosen_finding = None;
        }
        if self.focus == Pane::Pods {
            self.events_scroll = 0;
        }
        let len = self.rows_len(self.focus);
        if len == 0 {
            return;
        }
        let state = &mut self.panes[self.focus.index()];
        let target = (state.selected as isize).saturating_add(delta);
        state.selected = target.clamp(0, len as isize - 1) as usize;
        self.user_moved = true;
        self.after_select();
    }

    fn after_select(&mut self) {
        match self.focus {
            Pane::Workloads => self.link_from_workload(),
            Pane::Pods => self.link_from_pod(),
            Pane::Nodes => {}
        }
    }

    fn pane_at(&self, column: u16, row: u16) -> Option<Pane> {
        let areas = self.areas();
        let pos = ratatui::layout::Position::new(column, row);
        Pane::ALL.into_iter().find(|p| {
            areas.panes[p.index()].is_some_and(|r| r.contains(pos))
                || (*p == Pane::Pods && areas.events.is_some_and(|r| r.contains(pos)))
        })
    }

    fn click(&mut self, column: u16, row: u16) {
        if !matches!(self.overlay, Overlay::None) {
            return;
        }
        let areas = self.areas();
        if let Some(tabs) = areas.tabs
            && tabs.contains(ratatui::layout::Position::new(column, row))
        {
            if let Some(p) = layout::tab_at(column, tabs) {
                self.focus = p;
            }
            return;
        }
        if let Some(i) = crate::tui::ui::strip::finding_at(self, &areas, column, row) {
            self.go_to_finding(i);
            self.user_moved = true;
            self.events_scroll = 0;
            return;
        }
        let Some(pane) = self.pane_at(column, row) else {
            return;
        };
        self.focus = pane;
        if matches!(pane, Pane::Workloads | Pane::Pods) {
            self.chosen_finding = None;
        }
        let Some(rect) = areas.panes[pane.index()] else {
            return;
        };
        if let Some(i) = layout::row_at(rect, row) {
            let state = &self.panes[pane.index()];
            let index = state.offset.get() + i;
            if index < self.rows_len(pane) {
                self.panes[pane.index()].selected = index;
                self.user_moved = true;
                self.after_select();
            }
        }
    }

    pub(super) fn refused(&self) -> Option<(String, String)> {
        match &self.write {
            WriteAccess::Refused { why, how, .. } => Some((why.clone(), how.clone())),
            WriteAccess::Allowed { .. } => None,
        }
    }

    fn open_fix(&mut self) {
        let Some(finding) = self.selected_finding().cloned() else {
            let n = self.view.findings.len();
            self.status = Some(StatusLine {
                text: if n == 0 {
                    "Nothing to fix: no mismatches found.".to_string()
                } else {
                    format!(
                        "The selected row has no finding; {n} in the findings strip — ] goes to the next one."
                    )
                },
                error: false,
            });
            return;
        };
        let plan = (self.plan)(&finding, &self.snapshot);
        self.overlay = Overlay::Fix(Box::new(FixDialog {
            finding,
            plan,
            status: DialogStatus::Ready,
        }));
    }

    fn open_details(&mut self) {
        if let Some((title, lines)) = details::for_selection(self) {
            self.overlay = Overlay::Info { title, lines };
        }
    }

    fn confirm(&mut self) -> Option<Effect> {
        let refused = self.refused();
        if let Overlay::Fix(dialog) = &self.overlay
            && matches!(dialog.status, DialogStatus::Failed(_))
            && refused.is_none()
        {
            return self.replan();
        }
        match &mut self.overlay {
            Overlay::Fix(dialog) if dialog.status != DialogStatus::Sending => {
                if refused.is_some() {
                    return None;
                }
                let plan = dialog.plan.clone()?;
                dialog.status = DialogStatus::Sending;
                self.pending = Some(plan.clone());
                Some(Effect::Apply(plan))
            }
            Overlay::Undo(dialog) if dialog.status != DialogStatus::Sending => {
                dialog.status = DialogStatus::Sending;
                self.pending = Some(dialog.plan.clone());
                Some(Effect::Undo(dialog.plan.clone()))
            }
            Overlay::Namespaces { choices, selected } => {
                let ns = choices.get(*selected).cloned().flatten();
                self.overlay = Overlay::None;
                self.namespace = ns.clone();
                self.rebuild_view();
                Some(Effect::SwitchNamespace(ns))
            }
            Overlay::Command(_) => self.run_command(),
            Overlay::Filter | Overlay::Help | Overlay::Info { .. } => {
                self.overlay = Overlay::None;
                None
            }
            _ => None,
        }
    }

    /// `y` after a refused patch: never resend it blindly. Plan again from the current state;
    /// send only when the plan is unchanged (the refusal was not about the workload changing),
    /// else show the new plan for review.
    fn replan(&mut self) -> Option<Effect> {
        let Overlay::Fix(dialog) = &mut self.overlay else {
            return None;
        };
        let old = &dialog.finding;
        let current = self
            .findings
            .iter()
            .find(|f| {
                f.namespace == old.namespace
                    && f.workload == old.workload
                    && f.container == old.container
                    && f.init_container == old.init_container
            })
            .cloned();
        let Some(finding) = current else {
            let text = format!(
                "{} [{}] no longer has a finding: nothing to fix.",
                old.workload, old.container
            );
            self.overlay = Overlay::None;
            self.status = Some(StatusLine { text, error: false });
            return None;
        };
        let plan = (self.plan)(&finding, &self.snapshot);
        dialog.finding = finding;
        if plan.is_some() && plan == dialog.plan {
            let plan = plan?;
            dialog.status = DialogStatus::Sending;
            self.pending = Some(plan.clone());
            return Some(Effect::Apply(plan));
        }
        dialog.plan = plan;
        dialog.status = DialogStatus::Ready;
        None
    }

    fn cancel(&mut self) {
        match self.overlay {
            Overlay::Filter => {
                self.filter.clear();
                self.overlay = Overlay::None;
                self.rebuild_view();
            }
            Overlay::None => {
                if !self.filter.is_empty() {
                    self.filter.clear();
                    self.rebuild_view();
                }
                self.status = None;
            }
            _ => self.overlay = Overlay::None,
        }
    }

    fn port_event(&mut self, event: PortEvent) {
        match event {
            PortEvent::Applied { target, undo } => {
                if undo {
                    self.undone();
                } else if let Some(plan) = self.pending.take() {
                    self.last_fix = Some(plan);
                }
                if matches!(self.overlay, Overlay::Fix(_) | Overlay::Undo(_)) {
                    self.overlay = Overlay::None;
                }
                self.status = Some(StatusLine {
                    text: format!(
                        "{} {}/{} in {}; following the rollout.",
                        if undo { "Undid the fix on" } else { "Patched" },
                        target.kind,
                        target.name,
                        target.namespace
                    ),
                    error: false,
                });
                self.rollout = Some(Rollout {
                    target,
                    undo,
                    message: "patched; waiting for new pods".to_string(),
                    outcome: None,
                });
            }
            PortEvent::ApplyFailed {
                target,
                undo,
                message,
            } => {
                self.pending = None;
                let line = format!(
                    "{} {}/{} failed: {message}",
                    if undo { "Undo on" } else { "Patch of" },
                    target.kind,
                    target.name
                );
                match &mut self.overlay {
                    Overlay::Fix(d) => d.status = DialogStatus::Failed(message),
                    Overlay::Undo(d) => d.status = DialogStatus::Failed(message),
                    _ => {}
                }
                self.status = Some(StatusLine {
                    text: line,
                    error: true,
                });
            }
            PortEvent::Rollout { target, message } => match &mut self.rollout {
                Some(r) if r.target == target => r.message = message,
                _ => {
                    self.rollout = Some(Rollout {
                        target,
                        undo: false,
                        message,
                        outcome: None,
                    })
                }
            },
            PortEvent::RolloutDone { target, outcome } => {
                let name = format!("{}/{}", target.kind, target.name);
                let undo = self
                    .rollout
                    .as_ref()
                    .is_some_and(|r| r.target == target && r.undo);
                // After an undo the old image is back on purpose: its failure is expected.
                let (text, error) = match (&outcome, undo) {
                    (FollowOutcome::Running, false) => {
                        (format!("{name}: new pods are Running."), false)
                    }
                    (FollowOutcome::Running, true) => (
                        format!("{name}: undone; the pods run the old image again."),
                        false,
                    ),
                    (FollowOutcome::Failed(reason), false) => {
                        (format!("{name} did not come up: {reason}"), true)
                    }
                    (FollowOutcome::Failed(reason), true) => (
                        format!("{name}: undone, the old image is back — {reason}"),
                        false,
                    ),
                };
                self.status = Some(StatusLine { text, error });
                let moved_on = outcome == FollowOutcome::Running
                    && self.rollout.as_ref().is_none_or(|r| !r.undo);
                if let Some(r) = &mut self.rollout
                    && r.target == target
                {
                    r.outcome = Some(outcome);
                }
                if moved_on {
                    self.select_finding(0, Some(&target));
                }
            }
            PortEvent::Notice(text) => self.status = Some(StatusLine { text, error: false }),
            PortEvent::History(found) => self.history_arrived(found),
            PortEvent::View { id, update } => self.view_update(id, update),
            PortEvent::Context(switched) => self.context_switched(switched),
            // The event loop swaps feeds itself; nothing to keep here.
            PortEvent::Feed(_) => {}
        }
    }
}
