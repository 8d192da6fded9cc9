//! Containers that have not started yet and have no finding: neither healthy nor wrong, so a
//! report that has any is not healthy (docs/findings.md, "Not started yet").
//!
//! A container is pending while the kubelet has not reported it past the image step: the pod
//! is not scheduled, or no status yet, or it waits with `ContainerCreating` / `PodInitializing`
//! (the kubelet's defaults before a start attempt) or a reason kindscope does not read. A
//! Deployment with fewer pods of its newest revision than replicas is pending too (its pods are
//! not even created yet), and so is one whose latest spec the controller has not observed. Pending entries of a workload container that already has a finding
//! are left out: its outcome is known.

use serde::{Deserialize, Serialize};

use super::Finding;
use super::index::{NodeIndex, NodeSet};
use super::workloads::{Collected, Fate, Owner, Want, containers, fate};
use crate::imageref::ImageRef;
use crate::workload::WorkloadRef;

/// Similar names listed per pending container; the point is a hint, not an inventory.
const MAX_SIMILAR: usize = 5;

/// One container that has not started yet, serialised as in `diagnose --json` (`pending`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    pub namespace: String,
    /// `Kind/name` of the owning workload, as in findings.
    pub workload: String,
    /// The pod; null when the workload's pod has not been created yet.
    pub pod: Option<String>,
    pub container: String,
    #[serde(default)]
    pub init_container: bool,
    pub image: String,
    /// The node the pod is scheduled to; null while it is not.
    pub node: Option<String>,
    /// What it waits on: the kubelet's waiting reason (`ContainerCreating`, `PodInitializing`,
    /// …), `Scheduled` (on a node, no status yet), `Unschedulable` / `Scheduling` (no node
    /// yet), or `PodNotCreated`.
    pub reason: String,
    /// RFC 3339 time the pod (or, before it exists, the workload's newest revision) was created.
    pub since: Option<String>,
    /// Names the node holds (any eligible node, before scheduling) that look like the image:
    /// the exact name first, then the same repository, then the same path under another registry.
    pub similar_on_node: Vec<String>,
}

pub(crate) fn collect(c: &Collected<'_>, ix: &NodeIndex<'_>, findings: &[Finding]) -> Vec<Pending> {
    let covered =
        |namespace: &str, workload: &WorkloadRef, container: &str, init: bool, image: &str| {
            findings.iter().any(|f| {
                f.namespace == namespace
                    && f.workload == *workload
                    && f.container == container
                    && f.init_container == init
                    && f.image == image
            })
        };
    let mut out: Vec<Pending> = Vec::new();
    for u in &c.unstarted {
        let (Some(spec), Some(pod_name)) = (u.pod.spec.as_ref(), u.pod.metadata.name.as_deref())
        else {
            continue;
        };
        for (container, init) in containers(spec) {
            let want = Want::of(container, init);
            let Fate::Pending(waiting) = fate(u.pod, want, ix) else {
                continue;
            };
            if covered(u.namespace, &u.workload, want.name, init, want.image) {
                continue;
            }
            let node = spec.node_name.as_deref();
            let nodes = match node.and_then(|n| ix.node_index(n)) {
                Some(i) => {
                    let mut s = NodeSet::default();
                    s.insert(i);
                    s
                }
                None => ix.eligible(Some(spec)),
            };
            let reason = match (waiting, node) {
                (Some(r), _) => r.to_string(),
                (None, Some(_)) => "Scheduled".to_string(),
                (None, None) => unscheduled_reason(u.pod).to_string(),
            };
            out.push(Pending {
                namespace: u.namespace.to_string(),
                workload: u.workload.to_string(),
                pod: Some(pod_name.to_string()),
                container: want.name.to_string(),
                init_container: init,
                image: want.image.to_string(),
                node: node.map(str::to_string),
                reason,
                since: u
                    .pod
                    .metadata
                    .creation_timestamp
                    .as_ref()
                    .map(|t| t.0.to_string()),
                similar_on_node: similar(ix, want.image, &nodes),
            });
        }
    }
    for s in &c.subjects {
        let missing = usize::try_from(s.replicas).unwrap_or(0) > s.pod_count;
        let unobserved = s.unobserved && s.replicas > 0;
        if !matches!(s.owner, Owner::Deployment)
            || !(missing || unobserved)
            || covered(s.namespace, &s.workload, s.container, s.init, s.image)
        {
            continue;
        }
        out.push(Pending {
            namespace: s.namespace.to_string(),
            workload: s.workload.to_string(),
            pod: None,
            container: s.container.to_string(),
            init_container: s.init,
            image: s.image.to_string(),
            node: None,
            reason: if unobserved {
                "RolloutNotStarted"
            } else {
                "PodNotCreated"
            }
            .to_string(),
            since: s.since.map(|t| t.to_string()),
            similar_on_node: similar(ix, s.image, &ix.eligible(s.spec)),
        });
    }
    out.sort_by(|a, b| {
        (
            &a.namespace,
            &a.workload,
            &a.pod,
            !a.init_container,
            &a.container,
        )
            .cmp(&(
                &b.namespace,
                &b.workload,
                &b.pod,
                !b.init_container,
                &b.container,
            ))
    });
    out
}

/// `Unschedulable` when the scheduler said so (the PodScheduled condition), else `Scheduling`.
fn unscheduled_reason(pod: &k8s_openapi::api::core::v1::Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .and_then(|c| c.iter().find(|c| c.type_ == "PodScheduled"))
        .filter(|c| c.status == "False")
        .and_then(|c| c.reason.as_deref())
        .unwrap_or("Scheduling")
}

/// What `nodes` hold that looks like `image`, by the diagnosis' own matching (index.rs).
fn similar(ix: &NodeIndex<'_>, image: &str, nodes: &NodeSet) -> Vec<String> {
    let Ok(r) = ImageRef::parse(image) else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    let held = ix
        .exact(&r)
        .chain(ix.same_repository(&r))
        .chain(ix.same_familiar_path(&r));
    for h in held {
        if out.len() == MAX_SIMILAR {
            break;
        }
        if h.nodes.intersects(nodes) && !out.iter().any(|n| n == h.name) {
            out.push(h.name.to_string());
        }
    }
    out
}
