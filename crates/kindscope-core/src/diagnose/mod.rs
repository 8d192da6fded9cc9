//! Snapshot → findings: where the image a workload asks for and the images its nodes hold
//! disagree. Pure: no IO, no clock. Contract: docs/cli.md (JSON output); each kind is explained in
//! docs/findings.md.
//!
//! ```text
//! index.rs      node images parsed once, keyed by lookup name / repository / familiar path
//! workloads.rs  which containers to judge and which pods speak for them
//! pending.rs    containers not started yet and without a finding
//! rules.rs      one container → at most one finding (the classification)
//! evidence.rs   the kubelet's waiting messages and events for a container
//! likeness.rs   how a held name relates to the asked-for image (the rules, the dashboard)
//! plan.rs       which findings get a guarded patch (`fix::plan_change`), kept in the finding
//! advice.rs     `kind load …` and `kubectl patch …` commands
//! testkit.rs    hand-made and synthetic snapshots for tests and the benchmark
//! ```

mod advice;
mod evidence;
pub use evidence::{is_evidence, same_evidence};
mod index;
mod likeness;
pub use likeness::{Likeness, likeness};
mod pending;
mod plan;
pub use plan::plan;
pub mod preflight;
pub use pending::Pending;
mod rules;
#[doc(hidden)]
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
#[cfg(test)]
mod tests;
mod workloads;

use serde::{Deserialize, Serialize};

use crate::fix::{FixPlan, Target};
use crate::model::Snapshot;
use crate::workload::WorkloadRef;

/// Stable finding identifiers (add more, never rename).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    /// The node has the same path and tag under another registry domain.
    RegistryPrefix,
    /// The node has the repository, but not this tag.
    TagMismatch,
    /// The image is on some nodes, not on the node the pod was scheduled to.
    NotOnNode,
    /// The image is on the node but the pull policy forces a pull that fails.
    PullPolicy,
    /// No similar image on any node, and not pullable.
    NotLoaded,
    /// The image string does not parse.
    InvalidReference,
    /// Kind's import stored the image under another name (`docker.io/library/import-…`).
    RenamedOnImport,
    /// The node holds this very image, but only under a spelling containerd does not resolve
    /// the request to (`repo:tag@sha256:…` while the kubelet looks up `repo@sha256:…`).
    UnresolvableName,
}

impl FindingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::RegistryPrefix => "registry-prefix",
            FindingKind::TagMismatch => "tag-mismatch",
            FindingKind::NotOnNode => "not-on-node",
            FindingKind::PullPolicy => "pull-policy",
            FindingKind::NotLoaded => "not-loaded",
            FindingKind::InvalidReference => "invalid-reference",
            FindingKind::RenamedOnImport => "renamed-on-import",
            FindingKind::UnresolvableName => "unresolvable-name",
        }
    }
}

/// One mismatch, serialised exactly as `diagnose --json` prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: FindingKind,
    pub namespace: String,
    /// The owning workload, serialised `Kind/name`: `Deployment/datastorage`, `StatefulSet/db`,
    /// `Pod/x`.
    pub workload: WorkloadRef,
    pub container: String,
    /// True for an init container.
    #[serde(default)]
    pub init_container: bool,
    /// The image string as the workload asks for it.
    pub image: String,
    pub suggested_image: Option<String>,
    pub suggested_pull_policy: Option<String>,
    /// Other names that could be meant, when no single one is certain (tag-mismatch).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<String>,
    pub nodes: Vec<String>,
    pub pods: Vec<String>,
    /// Kubelet messages and facts that support the finding.
    pub evidence: Vec<String>,
    /// One plain sentence for humans.
    #[serde(default)]
    pub summary: String,
    /// A shell command that fixes what a patch cannot (`kind load … --nodes …`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// The guarded JSON patch (array of ops) when a safe one exists, else null.
    pub patch: Option<serde_json::Value>,
    /// The whole plan behind `patch` (target, undo, before/after), built once by the diagnosis
    /// against the snapshot it diagnosed. Not part of the JSON document: a finding read back
    /// from JSON has only its `patch`.
    #[serde(skip)]
    pub plan: Option<Box<FixPlan>>,
    /// Where the asked-for name comes from in the user's repository (`--source`), strongest
    /// first; empty when no search ran or nothing was found.
    #[serde(default)]
    pub sources: Vec<crate::source::Source>,
}

impl Finding {
    /// The workload in its namespace, as a plan targets it.
    pub fn target(&self) -> Target {
        Target::new(self.namespace.clone(), &self.workload)
    }
}

/// The report `diagnose --json` prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub context: String,
    /// No finding and nothing pending: every container in scope got its image.
    pub healthy: bool,
    pub findings: Vec<Finding>,
    /// Containers not started yet, with no finding (yet): neither healthy nor wrong.
    #[serde(default)]
    pub pending: Vec<Pending>,
}

/// Every finding in the snapshot, in a stable order (namespace, workload, container, kind).
///
/// One finding per (workload, container) whose pods wait with `ErrImageNeverPull`,
/// `ErrImagePull`, `ImagePullBackOff` or `InvalidImageName`, or whose Deployment uses
/// `imagePullPolicy: Never` for an image no schedulable node holds. Each finding carries its
/// guarded patch and plan ([`plan`]) when a safe one exists, else a `command`.
pub fn diagnose(snap: &Snapshot) -> Vec<Finding> {
    analyse(snap, false).0
}

/// Findings, and (when `with_pending`) the containers that have not started yet.
fn analyse(snap: &Snapshot, with_pending: bool) -> (Vec<Finding>, Vec<Pending>) {
    let ix = index::NodeIndex::build(snap);
    let events = evidence::EventIndex::build(snap);
    let kind = advice::KindCluster::detect(snap, &ix);
    let cx = rules::Ctx {
        snap,
        ix: &ix,
        events: &events,
        kind: &kind,
    };
    let collected = workloads::collect(snap, &ix, with_pending);
    let mut findings: Vec<Finding> = collected
        .subjects
        .iter()
        .filter(|s| !s.failing.is_empty() || s.policy == "Never")
        .filter_map(|s| rules::judge(s, &cx))
        .collect();
    findings.sort_by(|a, b| {
        (&a.namespace, &a.workload, &a.container, a.kind).cmp(&(
            &b.namespace,
            &b.workload,
            &b.container,
            b.kind,
        ))
    });
    let pending = if with_pending {
        pending::collect(&collected, &ix, &findings)
    } else {
        Vec::new()
    };
    (findings, pending)
}

/// The whole `diagnose --json` document for a snapshot: healthy only when there is no finding
/// and nothing is still starting.
pub fn report(snap: &Snapshot) -> Report {
    let (findings, pending) = analyse(snap, true);
    Report {
        context: snap.context.clone(),
        healthy: findings.is_empty() && pending.is_empty(),
        findings,
        pending,
    }
}
