//! Following a rollout after a patch, driven by snapshot changes (no polling).
//!
//! Done when the controller has observed the new generation, every replica is updated and
//! ready, and the new pods' container runs. Fails early, with the kubelet's reason, when a new
//! pod's container waits on an image error or crash-loops — no point waiting out the timeout.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Container, ContainerStatus, Pod, PodSpec};
use serde::Serialize;
use tokio::sync::watch;

use crate::fix::{FixPlan, Target};
use crate::model::Snapshot;

/// Waiting reasons that will not fix themselves.
const FATAL_REASONS: [&str; 4] = [
    "ErrImageNeverPull",
    "InvalidImageName",
    // ErrImagePull is retried once before the kubelet backs off; fail at the back-off.
    "ImagePullBackOff",
    "CrashLoopBackOff",
];

/// Where a rollout stands, for progress lines.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct RolloutProgress {
    /// `Deployment default/gateway`.
    pub target: String,
    pub desired: i32,
    pub updated: i32,
    pub ready: i32,
    /// All replicas, old and new.
    pub total: i32,
    /// One line: what the rollout waits for now.
    pub message: String,
}

/// How a followed rollout ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum RolloutOutcome {
    /// Every replica is updated, ready and running the container.
    Running,
    /// It will not get there by itself; `reason` quotes the kubelet.
    Failed { reason: String },
    /// Still in progress at the deadline.
    TimedOut { last: RolloutProgress },
}

/// What the caller knows the rollout must reach (from the plan and the patch response).
#[derive(Debug, Clone, Default)]
struct Expect {
    image: Option<String>,
    generation: Option<i64>,
}

/// Follow `target` until its `container` runs everywhere, fails, or `timeout` passes.
///
/// Without the plan this trusts the snapshot's current spec; right after a patch prefer
/// [`follow_plan`], which waits for the patched generation and image and so cannot mistake
/// the old, failing pods for the new ones.
pub async fn follow(
    feed: watch::Receiver<Arc<Snapshot>>,
    target: &Target,
    container: &str,
    timeout: Duration,
    on_progress: impl FnMut(&RolloutProgress),
) -> RolloutOutcome {
    run(
        feed,
        target,
        container,
        Expect::default(),
        timeout,
        on_progress,
    )
    .await
}

/// Follow the rollout a just-applied `plan` started; `generation` is the patched object's
/// `metadata.generation` from the patch response (`Applied::generation`).
pub async fn follow_plan(
    feed: watch::Receiver<Arc<Snapshot>>,
    plan: &FixPlan,
    generation: Option<i64>,
    timeout: Duration,
    on_progress: impl FnMut(&RolloutProgress),
) -> RolloutOutcome {
    let expect = Expect {
        image: Some(plan.image_after.clone()),
        generation,
    };
    run(
        feed,
        &plan.target,
        &plan.container,
        expect,
        timeout,
        on_progress,
    )
    .await
}

async fn run(
    mut feed: watch::Receiver<Arc<Snapshot>>,
    target: &Target,
    container: &str,
    expect: Expect,
    timeout: Duration,
    mut on_progress: impl FnMut(&RolloutProgress),
) -> RolloutOutcome {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut last = RolloutProgress {
        target: format!("{} {}/{}", target.kind, target.namespace, target.name),
        message: "waiting for the first snapshot".into(),
        ..RolloutProgress::default()
    };
    loop {
        let snap = feed.borrow_and_update().clone();
        match evaluate(&snap, target, container, &expect, &last.target) {
            Step::Done => return RolloutOutcome::Running,
            Step::Fail(reason) => return RolloutOutcome::Failed { reason },
            Step::Wait(p) => {
                if p != last {
                    on_progress(&p);
                    last = p;
                }
            }
        }
        match tokio::time::timeout_at(deadline, feed.changed()).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => {
                return RolloutOutcome::Failed {
                    reason: "the cluster watch stopped before the rollout finished".into(),
                };
            }
            Err(_) => return RolloutOutcome::TimedOut { last },
        }
    }
}

enum Step {
    Done,
    Fail(String),
    Wait(RolloutProgress),
}

fn evaluate(
    snap: &Snapshot,
    target: &Target,
    container: &str,
    expect: &Expect,
    label: &str,
) -> Step {
    match target.kind.as_str() {
        "Deployment" => deployment(snap, target, container, expect, label),
        "Pod" => bare_pod(snap, target, container, expect, label),
        // StatefulSets and DaemonSets are not in the snapshot; judge by the pods they own.
        _ => owned_pods(snap, target, container, expect, label),
    }
}

fn wait(label: &str, message: impl Into<String>) -> Step {
    Step::Wait(RolloutProgress {
        target: label.to_string(),
        message: message.into(),
        ..RolloutProgress::default()
    })
}

