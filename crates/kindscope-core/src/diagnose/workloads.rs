//! Which containers to judge, and which pods speak for each of them.
//!
//! A Deployment's pods are found through its ReplicaSets (ownerReferences, or the
//! `pod-template-hash` label when a pod's ReplicaSet is not in the snapshot). Only pods of the
//! newest ReplicaSet count, and only when their container still has the template's image and
//! pull policy, so an old pod never speaks for a template that has since been fixed. Pods of
//! other controllers are grouped by their controller (`StatefulSet/db`); bare pods stand alone
//! (`Pod/x`).

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Container, ContainerStatus, Pod, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use k8s_openapi::jiff::Timestamp;

use super::index::{FastMap, NodeIndex};
use crate::imageref::ImageRef;
pub(crate) use crate::k8s::containers;
use crate::k8s::{
    PullPolicy, controller_ref, deployment_from_rs_name, effective_pull_policy as effective_policy,
    namespace as ns, template_hash,
};
use crate::model::Snapshot;
use crate::workload::{WorkloadKind, WorkloadRef};

/// Kubelet waiting reasons that mean "this container's image could not be had".
pub(crate) const IMAGE_REASONS: [&str; 4] = [
    "ErrImageNeverPull",
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
];
/// Waiting reasons the kubelet sets only after `EnsureImageExists` succeeded (kuberuntime's
/// `startContainer`: config, create, hooks, start; and the restart back-off): the image question
/// is settled for these (docs/findings.md, "Not started yet").
const AFTER_IMAGE_REASONS: [&str; 7] = [
    "CreateContainerConfigError",
    "PreCreateHookError",
    "CreateContainerError",
    "PreStartHookError",
    "PostStartHookError",
    "RunContainerError",
    "CrashLoopBackOff",
];
const REVISION: &str = "deployment.kubernetes.io/revision";

/// The object that owns a container's definition.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Owner {
    Deployment,
    /// A bare pod: its own spec is the definition.
    Pod,
    /// StatefulSet, DaemonSet, Job, a bare ReplicaSet …: known only through its pods.
    Controller,
}

/// One failing pod of a subject.
#[derive(Debug, Clone)]
pub(crate) struct FailingPod<'a> {
    pub name: &'a str,
    pub node: Option<&'a str>,
    pub reason: &'a str,
    pub message: Option<&'a str>,
    /// Not reported by the kubelet yet, but certain from what the node holds (see [`Fate::Certain`]).
    pub predicted: bool,
}

/// One container of one workload, with the pods that tell how it fares.
#[derive(Debug, Clone)]
pub(crate) struct Subject<'a> {
    pub namespace: &'a str,
    pub workload: WorkloadRef,
    pub owner: Owner,
    pub container: &'a str,
    pub init: bool,
    pub image: &'a str,
    /// The pull policy in effect: the field, or the apiserver's default for the image.
    pub policy: &'a str,
    /// The spec pods are created from (Deployment template, or a failing pod's spec).
    pub spec: Option<&'a PodSpec>,
    pub failing: Vec<FailingPod<'a>>,
    /// Some relevant pod runs (or ran) this container: the image was found.
    pub healthy: bool,
    /// Pods are expected (a Deployment with replicas ≠ 0), so a certain failure matters even
    /// before any pod exists.
    pub expects_pods: bool,
    /// Deployment only: desired replicas, and how many pods of the newest revision exist.
    pub replicas: i32,
    pub pod_count: usize,
    /// Deployment only: when the newest revision (its ReplicaSet, else the Deployment) was made.
    pub since: Option<Timestamp>,
    /// Deployment only: the controller has not observed the latest spec (`metadata.generation`
    /// ahead of `status.observedGeneration`), so the pods of that spec do not exist yet.
    pub unobserved: bool,
}

impl Subject<'_> {
    pub fn kind_and_name(&self) -> (&str, &str) {
        (self.workload.kind_str(), self.workload.name())
    }
}

fn in_scope(snap: &Snapshot, meta: &ObjectMeta) -> bool {
    snap.namespace.as_deref().is_none_or(|n| n == ns(meta))
}

