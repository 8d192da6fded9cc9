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

use super::index::FastMap;
use crate::imageref::default_pull_policy;
use crate::model::Snapshot;

/// Kubelet waiting reasons that mean "this container's image could not be had".
pub(crate) const IMAGE_REASONS: [&str; 4] = [
    "ErrImageNeverPull",
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
];
const REVISION: &str = "deployment.kubernetes.io/revision";
const TEMPLATE_HASH: &str = "pod-template-hash";

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
}

/// One container of one workload, with the pods that tell how it fares.
#[derive(Debug, Clone)]
pub(crate) struct Subject<'a> {
    pub namespace: &'a str,
    /// `Kind/name`
    pub workload: String,
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
}

impl Subject<'_> {
    pub fn kind_and_name(&self) -> (&str, &str) {
        self.workload
            .split_once('/')
            .unwrap_or(("Pod", &self.workload))
    }
}

fn effective_policy(c: &Container) -> &str {
    match c.image_pull_policy.as_deref() {
        Some(p) if !p.is_empty() => p,
        _ => default_pull_policy(c.image.as_deref().unwrap_or("")),
    }
}

fn controller_ref(meta: &ObjectMeta) -> Option<&OwnerReference> {
    let refs = meta.owner_references.as_deref()?;
    refs.iter()
        .find(|r| r.controller == Some(true))
        .or_else(|| refs.first())
}

fn ns(meta: &ObjectMeta) -> &str {
    meta.namespace.as_deref().unwrap_or("default")
}

fn in_scope(snap: &Snapshot, meta: &ObjectMeta) -> bool {
    snap.namespace.as_deref().is_none_or(|n| n == ns(meta))
}

/// Init containers first (flagged `true`), then the containers.
pub(crate) fn containers(spec: &PodSpec) -> impl Iterator<Item = (&Container, bool)> {
    spec.init_containers
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .map(|c| (c, true))
        .chain(spec.containers.iter().map(|c| (c, false)))
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

/// How a pod's container fares: failing with an image reason, healthy (the image was there),
/// or unknown (not started yet, or waiting for something else).
enum Fate<'p> {
    Failing(&'p str, Option<&'p str>),
    Healthy,
    Unknown,
}

