//! Which finding is selected, and going to one (`]`/`[`, a click in the strip, the first at
//! start): by identity, so the selection survives new snapshots.

use crate::diagnose::Finding;
use crate::fix::Target;
use crate::tui::action::Pane;
use crate::tui::app::App;
use crate::tui::view::WorkloadRow;
use crate::workload::WorkloadRef;

/// A finding by identity: its index changes when the snapshot does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingId {
    pub namespace: String,
    pub workload: WorkloadRef,
    pub container: String,
    pub init: bool,
    pub kind: crate::diagnose::FindingKind,
}

impl FindingId {
    pub fn of(f: &Finding) -> Self {
        FindingId {
            namespace: f.namespace.clone(),
            workload: f.workload.clone(),
            container: f.container.clone(),
            init: f.init_container,
            kind: f.kind,
        }
    }

    pub fn matches(&self, f: &Finding) -> bool {
        self.namespace == f.namespace
            && self.workload == f.workload
            && self.container == f.container
            && self.init == f.init_container
            && self.kind == f.kind
    }
}

impl App {
    /// The finding `f` acts on: the one `]`/`[` or a click chose; in the Pods pane, the
    /// selected pod's (bare pods have no workload row); else the selected container's, else the
    /// selected workload's first.
    pub fn selected_finding(&self) -> Option<&Finding> {
        if let Some(id) = &self.chosen_finding
            && let Some(f) = self.view.findings.iter().find(|f| id.matches(f))
        {
            return Some(f);
        }
        if self.focus == Pane::Pods
            && let Some(pod) = self.view.pods.get(self.pane(Pane::Pods).selected)
            && let Some(f) = self
                .view
                .findings
                .iter()
                .find(|f| f.namespace == pod.namespace && f.pods.contains(&pod.name))
        {
            return Some(f);
        }
        let (key, container) = self.selected_workload()?;
        let kind_name = key.finding_name();
        let of_workload = |f: &&Finding| f.namespace == key.namespace && f.workload == kind_name;
        let exact = container.and_then(|(name, init)| {
            self.view
                .findings
                .iter()
                .filter(of_workload)
                .find(|f| f.container == name && f.init_container == init)
        });
        exact.or_else(|| self.view.findings.iter().find(of_workload))
    }

    /// Index of the selected finding in the view's findings.
    pub fn selected_finding_index(&self) -> Option<usize> {
        let f = self.selected_finding()?;
        self.view.findings.iter().position(|g| g == f)
    }

    /// Select the first finding (from `start`) not on `skip`; returns whether one was found.
    pub(crate) fn select_finding(&mut self, start: usize, skip: Option<&Target>) -> bool {
        let Some(i) = self
            .view
            .findings
            .iter()
            .enumerate()
            .skip(start)
            .find(|(_, f)| {
                skip.is_none_or(|t| !(f.namespace == t.namespace && f.workload == t.workload()))
            })
            .map(|(i, _)| i)
        else {
            return false;
        };
        self.go_to_finding(i);
        true
    }

    /// Make finding `i` the selected one and show it in the panes: its container row in
    /// Workloads, its pod in Pods (a bare pod's finding has only the pod).
    pub(crate) fn go_to_finding(&mut self, i: usize) {
        let Some(f) = self.view.findings.get(i) else {
            return;
        };
        self.chosen_finding = Some(FindingId::of(f));
        let row = self.view.workloads.iter().position(|r| match r {
            WorkloadRow::Container {
                key, name, init, ..
            } => {
                key.namespace == f.namespace
                    && key.finding_name() == f.workload
                    && *name == f.container
                    && *init == f.init_container
            }
            WorkloadRow::Deployment { .. } => false,
        });
        let pod = self
            .view
            .pods
            .iter()
            .position(|p| p.namespace == f.namespace && f.pods.contains(&p.name));
        match row {
            Some(r) => {
                self.panes[Pane::Workloads.index()].selected = r;
                self.link_from_workload();
            }
            None => {
                if let Some(p) = pod {
                    self.panes[Pane::Pods.index()].selected = p;
                    // Only the Pods pane shows a bare pod's finding.
                    if self.focus == Pane::Workloads {
                        self.focus = Pane::Pods;
                    }
                }
            }
        }
    }
}