fn status_of<'p>(pod: &'p Pod, name: &str, init: bool) -> Option<&'p ContainerStatus> {
    let st = pod.status.as_ref()?;
    let list = if init {
        st.init_container_statuses.as_deref()
    } else {
        st.container_statuses.as_deref()
    };
    list?.iter().find(|s| s.name == name)
}

/// How a pod's container fares: failing with an image reason, certain to fail, past the image
/// step (healthy as far as images go), or not started yet.
pub(crate) enum Fate<'p> {
    Failing(&'p str, Option<&'p str>),
    /// Not started, but the kubelet's answer is already certain from what its node holds: the
    /// reference does not parse (`InvalidImageName`), or the policy is `Never` and the node's
    /// complete image list lacks the exact name (`ErrImageNeverPull`, image_manager.go).
    Certain(&'static str),
    Healthy,
    /// Not started yet: the kubelet's waiting reason, when it reported one.
    Pending(Option<&'p str>),
}

/// One container of a pod spec, as the kubelet will judge it.
#[derive(Clone, Copy)]
pub(crate) struct Want<'a> {
    pub name: &'a str,
    pub init: bool,
    pub image: &'a str,
    pub policy: &'a str,
}

impl<'a> Want<'a> {
    /// A container of a pod spec, with the pull policy in effect.
    pub fn of(c: &'a Container, init: bool) -> Self {
        Want {
            name: &c.name,
            init,
            image: c.image.as_deref().unwrap_or(""),
            policy: effective_policy(c),
        }
    }
}

pub(crate) fn fate<'p>(pod: &'p Pod, c: Want<'_>, ix: &NodeIndex<'_>) -> Fate<'p> {
    let s = status_of(pod, c.name, c.init);
    let state = s.and_then(|s| s.state.as_ref());
    let reason = state
        .and_then(|st| st.waiting.as_ref())
        .and_then(|w| w.reason.as_deref());
    if let (Some(r), Some(w)) = (reason, state.and_then(|st| st.waiting.as_ref()))
        && IMAGE_REASONS.contains(&r)
    {
        return Fate::Failing(r, w.message.as_deref());
    }
    if s.is_some_and(ran) || reason.is_some_and(|r| AFTER_IMAGE_REASONS.contains(&r)) {
        return Fate::Healthy;
    }
    match certain(pod, c, ix) {
        Some(r) => Fate::Certain(r),
        None => Fate::Pending(reason),
    }
}

/// The container runs, ran, or is running again after a restart: its image was found.
fn ran(s: &ContainerStatus) -> bool {
    let state = s.state.as_ref();
    state.is_some_and(|st| st.running.is_some() || st.terminated.is_some())
        || s.ready
        || s.last_state
            .as_ref()
            .is_some_and(|l| l.running.is_some() || l.terminated.is_some())
}

fn certain(pod: &Pod, c: Want<'_>, ix: &NodeIndex<'_>) -> Option<&'static str> {
    let node = pod.spec.as_ref()?.node_name.as_deref()?;
    let i = ix.node_index(node)?;
    match ImageRef::parse(c.image) {
        Err(_) => Some("InvalidImageName"),
        // Only on a list that is complete and current: with the runtime failed, the API's list
        // may not show an image loaded seconds ago, and a wrong prediction has no kubelet to
        // correct it.
        Ok(r)
            if c.policy == "Never"
                && !ix.nodes[i].incomplete
                && !ix.nodes[i].runtime_failed
                && !ix.holders(&r).contains(i) =>
        {
            Some("ErrImageNeverPull")
        }
        Ok(_) => None,
    }
}

/// Is some container of this pod possibly not started yet? Cheap: statuses only, so the
/// thousands of running pods cost one pass over their statuses.
fn maybe_unstarted(pod: &Pod) -> bool {
    let Some(spec) = pod.spec.as_ref() else {
        return false;
    };
    if matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    ) {
        return false;
    }
    containers(spec).any(|(c, init)| status_of(pod, &c.name, init).is_none_or(|s| !ran(s)))
}