fn deployment(
    snap: &Snapshot,
    target: &Target,
    container: &str,
    expect: &Expect,
    label: &str,
) -> Step {
    let Some(dep) = snap.deployments.iter().find(|d| {
        is(
            d.metadata.namespace.as_deref(),
            d.metadata.name.as_deref(),
            target,
        )
    }) else {
        return Step::Fail(format!("{label} no longer exists"));
    };
    let generation = dep.metadata.generation.unwrap_or(0);
    if expect.generation.is_some_and(|g| generation < g) {
        return wait(label, "waiting for the watch to show the patch");
    }
    let status = dep.status.clone().unwrap_or_default();
    if status.observed_generation.unwrap_or(0) < generation {
        return wait(label, "waiting for the deployment controller");
    }
    let Some(template) = dep.spec.as_ref().and_then(|s| s.template.spec.as_ref()) else {
        return Step::Fail(format!("{label} has no pod template"));
    };
    let Some(spec_container) = crate::k8s::container(template, container) else {
        return Step::Fail(format!(
            "{label} no longer has a container named {container}"
        ));
    };
    if let Some(want) = &expect.image
        && spec_container.image.as_deref() != Some(want.as_str())
    {
        if expect.generation.is_none() {
            return wait(label, "waiting for the watch to show the patch");
        }
        return Step::Fail(format!(
            "{label}: container {container} now asks for {}, not {want}; someone changed it \
             after the patch",
            spec_container.image.as_deref().unwrap_or("no image")
        ));
    }
    let desired = dep.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let mut progress = RolloutProgress {
        target: label.to_string(),
        desired,
        updated: status.updated_replicas.unwrap_or(0),
        ready: status.ready_replicas.unwrap_or(0),
        total: status.replicas.unwrap_or(0),
        message: String::new(),
    };
    let uid = dep.metadata.uid.as_deref();
    let new_rs = snap
        .replicasets
        .iter()
        .filter(|rs| {
            owned_by(
                &rs.metadata.owner_references,
                "Deployment",
                &target.name,
                uid,
            )
        })
        .filter(|rs| rs.metadata.namespace.as_deref() == Some(target.namespace.as_str()))
        .find(|rs| same_template(rs, template, container, spec_container));
    let Some(new_rs) = new_rs else {
        progress.message = "waiting for the new ReplicaSet".into();
        return Step::Wait(progress);
    };
    let rs_uid = new_rs.metadata.uid.as_deref();
    let rs_name = new_rs.metadata.name.as_deref().unwrap_or_default();
    let new_pods: Vec<&Arc<Pod>> = snap
        .pods
        .iter()
        .filter(|p| p.metadata.namespace.as_deref() == Some(target.namespace.as_str()))
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter(|p| owned_by(&p.metadata.owner_references, "ReplicaSet", rs_name, rs_uid))
        .collect();
    judge_pods(&new_pods, container, None, desired, progress, |p| {
        p.updated == p.desired && p.ready == p.desired && p.total == p.desired
    })
}

/// Common end of every kind: fail on a fatal waiting reason, done when `enough` pods run
/// and `counts_done` holds, else wait with a message about the first pod still pending.
fn judge_pods(
    pods: &[&Arc<Pod>],
    container: &str,
    want_image: Option<&str>,
    desired: i32,
    mut progress: RolloutProgress,
    counts_done: impl Fn(&RolloutProgress) -> bool,
) -> Step {
    let mut running: i32 = 0;
    let mut pending = None;
    for pod in pods {
        let name = pod.metadata.name.as_deref().unwrap_or_default();
        let status = container_status(pod, container);
        if let Some(waiting) = status
            .and_then(|s| s.state.as_ref())
            .and_then(|s| s.waiting.as_ref())
        {
            let reason = waiting.reason.as_deref().unwrap_or("Waiting");
            let message = waiting.message.as_deref().unwrap_or_default();
            let about_this_image = want_image
                .is_none_or(|img| message.contains(img) || status.is_some_and(|s| s.image == img));
            if FATAL_REASONS.contains(&reason) && about_this_image {
                let detail = if message.is_empty() {
                    String::new()
                } else {
                    format!(": {message}")
                };
                return Step::Fail(format!(
                    "pod {name}: container {container} is in {reason}{detail}"
                ));
            }
            pending.get_or_insert_with(|| format!("pod {name}: {reason}"));
        } else if status
            .and_then(|s| s.state.as_ref())
            .is_some_and(|s| s.running.is_some())
        {
            running += 1;
        } else {
            pending.get_or_insert_with(|| format!("pod {name}: starting"));
        }
    }
    let enough = running >= desired;
    if enough && counts_done(&progress) {
        return Step::Done;
    }
    progress.message = pending.unwrap_or_else(|| {
        format!(
            "{}/{} updated, {}/{} ready",
            progress.updated, progress.desired, progress.ready, progress.desired
        )
    });
    Step::Wait(progress)
}

