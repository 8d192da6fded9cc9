//! What the dashboard knows yet: still connecting, which required lists are loading, which are
//! forbidden, and which pods in view have not started. Nothing is claimed (no all-clear, no
//! count of findings) before these say so (docs/dashboard.md, "Findings").

use crate::diagnose::Pending;
use crate::model::{Resource as Watched, ResourceState, Snapshot};
use crate::tui::app::App;

/// Whether `r` of `snap` has not been listed yet.
fn unlisted(snap: &Snapshot, r: &Watched) -> bool {
    matches!(snap.resources.get(r), None | Some(ResourceState::Loading))
}

/// Every required list of `snap` is in (possibly forbidden): its diagnosis is a verdict. The
/// dashboard's deriver never holds back the first diagnosis of such a snapshot.
pub(crate) fn all_listed(snap: &Snapshot) -> bool {
    !crate::cluster::watch::REQUIRED
        .iter()
        .any(|r| unlisted(snap, r))
}

impl App {
    /// Required resources (nodes, pods, Deployments, ReplicaSets) not listed yet.
    pub fn loading(&self) -> Vec<&'static str> {
        crate::cluster::watch::REQUIRED
            .iter()
            .copied()
            .filter(|r| !self.loaded || unlisted(&self.snapshot, r))
            .map(|r| r.as_str())
            .collect()
    }

    /// Every required list has loaded (possibly forbidden: then no verdict is claimed).
    pub fn ready(&self) -> bool {
        self.loading().is_empty()
    }

    /// Nothing has listed yet: still connecting.
    pub fn connecting(&self) -> bool {
        !self.loaded
            || self
                .snapshot
                .resources
                .values()
                .all(|s| matches!(s, ResourceState::Loading))
    }

    /// Required resources that could not be listed (403): no all-clear can be claimed.
    pub fn forbidden(&self) -> Vec<&'static str> {
        crate::cluster::watch::REQUIRED
            .iter()
            .copied()
            .filter(|r| {
                matches!(
                    self.snapshot.resources.get(r),
                    Some(ResourceState::Forbidden { .. })
                )
            })
            .map(|r| r.as_str())
            .collect()
    }

    /// Pending containers in the chosen namespace.
    pub fn starting_in_view(&self) -> Vec<&Pending> {
        self.starting
            .iter()
            .filter(|p| self.namespace.as_ref().is_none_or(|n| *n == p.namespace))
            .collect()
    }

    /// Distinct pods (or workloads whose pods do not exist yet) among `pending`.
    pub fn starting_pods(pending: &[&Pending]) -> usize {
        let mut pods: Vec<(&str, &str)> = pending
            .iter()
            .map(|p| {
                (
                    p.namespace.as_str(),
                    p.pod.as_deref().unwrap_or(&p.workload),
                )
            })
            .collect();
        pods.sort_unstable();
        pods.dedup();
        pods.len()
    }

    /// (context, server) to name while connecting: the snapshot's, else the options'.
    pub fn cluster_name(&self) -> (String, String) {
        let snap = &self.snapshot;
        if !snap.context.is_empty() {
            return (snap.context.clone(), snap.server.clone());
        }
        self.cluster.clone().unwrap_or_default()
    }
}