/// A pod of some workload with a container that may not have started.
pub(crate) struct Unstarted<'a> {
    pub namespace: &'a str,
    pub workload: WorkloadRef,
    pub pod: &'a Pod,
}

/// What [`collect`] found: the subjects to judge, and the pods that may still be starting.
pub(crate) struct Collected<'a> {
    pub subjects: Vec<Subject<'a>>,
    pub unstarted: Vec<Unstarted<'a>>,
}

fn revision_key(rs: &ReplicaSet) -> (Option<u64>, Option<Timestamp>) {
    let rev = rs
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(REVISION))
        .and_then(|v| v.parse().ok());
    (rev, rs.metadata.creation_timestamp.as_ref().map(|t| t.0))
}

/// Every subject in the snapshot, in no particular order.
///
/// With `unstarted`, also the pods that may still be starting (for [`super::pending`]).
pub(crate) fn collect<'a>(
    snap: &'a Snapshot,
    ix: &NodeIndex<'_>,
    unstarted: bool,
) -> Collected<'a> {
    let mut starting: Vec<Unstarted<'a>> = Vec::new();
    // Deployments by uid and by (namespace, name).
    let mut dep_by_uid: FastMap<&str, usize> = FastMap::default();
    let mut dep_by_name: FastMap<(&str, &str), usize> = FastMap::default();
    let deps: Vec<&Deployment> = snap
        .deployments
        .iter()
        .map(|d| &**d)
        .filter(|d| in_scope(snap, &d.metadata))
        .collect();
    for (i, d) in deps.iter().enumerate() {
        if let Some(uid) = d.metadata.uid.as_deref() {
            dep_by_uid.insert(uid, i);
        }
        if let Some(name) = d.metadata.name.as_deref() {
            dep_by_name.insert((ns(&d.metadata), name), i);
        }
    }
    let find_dep = |namespace: &str, r: &OwnerReference| -> Option<usize> {
        if r.kind != "Deployment" {
            return None;
        }
        if !r.uid.is_empty() {
            return dep_by_uid.get(r.uid.as_str()).copied();
        }
        dep_by_name.get(&(namespace, r.name.as_str())).copied()
    };

    // ReplicaSets owned by those Deployments, and the newest revision of each Deployment.
    struct RsInfo {
        dep: Option<usize>,
        key: (Option<u64>, Option<Timestamp>),
    }
    let mut rs_by_uid: FastMap<&str, usize> = FastMap::default();
    let mut rs_by_name: FastMap<(&str, &str), usize> = FastMap::default();
    let mut rs_by_hash: FastMap<(&str, &str), usize> = FastMap::default();
    let mut rs_info: Vec<RsInfo> = Vec::new();
    let mut newest: Vec<Option<(Option<u64>, Option<Timestamp>)>> = vec![None; deps.len()];
    for rs in snap
        .replicasets
        .iter()
        .filter(|r| in_scope(snap, &r.metadata))
    {
        let namespace = ns(&rs.metadata);
        let dep = controller_ref(&rs.metadata).and_then(|r| find_dep(namespace, r));
        let key = revision_key(rs);
        if let Some(d) = dep
            && newest[d].is_none_or(|n| key > n)
        {
            newest[d] = Some(key);
        }
        let i = rs_info.len();
        rs_info.push(RsInfo { dep, key });
        if let Some(uid) = rs.metadata.uid.as_deref() {
            rs_by_uid.insert(uid, i);
        }
        if let Some(name) = rs.metadata.name.as_deref() {
            rs_by_name.insert((namespace, name), i);
        }
        if let Some(h) = template_hash(&rs.metadata) {
            rs_by_hash.insert((namespace, h), i);
        }
    }

    // Sort pods into Deployment buckets and other-workload buckets.
    let mut dep_pods: Vec<Vec<&Pod>> = vec![Vec::new(); deps.len()];
    let mut other: BTreeMap<(&str, WorkloadRef), (Owner, Vec<&Pod>)> = BTreeMap::new();
    for pod in snap.pods.iter().map(|p| &**p) {
        let meta = &pod.metadata;
        if !in_scope(snap, meta) || meta.deletion_timestamp.is_some() {
            continue;
        }
        let namespace = ns(meta);
        let owner = controller_ref(meta);
        let rs = match owner {
            Some(r) if r.kind == "ReplicaSet" => if r.uid.is_empty() {
                rs_by_name.get(&(namespace, r.name.as_str()))
            } else {
                rs_by_uid.get(r.uid.as_str())
            }
            .copied(),
            Some(_) => None,
            None => template_hash(meta).and_then(|h| rs_by_hash.get(&(namespace, h)).copied()),
        };
        let dep = match rs {
            Some(i) => rs_info[i]
                .dep
                .filter(|&d| newest[d].is_none_or(|n| rs_info[i].key == n)),
            // The ReplicaSet is not in the snapshot: Deployment `x` names it `x-HASH`.
            None => owner
                .filter(|r| r.kind == "ReplicaSet")
                .and_then(|r| deployment_from_rs_name(&r.name, template_hash(meta)))
                .and_then(|n| dep_by_name.get(&(namespace, n)).copied()),
        };
        let older = rs.and_then(|i| rs_info[i].dep);
        if let Some(d) = dep.or(older) {
            if unstarted && maybe_unstarted(pod) {
                let name = deps[d].metadata.name.as_deref().unwrap_or("");
                starting.push(Unstarted {
                    namespace,
                    workload: WorkloadRef::new(WorkloadKind::Deployment, name),
                    pod,
                });
            }
            // A pod of an older revision of a known Deployment never speaks for it.
            if dep.is_some() {
                dep_pods[d].push(pod);
            }
            continue;
        }
        let (workload, kind) = match owner {
            Some(r) => (
                WorkloadRef::new(r.kind.as_str(), r.name.as_str()),
                Owner::Controller,
            ),
            None => (
                WorkloadRef::new(WorkloadKind::Pod, meta.name.as_deref().unwrap_or("")),
                Owner::Pod,
            ),
        };
        if unstarted && maybe_unstarted(pod) {
            starting.push(Unstarted {
                namespace,
                workload: workload.clone(),
                pod,
            });
        }
        other
            .entry((namespace, workload))
            .or_insert_with(|| (kind, Vec::new()))
            .1
            .push(pod);
    }

    let mut out = Vec::new();
    for (d, dep) in deps.iter().enumerate() {
        let Some(spec) = dep.spec.as_ref().and_then(|s| s.template.spec.as_ref()) else {
            continue;
        };
        let workload = WorkloadRef::new(
            WorkloadKind::Deployment,
            dep.metadata.name.as_deref().unwrap_or(""),
        );
        let replicas = dep.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
        let expects_pods = replicas != 0;
        let observed = dep.status.as_ref().and_then(|s| s.observed_generation);
        let unobserved = match (dep.metadata.generation, observed) {
            (Some(g), Some(o)) => g > o,
            (Some(_), None) => true,
            (None, _) => false,
        };
        let since = newest[d]
            .and_then(|k| k.1)
            .or_else(|| dep.metadata.creation_timestamp.as_ref().map(|t| t.0));
        let start = out.len();
        for (c, init) in containers(spec) {
            out.push(Subject {
                namespace: ns(&dep.metadata),
                workload: workload.clone(),
                owner: Owner::Deployment,
                container: &c.name,
                init,
                image: c.image.as_deref().unwrap_or(""),
                policy: effective_policy(c),
                spec: Some(spec),
                failing: Vec::new(),
                healthy: false,
                expects_pods,
                replicas,
                pod_count: dep_pods[d].len(),
                since,
                unobserved,
            });
        }
        let subjects = &mut out[start..];
        // Every pod matters for a `Never` container (health for the before-pods check, and a
        // certain failure once scheduled) or an unparsable image (certain once scheduled);
        // otherwise only failing statuses do (fast path for the thousands of healthy pods).
        let watch: Vec<bool> = subjects
            .iter()
            .map(|s| s.policy == "Never" || ImageRef::parse(s.image).is_err())
            .collect();
        for pod in &dep_pods[d] {
            for (subject, &watch) in subjects.iter_mut().zip(&watch) {
                if (watch || failing_status(pod, subject.container, subject.init))
                    && same_container(pod, subject)
                {
                    judge(subject, pod, ix);
                }
            }
        }
    }
    for ((namespace, workload), (owner, pods)) in other {
        out.extend(other_subjects(namespace, &workload, owner, &pods, ix));
    }
    Collected {
        subjects: out,
        unstarted: starting,
    }
}

