//! `u`: walking back through this cluster's fixes in the journal, newest first, one undo at a
//! time. The journal is read by the backend (IO); this is the state side, pure.

use crate::cluster::journal::JournalEntry;
use crate::fix::FixPlan;
use crate::tui::action::Effect;
use crate::tui::app::{App, DialogStatus, Overlay, StatusLine, UndoDialog};
use crate::tui::port::Request;

impl App {
    /// `u`: ask first, showing the newest fix not undone yet; the journal is read again each
    /// time, so fixes made meanwhile by `kindscope fix` (or another dashboard) count too.
    pub(super) fn open_undo(&mut self) -> Option<Effect> {
        if let Some((why, how)) = self.refused() {
            self.overlay = Overlay::Info {
                title: "Undo not possible: writes are off".to_string(),
                lines: vec![why, how],
            };
            return None;
        }
        match self.undo_candidate() {
            Some((plan, entry)) => self.show_undo(plan, entry),
            None => {
                self.awaiting_history = true;
                self.status = Some(StatusLine {
                    text: "Reading the journal for fixes to undo…".to_string(),
                    error: false,
                });
            }
        }
        Some(Effect::Port(Request::UndoHistory))
    }

    /// What `u` undoes now: this session's last fix when the journal (as last read) does not
    /// hold it yet, else the journal's newest open fix.
    fn undo_candidate(&self) -> Option<(FixPlan, Option<JournalEntry>)> {
        if let Some(plan) = &self.last_fix
            && !self.history.iter().any(|e| e.plan == *plan)
        {
            return Some((plan.clone(), None));
        }
        self.history
            .first()
            .map(|e| (e.plan.clone(), Some(e.clone())))
    }

    fn show_undo(&mut self, plan: FixPlan, entry: Option<JournalEntry>) {
        let older = match &entry {
            Some(_) => self.history.len().saturating_sub(1),
            None => self.history.len(),
        };
        self.overlay = Overlay::Undo(Box::new(UndoDialog {
            plan,
            status: DialogStatus::Ready,
            entry,
            older,
        }));
    }

    /// The journal was read: refresh an undo dialog not sent yet, or open the one `u` waits for.
    pub(super) fn history_arrived(&mut self, found: Result<Vec<JournalEntry>, String>) {
        let waiting = std::mem::take(&mut self.awaiting_history);
        let entries = match found {
            Ok(entries) => entries,
            Err(e) => {
                if waiting {
                    self.status = Some(StatusLine {
                        text: format!("Cannot read the journal, so nothing to undo: {e}"),
                        error: true,
                    });
                }
                return;
            }
        };
        self.history = entries;
        let ready = matches!(&self.overlay, Overlay::Undo(d) if d.status == DialogStatus::Ready);
        if ready || waiting {
            match self.undo_candidate() {
                Some((plan, entry)) => self.show_undo(plan, entry),
                None if waiting => {
                    self.status = Some(StatusLine {
                        text: "Nothing to undo: the journal holds no fix of this cluster that is \
                               not undone yet."
                            .to_string(),
                        error: false,
                    });
                }
                None => {}
            }
        }
    }

    /// An undo was accepted: that fix leaves the history.
    pub(super) fn undone(&mut self) {
        let Some(plan) = self.pending.take() else {
            self.last_fix = None;
            return;
        };
        if self.last_fix.as_ref() == Some(&plan) {
            self.last_fix = None;
        }
        if let Some(i) = self.history.iter().position(|e| e.plan == plan) {
            self.history.remove(i);
        }
    }
}
