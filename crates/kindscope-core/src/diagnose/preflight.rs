//! Findings for workloads that are not deployed yet (`kindscope check`). Pure.
//!
//! Each planned workload is placed, as a pod, on every node the scheduler could pick
//! (nodeSelector, taints/tolerations, `nodeName`), and each of its containers is given the
//! fate the kubelet would give it there (the rules of docs/findings.md: `Never` and absent →
//! `ErrImageNeverPull`; a `localhost/` name that must be pulled → the pull fails, the node
//! runs no registry; a `:latest`/untagged image with the defaulted `Always` → pulled instead
//! of the loaded copy). The same rules as for a live cluster then judge those pods, so `check`
//! and `diagnose` name a problem with the same words.
//!
//! A pull of an image no node holds is assumed to succeed unless the nodes hold something
//! like it (same path under another registry, same repository with another tag): that is the
//! mismatch this tool exists for, and a preflight cannot know what a registry serves.

use std::sync::Arc;

use k8s_openapi::api::core::v1::{
    ContainerState, ContainerStateRunning, ContainerStateWaiting, ContainerStatus, Pod, PodSpec,
    PodStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use super::index::NodeIndex;
use super::{Finding, FindingKind};
use crate::imageref::ImageRef;
use crate::k8s::PullPolicy;
use crate::k8s::containers;
use crate::model::Snapshot;
use crate::workload::WorkloadRef;

/// A workload as a manifest defines it.
#[derive(Debug, Clone)]
pub struct PlannedWorkload {
    pub namespace: String,
    /// `Deployment`, `StatefulSet`, `DaemonSet`, `ReplicaSet`, `Job`, `CronJob`, `Pod`.
    pub kind: String,
    pub name: String,
    /// The pod spec pods would be created from (containers, selectors, tolerations).
    pub spec: PodSpec,
}

/// What the kubelet would do with one container on one node.
enum Predicted {
    Runs,
    Fails(&'static str, String),
}

/// The findings `diagnose` would report once these workloads are applied to `cluster` (its
/// nodes and node images; its pods and workloads are ignored).
pub fn preflight(cluster: &Snapshot, planned: &[PlannedWorkload]) -> Vec<Finding> {
    let mut synth = Snapshot {
        context: cluster.context.clone(),
        server: cluster.server.clone(),
        nodes: cluster.nodes.clone(),
        node_images: cluster.node_images.clone(),
        resources: cluster.resources.clone(),
        ..Snapshot::default()
    };
    let ix = NodeIndex::build(cluster);
    for w in planned {
        let targets: Vec<usize> = match w.spec.node_name.as_deref() {
            Some(n) if !n.is_empty() => ix.node_index(n).into_iter().collect(),
            _ => ix.eligible(Some(&w.spec)).iter().collect(),
        };
        for (k, &i) in targets.iter().enumerate() {
            synth
                .pods
                .push(Arc::new(planned_pod(w, k, ix.nodes[i].name, &ix, i)));
        }
    }
    let mut findings = super::diagnose(&synth);
    for f in &mut findings {
        // The pods were imagined; only their nodes are real.
        f.pods.clear();
    }
    findings
}

/// The checks that need no cluster: references that do not parse, `localhost/` images the
/// kubelet must pull (it never can), and `:latest`/untagged images whose pull policy defaults
/// to `Always` (a `kind load`ed copy is never used).
pub fn offline(planned: &[PlannedWorkload]) -> Vec<Finding> {
    let mut out = Vec::new();
    for w in planned {
        let workload = WorkloadRef::new(w.kind.as_str(), w.name.as_str());
        for (c, init) in containers(&w.spec) {
            let image = c.image.as_deref().unwrap_or("");
            let explicit = c.image_pull_policy.as_deref().filter(|p| !p.is_empty());
            let policy = explicit.unwrap_or_else(|| PullPolicy::default_for(image).as_str());
            let base = Finding {
                kind: FindingKind::InvalidReference,
                namespace: w.namespace.clone(),
                workload: workload.clone(),
                container: c.name.clone(),
                init_container: init,
                image: image.to_string(),
                suggested_image: None,
                suggested_pull_policy: None,
                candidates: Vec::new(),
                nodes: Vec::new(),
                pods: Vec::new(),
                evidence: Vec::new(),
                summary: String::new(),
                command: None,
                patch: None,
                plan: None,
                sources: Vec::new(),
            };
            let r = match ImageRef::parse(image) {
                Ok(r) => r,
                Err(e) => {
                    let trimmed = image.trim();
                    let fix = (trimmed != image && ImageRef::parse(trimmed).is_ok())
                        .then(|| trimmed.to_string());
                    out.push(Finding {
                        summary: format!(
                            "{workload} asks for {image:?}, which is not a valid image reference: {}.",
                            e.0
                        ),
                        evidence: vec![format!("parse error: {}", e.0)],
                        suggested_image: fix,
                        ..base
                    });
                    continue;
                }
            };
            if policy != "Always" {
                continue;
            }
            let summary = if r.is_local_only() {
                format!(
                    "{workload} asks for {image} with imagePullPolicy Always{}: a localhost/ image can only come from `kind load`, never from a pull, so every start fails.",
                    if explicit.is_none() {
                        " (the default for an untagged or :latest image)"
                    } else {
                        ""
                    }
                )
            } else if explicit.is_none() {
                format!(
                    "{workload} asks for {image}, untagged or :latest, so imagePullPolicy defaults to Always: the kubelet pulls it on every start and a copy loaded with `kind load` is never used; set imagePullPolicy IfNotPresent or use a fixed tag."
                )
            } else {
                continue;
            };
            out.push(Finding {
                kind: FindingKind::PullPolicy,
                summary,
                suggested_pull_policy: Some("IfNotPresent".into()),
                ..base
            });
        }
    }
    out
}

fn planned_pod(w: &PlannedWorkload, k: usize, node: &str, ix: &NodeIndex<'_>, i: usize) -> Pod {
    let mut spec = w.spec.clone();
    spec.node_name = Some(node.to_string());
    let status = |c: &k8s_openapi::api::core::v1::Container| {
        let image = c.image.clone().unwrap_or_default();
        let explicit = c.image_pull_policy.as_deref().filter(|p| !p.is_empty());
        let state = match predict(&image, explicit, ix, i) {
            Predicted::Runs => ContainerState {
                running: Some(ContainerStateRunning::default()),
                ..ContainerState::default()
            },
            Predicted::Fails(reason, message) => ContainerState {
                waiting: Some(ContainerStateWaiting {
                    reason: Some(reason.to_string()),
                    message: Some(message),
                }),
                ..ContainerState::default()
            },
        };
        ContainerStatus {
            name: c.name.clone(),
            image,
            state: Some(state),
            ..ContainerStatus::default()
        }
    };
    let init: Vec<ContainerStatus> = spec
        .init_containers
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .map(status)
        .collect();
    let main: Vec<ContainerStatus> = spec.containers.iter().map(status).collect();
    Pod {
        metadata: ObjectMeta {
            name: Some(format!("{}-planned-{k}", w.name)),
            namespace: Some(w.namespace.clone()),
            owner_references: Some(vec![OwnerReference {
                api_version: "v1".into(),
                kind: w.kind.clone(),
                name: w.name.clone(),
                controller: Some(true),
                ..OwnerReference::default()
            }]),
            ..ObjectMeta::default()
        },
        spec: Some(spec),
        status: Some(PodStatus {
            phase: Some("Pending".into()),
            init_container_statuses: (!init.is_empty()).then_some(init),
            container_statuses: Some(main),
            ..PodStatus::default()
        }),
    }
}

fn predict(image: &str, explicit: Option<&str>, ix: &NodeIndex<'_>, i: usize) -> Predicted {
    let r = match ImageRef::parse(image) {
        Ok(r) => r,
        Err(e) => {
            return Predicted::Fails(
                "InvalidImageName",
                format!(
                    "Failed to apply default image tag \"{image}\": couldn't parse image name \"{image}\": {e}"
                ),
            );
        }
    };
    let policy = explicit.unwrap_or_else(|| PullPolicy::default_for(image).as_str());
    let held = ix.holders(&r).contains(i);
    let similar = ix
        .same_familiar_path(&r)
        .chain(ix.same_repository(&r))
        .any(|h| h.r.lookup_name() != r.lookup_name());
    let pull = |why: &str| {
        Predicted::Fails(
            "ErrImagePull",
            format!("the kubelet would pull \"{image}\" and fail: {why}"),
        )
    };
    match policy {
        "Never" if held => Predicted::Runs,
        "Never" => Predicted::Fails(
            "ErrImageNeverPull",
            format!("Container image \"{image}\" is not present with pull policy of Never"),
        ),
        _ if r.is_local_only() && (policy == "Always" || !held) => {
            pull("localhost is the node itself, which runs no registry")
        }
        "Always" if held && explicit.is_none() => pull(
            "its imagePullPolicy defaults to Always (untagged or :latest), so the copy on the node is not used",
        ),
        _ if held => Predicted::Runs,
        _ if similar => pull("no registry is known to serve it; the node holds a similar image"),
        _ => Predicted::Runs,
    }
}

#[cfg(test)]
#[path = "tests/preflight.rs"]
mod tests;