/// The container's status waits with an image reason.
fn failing_status(pod: &Pod, name: &str, init: bool) -> bool {
    status_of(pod, name, init)
        .and_then(|s| s.state.as_ref())
        .and_then(|s| s.waiting.as_ref())
        .and_then(|w| w.reason.as_deref())
        .is_some_and(|r| IMAGE_REASONS.contains(&r))
}

/// The pod still has the template's image and pull policy for this container.
fn same_container(pod: &Pod, s: &Subject<'_>) -> bool {
    pod.spec.as_ref().is_some_and(|ps| {
        containers(ps).any(|(pc, init)| {
            init == s.init
                && pc.name == s.container
                && pc.image.as_deref().unwrap_or("") == s.image
                && effective_policy(pc) == s.policy
        })
    })
}

fn judge<'a>(subject: &mut Subject<'a>, pod: &'a Pod, ix: &NodeIndex<'_>) {
    let want = Want {
        name: subject.container,
        init: subject.init,
        image: subject.image,
        policy: subject.policy,
    };
    let failing = |reason, message, predicted| FailingPod {
        name: pod.metadata.name.as_deref().unwrap_or(""),
        node: pod.spec.as_ref().and_then(|s| s.node_name.as_deref()),
        reason,
        message,
        predicted,
    };
    match fate(pod, want, ix) {
        Fate::Failing(reason, message) => subject.failing.push(failing(reason, message, false)),
        Fate::Certain(reason) => subject.failing.push(failing(reason, None, true)),
        Fate::Healthy => subject.healthy = true,
        Fate::Pending(_) => {}
    }
}