fn fate<'p>(pod: &'p Pod, name: &str, init: bool) -> Fate<'p> {
    let Some(s) = status_of(pod, name, init) else {
        return Fate::Unknown;
    };
    let state = s.state.as_ref();
    if let Some(w) = state.and_then(|st| st.waiting.as_ref())
        && let Some(reason) = w.reason.as_deref()
        && IMAGE_REASONS.contains(&reason)
    {
        return Fate::Failing(reason, w.message.as_deref());
    }
    let ran = state.is_some_and(|st| st.running.is_some() || st.terminated.is_some())
        || s.ready
        || s.last_state
            .as_ref()
            .is_some_and(|l| l.running.is_some() || l.terminated.is_some());
    if ran { Fate::Healthy } else { Fate::Unknown }
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
pub(crate) fn collect(snap: &Snapshot) -> Vec<Subject<'_>> {
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
        if let Some(h) = rs
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(TEMPLATE_HASH))
        {
            rs_by_hash.insert((namespace, h.as_str()), i);
        }
    }

    // Sort pods into Deployment buckets and other-workload buckets.
    let mut dep_pods: Vec<Vec<&Pod>> = vec![Vec::new(); deps.len()];
    let mut other: BTreeMap<(&str, String), (Owner, Vec<&Pod>)> = BTreeMap::new();
    for pod in snap.pods.iter().map(|p| &**p) {
        let meta = &pod.metadata;
        if !in_scope(snap, meta) || meta.deletion_timestamp.is_some() {
            continue;
        }
        let namespace = ns(meta);
        let owner = controller_ref(meta);
        let hash = || meta.labels.as_ref().and_then(|l| l.get(TEMPLATE_HASH));
        let rs = match owner {
            Some(r) if r.kind == "ReplicaSet" => if r.uid.is_empty() {
                rs_by_name.get(&(namespace, r.name.as_str()))
            } else {
                rs_by_uid.get(r.uid.as_str())
            }
            .copied(),
            Some(_) => None,
            None => hash().and_then(|h| rs_by_hash.get(&(namespace, h.as_str())).copied()),
        };
        let dep = match rs {
            Some(i) => rs_info[i]
                .dep
                .filter(|&d| newest[d].is_none_or(|n| rs_info[i].key == n)),
            // The ReplicaSet is not in the snapshot: Deployment `x` names it `x-HASH`.
            None => match (owner, hash()) {
                (Some(r), Some(h)) if r.kind == "ReplicaSet" => r
                    .name
                    .strip_suffix(h.as_str())
                    .and_then(|n| n.strip_suffix('-'))
                    .and_then(|n| dep_by_name.get(&(namespace, n)).copied()),
                _ => None,
            },
        };
        if let Some(d) = dep {
            dep_pods[d].push(pod);
            continue;
        }
        if rs.is_some_and(|i| rs_info[i].dep.is_some()) {
            continue; // a pod of an older revision of a known Deployment
        }
        let (workload, kind) = match owner {
            Some(r) => (format!("{}/{}", r.kind, r.name), Owner::Controller),
            None => (
                format!("Pod/{}", meta.name.as_deref().unwrap_or("")),
                Owner::Pod,
            ),
        };
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
        let workload = format!("Deployment/{}", dep.metadata.name.as_deref().unwrap_or(""));
        let expects_pods = dep.spec.as_ref().and_then(|s| s.replicas) != Some(0);
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
            });
        }
        let subjects = &mut out[start..];
        // Health only matters for the Never-before-pods check; skip it otherwise (fast path
        // for the thousands of healthy pods).
        let watch_health = subjects.iter().any(|s| s.policy == "Never");
        for pod in &dep_pods[d] {
            let Some(st) = pod.status.as_ref() else {
                continue;
            };
            let lists = [
                (true, st.init_container_statuses.as_deref()),
                (false, st.container_statuses.as_deref()),
            ];
            for (init, list) in lists {
                for cs in list.unwrap_or(&[]) {
                    let failing = cs
                        .state
                        .as_ref()
                        .and_then(|s| s.waiting.as_ref())
                        .and_then(|w| w.reason.as_deref())
                        .is_some_and(|r| IMAGE_REASONS.contains(&r));
                    if !failing && !watch_health {
                        continue;
                    }
                    let Some(subject) = subjects
                        .iter_mut()
                        .find(|s| s.init == init && s.container == cs.name)
                    else {
                        continue;
                    };
                    if (failing || subject.policy == "Never") && same_container(pod, subject) {
                        judge(subject, pod);
                    }
                }
            }
        }
    }
    for ((namespace, workload), (owner, pods)) in other {
        out.extend(other_subjects(namespace, &workload, owner, &pods));
    }
    out
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

fn judge<'a>(subject: &mut Subject<'a>, pod: &'a Pod) {
    match fate(pod, subject.container, subject.init) {
        Fate::Failing(reason, message) => subject.failing.push(FailingPod {
            name: pod.metadata.name.as_deref().unwrap_or(""),
            node: pod.spec.as_ref().and_then(|s| s.node_name.as_deref()),
            reason,
            message,
        }),
        Fate::Healthy => subject.healthy = true,
        Fate::Unknown => {}
    }
}

/// Subjects of a workload known only through its pods: one per container that fails in some
/// pod. When pods disagree on the image (a rollout in progress), the image most failing pods
/// ask for is judged.
fn other_subjects<'a>(
    namespace: &'a str,
    workload: &str,
    owner: Owner,
    pods: &[&'a Pod],
) -> Vec<Subject<'a>> {
    // (init, container) → image → failing pods
    let mut by_container: BTreeMap<(bool, &str), BTreeMap<&str, Vec<&'a Pod>>> = BTreeMap::new();
    for pod in pods {
        let Some(spec) = pod.spec.as_ref() else {
            continue;
        };
        for (c, init) in containers(spec) {
            if matches!(fate(pod, &c.name, init), Fate::Failing(..)) {
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
            .map_or_else(|| default_pull_policy(image), |(c, _)| effective_policy(c));
        let mut subject = Subject {
            namespace,
            workload: workload.to_string(),
            owner,
            container: name,
            init,
            image,
            policy,
            spec,
            failing: Vec::new(),
            healthy: false,
            expects_pods: false,
        };
        for pod in failing {
            judge(&mut subject, pod);
        }
        out.push(subject);
    }
    out
}