fn bare_pod(
    snap: &Snapshot,
    target: &Target,
    container: &str,
    expect: &Expect,
    label: &str,
) -> Step {
    let Some(pod) = snap.pods.iter().find(|p| {
        is(
            p.metadata.namespace.as_deref(),
            p.metadata.name.as_deref(),
            target,
        )
    }) else {
        return Step::Fail(format!("{label} no longer exists"));
    };
    let Some(spec) = pod.spec.as_ref() else {
        return Step::Fail(format!("{label} has no spec"));
    };
    let Some(c) = crate::k8s::container(spec, container) else {
        return Step::Fail(format!("{label} has no container named {container}"));
    };
    let spec_image = c.image.clone().unwrap_or_default();
    if expect
        .image
        .as_ref()
        .is_some_and(|want| *want != spec_image)
    {
        return wait(label, "waiting for the watch to show the patch");
    }
    // The status must be about the image the spec asks for now, not the one before the patch.
    let status_current =
        container_status(pod, container).is_some_and(|s| same_image(&s.image, &spec_image));
    let progress = RolloutProgress {
        target: label.to_string(),
        desired: 1,
        updated: i32::from(status_current),
        ready: i32::from(status_current && is_ready(pod, container)),
        total: 1,
        message: String::new(),
    };
    judge_pods(&[pod], container, Some(&spec_image), 1, progress, |p| {
        p.updated == 1
    })
}

fn owned_pods(
    snap: &Snapshot,
    target: &Target,
    container: &str,
    expect: &Expect,
    label: &str,
) -> Step {
    let pods: Vec<&Arc<Pod>> = snap
        .pods
        .iter()
        .filter(|p| p.metadata.namespace.as_deref() == Some(target.namespace.as_str()))
        .filter(|p| {
            owned_by(
                &p.metadata.owner_references,
                target.kind.as_str(),
                &target.name,
                None,
            )
        })
        .collect();
    let want = expect.image.as_deref();
    let current = |p: &&Arc<Pod>| {
        p.metadata.deletion_timestamp.is_none()
            && p.spec
                .as_ref()
                .and_then(|s| crate::k8s::container(s, container))
                .is_some_and(|c| want.is_none_or(|w| c.image.as_deref() == Some(w)))
    };
    let new: Vec<&Arc<Pod>> = pods.iter().copied().filter(current).collect();
    let total = i32::try_from(pods.len()).unwrap_or(i32::MAX);
    let updated = i32::try_from(new.len()).unwrap_or(i32::MAX);
    let progress = RolloutProgress {
        target: label.to_string(),
        desired: total.max(1),
        updated,
        ready: i32::try_from(new.iter().filter(|p| is_ready(p, container)).count())
            .unwrap_or(i32::MAX),
        total,
        message: String::new(),
    };
    judge_pods(&new, container, want, total.max(1), progress, |p| {
        p.updated == p.total && p.total > 0
    })
}

fn is(ns: Option<&str>, name: Option<&str>, t: &Target) -> bool {
    ns == Some(t.namespace.as_str()) && name == Some(t.name.as_str())
}

fn owned_by(
    refs: &Option<Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference>>,
    kind: &str,
    name: &str,
    uid: Option<&str>,
) -> bool {
    refs.iter().flatten().any(|r| match uid {
        Some(uid) => r.uid == uid,
        None => r.kind == kind && r.name == name,
    })
}

fn container_status<'a>(pod: &'a Pod, name: &str) -> Option<&'a ContainerStatus> {
    let status = pod.status.as_ref()?;
    status
        .container_statuses
        .iter()
        .flatten()
        .chain(status.init_container_statuses.iter().flatten())
        .find(|s| s.name == name)
}

fn is_ready(pod: &Pod, container: &str) -> bool {
    container_status(pod, container).is_some_and(|s| s.ready)
}

/// The ReplicaSet runs the deployment's current template: the whole pod spec when it matches
/// exactly, else at least the same image and pull policy for our container.
fn same_template(rs: &ReplicaSet, template: &PodSpec, container: &str, want: &Container) -> bool {
    let Some(spec) = rs
        .spec
        .as_ref()
        .and_then(|s| s.template.as_ref())
        .and_then(|t| t.spec.as_ref())
    else {
        return false;
    };
    if spec == template {
        return true;
    }
    crate::k8s::container(spec, container)
        .is_some_and(|c| c.image == want.image && c.image_pull_policy == want.image_pull_policy)
}

/// Status images are normalised by the runtime (`docker.io/library/nginx:1.27`); specs are not.
fn same_image(status_image: &str, spec_image: &str) -> bool {
    if status_image == spec_image {
        return true;
    }
    match (
        crate::imageref::ImageRef::parse(status_image),
        crate::imageref::ImageRef::parse(spec_image),
    ) {
        (Ok(a), Ok(b)) => a.kubelet_form() == b.kubelet_form(),
        _ => false,
    }
}

/// Used by the tests and the dashboard: the deployment a target names, if any.
pub fn find_deployment<'a>(snap: &'a Snapshot, t: &Target) -> Option<&'a Arc<Deployment>> {
    snap.deployments.iter().find(|d| {
        is(
            d.metadata.namespace.as_deref(),
            d.metadata.name.as_deref(),
            t,
        )
    })
}

#[cfg(test)]
#[path = "rollout_tests.rs"]
mod tests;