/// Subjects of a workload known only through its pods: one per container that fails in some
/// pod. When pods disagree on the image (a rollout in progress), the image most failing pods
/// ask for is judged.
fn other_subjects<'a>(
    namespace: &'a str,
    workload: &WorkloadRef,
    owner: Owner,
    pods: &[&'a Pod],
    ix: &NodeIndex<'_>,
) -> Vec<Subject<'a>> {
    // (init, container) → image → failing pods
    let mut by_container: BTreeMap<(bool, &str), BTreeMap<&str, Vec<&'a Pod>>> = BTreeMap::new();
    for pod in pods {
        let Some(spec) = pod.spec.as_ref() else {
            continue;
        };
        for (c, init) in containers(spec) {
            if matches!(
                fate(pod, Want::of(c, init), ix),
                Fate::Failing(..) | Fate::Certain(_)
            ) {
                by_container
                    .entry((init, c.name.as_str()))
                    .or_default()
                    .entry(c.image.as_deref().unwrap_or(""))
                    .or_default()
                    .push(pod);
            }
        }
    }
    let mut out = Vec::new();
    for ((init, name), images) in by_container {
        let Some((image, failing)) = images
            .into_iter()
            .max_by(|a, b| a.1.len().cmp(&b.1.len()).then(b.0.cmp(a.0)))
        else {
            continue;
        };
        let spec = failing[0].spec.as_ref();
        let policy = spec
            .and_then(|s| containers(s).find(|(c, i)| *i == init && c.name == name))
            .map_or_else(
                || PullPolicy::default_for(image).as_str(),
                |(c, _)| effective_policy(c),
            );
        let mut subject = Subject {
            namespace,
            workload: workload.clone(),
            owner,
            container: name,
            init,
            image,
            policy,
            spec,
            failing: Vec::new(),
            healthy: false,
            expects_pods: false,
            replicas: 0,
            pod_count: 0,
            since: None,
            unobserved: false,
        };
        for pod in failing {
            judge(&mut subject, pod, ix);
        }
        out.push(subject);
    }
    out
}
