//! View models: the rows each pane shows, derived from a snapshot and its findings.
//!
//! Built once per snapshot (or namespace/filter change), never per frame; drawing only reads
//! them and touches the visible rows.

use std::collections::HashMap;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{ContainerStatus, Event, Pod};

use crate::diagnose::Finding;
use crate::imageref;
use crate::k8s::{self, PullPolicy};
use crate::model::{RuntimeListing, Snapshot};
use crate::tui::system::{self, is_kind_base_image as is_kind_image, is_kind_namespace};
use crate::workload::{WorkloadKind, WorkloadRef};

/// A Deployment, by namespace and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WorkloadKey {
    pub namespace: String,
    pub name: String,
}

impl WorkloadKey {
    /// The `Kind/name` form findings use.
    pub fn finding_name(&self) -> WorkloadRef {
        WorkloadRef::new(WorkloadKind::Deployment, &self.name)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeRow {
    Node {
        name: String,
        images: usize,
        /// Who listed the images: the runtime (`podman`, `docker`) or `API`.
        source: String,
        /// The API list is capped at 50 and no runtime list filled it.
        maybe_incomplete: bool,
        runtime_error: Option<String>,
        /// Kind's base images on this node not shown (folded).
        folded: usize,
    },
    /// A warning under a node header (capped API list, failed runtime listing).
    Note { text: String },
    Image {
        node: String,
        name: String,
        size_bytes: u64,
        runtime: bool,
        api: bool,
        /// Parsed once for matching against workloads (None = unparsable).
        parsed: Option<imageref::ImageRef>,
    },
}

impl NodeRow {
    fn text(&self) -> &str {
        match self {
            NodeRow::Node { name, .. } => name,
            NodeRow::Note { text } => text,
            NodeRow::Image { name, .. } => name,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PodRow {
    pub namespace: String,
    pub name: String,
    /// Phase, or `Terminating`.
    pub phase: String,
    /// First waiting reason of any container (init containers first).
    pub reason: Option<String>,
    pub reason_is_error: bool,
    pub restarts: i32,
    pub node: String,
    /// Creation time, epoch seconds.
    pub created: Option<i64>,
    pub workload: Option<WorkloadKey>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    pub type_: String,
    pub reason: String,
    pub count: i32,
    /// Last seen, epoch seconds.
    pub last: Option<i64>,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum WorkloadRow {
    Deployment {
        key: WorkloadKey,
        desired: i32,
        ready: i32,
        updated: i32,
        available: i32,
        findings: usize,
        /// The first error waiting reason among its pods (`ErrImageNeverPull`), if any.
        waiting: Option<String>,
    },
    Container {
        key: WorkloadKey,
        name: String,
        init: bool,
        image: String,
        /// The policy in the spec (None = absent, the apiserver default applies).
        policy: Option<String>,
        /// The policy equals the apiserver's default for this image.
        defaulted: bool,
        /// Index into `View::findings` of this container's first finding.
        finding: Option<usize>,
    },
}

impl WorkloadRow {
    pub fn key(&self) -> &WorkloadKey {
        match self {
            WorkloadRow::Deployment { key, .. } | WorkloadRow::Container { key, .. } => key,
        }
    }
}

/// Everything the panes show, filtered by namespace and filter text.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct View {
    pub findings: Vec<Finding>,
    pub nodes: Vec<NodeRow>,
    pub pods: Vec<PodRow>,
    pub workloads: Vec<WorkloadRow>,
    /// (namespace, pod name) → events, newest first. The dashboard keeps only the selected
    /// pod's here ([`super::view_cache`]): building every pod's event text per change was most
    /// of the cost of an update at scale.
    pub events: HashMap<(String, String), Vec<EventRow>>,
    /// Namespaces seen in the snapshot (pods and deployments), sorted.
    pub namespaces: Vec<String>,
    /// What folding hides: Kind's own pods, Deployments and base images.
    pub folded: Folded,
}

/// Counts of the rows folding hides (shown in the pane titles, so nothing vanishes silently).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Folded {
    pub pods: usize,
    pub deployments: usize,
    pub images: usize,
}

pub(crate) fn matches_filter(filter: &str, texts: &[&str]) -> bool {
    filter.is_empty() || texts.iter().any(|t| t.to_lowercase().contains(filter))
}

pub(crate) fn in_namespace(ns: &Option<String>, candidate: &str) -> bool {
    ns.as_deref().is_none_or(|n| n == candidate)
}

/// Build the view. `filter` is matched case-insensitively against names, images and reasons.
/// Unless `show_system`, Kind's own namespaces and base images are folded away, except what a
/// finding is about (and a Kind namespace chosen explicitly).
pub fn build(
    snap: &Snapshot,
    all_findings: &[Finding],
    namespace: &Option<String>,
    filter: &str,
    show_system: bool,
) -> View {
    let filter = filter.to_lowercase();
    let findings: Vec<Finding> = all_findings
        .iter()
        .filter(|f| in_namespace(namespace, &f.namespace))
        .cloned()
        .collect();
    let mut namespaces: Vec<String> = snap
        .pods
        .iter()
        .filter_map(|p| p.metadata.namespace.clone())
        .chain(
            snap.deployments
                .iter()
                .filter_map(|d| d.metadata.namespace.clone()),
        )
        .collect();
    namespaces.sort();
    namespaces.dedup();

    // Every pod of the namespace once: the workloads show their pods' error reasons whatever
    // the filter hides.
    let mut pods = pod_rows(snap, namespace, "");
    let mut waiting: HashMap<WorkloadKey, String> = HashMap::new();
    for p in pods.iter().filter(|p| p.reason_is_error) {
        if let (Some(key), Some(reason)) = (&p.workload, &p.reason) {
            waiting.entry(key.clone()).or_insert_with(|| reason.clone());
        }
    }
    if !filter.is_empty() {
        pods.retain(|p| pod_matches(&filter, p));
    }
    let (workloads, folded_deployments) =
        system::workload_pane(snap, &findings, namespace, &filter, &waiting, show_system);
    let nodes = node_rows(snap, &filter, &findings, show_system);
    let fold = system::PodFold::new(&findings, namespace, show_system);
    let before = pods.len();
    pods.retain(|p| !fold.folds(p));
    let folded = Folded {
        pods: before - pods.len(),
        deployments: folded_deployments,
        images: system::folded_images(&nodes),
    };
    View {
        nodes,
        pods,
        workloads,
        // Event text is built for the selected pod only (`view_cache`); `event_rows` builds all.
        events: HashMap::new(),
        namespaces,
        findings,
        folded,
    }
}

/// Control-plane nodes, when there are others: Kind runs workloads on the workers.
fn control_plane_nodes(snap: &Snapshot) -> std::collections::HashSet<String> {
    let cp: std::collections::HashSet<String> = snap
        .nodes
        .iter()
        .filter(|n| {
            n.metadata
                .labels
                .as_ref()
                .is_some_and(|l| l.contains_key("node-role.kubernetes.io/control-plane"))
        })
        .filter_map(|n| n.metadata.name.clone())
        .collect();
    if cp.len() == snap.node_images.len() {
        std::collections::HashSet::new()
    } else {
        cp
    }
}

pub(crate) fn node_rows(
    snap: &Snapshot,
    filter: &str,
    findings: &[Finding],
    show_system: bool,
) -> Vec<NodeRow> {
    // Never fold an image a finding names (a suggestion, a candidate).
    let named: std::collections::HashSet<&str> = system::named_images(findings).collect();
    let mut rows = Vec::new();
    let control_plane = control_plane_nodes(snap);
    let mut nodes: Vec<(&String, &crate::model::NodeImages)> = snap.node_images.iter().collect();
    nodes.sort_by_key(|(name, _)| (control_plane.contains(*name), *name));
    for (node, list) in nodes {
        let (source, runtime_error) = match &list.runtime {
            RuntimeListing::Ok { runtime } => (runtime.clone(), None),
            RuntimeListing::Failed { runtime, reason } => {
                ("API".to_string(), Some(format!("{runtime}: {reason}")))
            }
            RuntimeListing::NotTried => ("API".to_string(), None),
        };
        let mut images = Vec::new();
        let mut folded = 0;
        for image in &list.images {
            if !show_system
                && image.names.iter().any(|n| is_kind_image(n))
                && !image.names.iter().any(|n| named.contains(n.as_str()))
            {
                folded += 1;
                continue;
            }
            // One row per tag name; digest-only images show their first name.
            let tags: Vec<&String> = image.names.iter().filter(|n| !n.contains('@')).collect();
            let names: Vec<&String> = if tags.is_empty() {
                image.names.iter().take(1).collect()
            } else {
                tags
            };
            for name in names {
                if !matches_filter(filter, &[name, node]) {
                    continue;
                }
                images.push(NodeRow::Image {
                    node: node.clone(),
                    name: name.clone(),
                    size_bytes: image.size_bytes,
                    runtime: image.sources.runtime,
                    api: image.sources.api,
                    parsed: imageref::ImageRef::parse(name).ok(),
                });
            }
        }
        images.sort_by(|a, b| {
            (is_kind_image(a.text()), a.text()).cmp(&(is_kind_image(b.text()), b.text()))
        });
        let maybe_incomplete = list.maybe_incomplete();
        rows.push(NodeRow::Node {
            name: node.clone(),
            images: list.images.len(),
            source,
            maybe_incomplete,
            runtime_error: runtime_error.clone(),
            folded,
        });
        if maybe_incomplete {
            rows.push(NodeRow::Note {
                text: format!(
                    "the API lists at most {} images: smaller ones may be missing",
                    crate::NODE_STATUS_MAX_IMAGES
                ),
            });
        }
        if let Some(e) = runtime_error {
            rows.push(NodeRow::Note {
                text: format!("runtime listing failed: {e}"),
            });
        }
        rows.extend(images);
    }
    rows
}

const BENIGN_WAITING: [&str; 2] = ["ContainerCreating", "PodInitializing"];

fn waiting_reason(statuses: Option<&Vec<ContainerStatus>>) -> Option<String> {
    statuses?
        .iter()
        .find_map(|s| s.state.as_ref()?.waiting.as_ref()?.reason.clone())
}

/// The Deployment owning a pod: pod → ReplicaSet → Deployment, falling back to the controller's
/// naming (`<deployment>-<pod-template-hash>`, the pod's label) when the ReplicaSet is not in
/// the snapshot, as the diagnosis does (`k8s::deployment_from_rs_name`).
pub(crate) fn pod_workload(
    pod: &Pod,
    rs_owner: &HashMap<(String, String), String>,
) -> Option<WorkloadKey> {
    let rs = owner_rs(pod)?;
    let name = match rs_owner.get(&rs) {
        Some(d) => d.clone(),
        None => k8s::deployment_from_rs_name(&rs.1, k8s::template_hash(&pod.metadata))?.to_string(),
    };
    Some(WorkloadKey {
        namespace: rs.0,
        name,
    })
}

/// The ReplicaSet a pod names as its owner: (the pod's namespace, the ReplicaSet's name).
pub(crate) fn owner_rs(pod: &Pod) -> Option<(String, String)> {
    let owner = k8s::owner_of_kind(&pod.metadata, "ReplicaSet")?;
    Some((
        pod.metadata.namespace.clone().unwrap_or_default(),
        owner.name.clone(),
    ))
}

/// ReplicaSet (namespace, name) → the name of the Deployment owning it.
pub(crate) fn rs_owner_map(snap: &Snapshot) -> HashMap<(String, String), String> {
    snap.replicasets
        .iter()
        .filter_map(|rs| rs_owner(rs))
        .collect()
}

/// One ReplicaSet's entry in [`rs_owner_map`].
pub(crate) fn rs_owner(rs: &ReplicaSet) -> Option<((String, String), String)> {
    let deploy = k8s::owner_of_kind(&rs.metadata, "Deployment")?;
    let name = rs.metadata.name.clone()?;
    let ns = rs.metadata.namespace.clone().unwrap_or_default();
    Some(((ns, name), deploy.name.clone()))
}

/// The row of one pod (whatever the namespace and filter).
pub(crate) fn pod_row(pod: &Pod, rs_owner: &HashMap<(String, String), String>) -> PodRow {
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    let name = pod.metadata.name.clone().unwrap_or_default();
    let status = pod.status.as_ref();
    let reason = waiting_reason(status.and_then(|s| s.init_container_statuses.as_ref()))
        .or_else(|| waiting_reason(status.and_then(|s| s.container_statuses.as_ref())));
    let node = pod
        .spec
        .as_ref()
        .and_then(|s| s.node_name.clone())
        .unwrap_or_default();
    let phase = if pod.metadata.deletion_timestamp.is_some() {
        "Terminating".to_string()
    } else {
        status
            .and_then(|s| s.phase.clone())
            .unwrap_or_else(|| "Unknown".to_string())
    };
    let restarts = status
        .and_then(|s| s.container_statuses.as_ref())
        .map(|cs| cs.iter().map(|c| c.restart_count).sum())
        .unwrap_or(0);
    PodRow {
        reason_is_error: reason
            .as_deref()
            .is_some_and(|r| !BENIGN_WAITING.contains(&r)),
        reason,
        phase,
        restarts,
        node,
        created: pod
            .metadata
            .creation_timestamp
            .as_ref()
            .map(|t| t.0.as_second()),
        workload: pod_workload(pod, rs_owner),
        namespace: ns,
        name,
    }
}

/// Does a pod row pass the (lower-case) filter?
pub(crate) fn pod_matches(filter: &str, p: &PodRow) -> bool {
    matches_filter(
        filter,
        &[
            &p.namespace,
            &p.name,
            p.reason.as_deref().unwrap_or(""),
            &p.node,
        ],
    )
}

/// Where a pod row sorts: the user's namespaces first, then Kind's, then by name.
pub(crate) fn pod_order(p: &PodRow) -> (bool, &str, &str) {
    (is_kind_namespace(&p.namespace), &p.namespace, &p.name)
}

fn pod_rows(snap: &Snapshot, namespace: &Option<String>, filter: &str) -> Vec<PodRow> {
    let rs_owner = rs_owner_map(snap);
    let mut rows: Vec<PodRow> = snap
        .pods
        .iter()
        .filter(|pod| in_namespace(namespace, pod.metadata.namespace.as_deref().unwrap_or("")))
        .map(|pod| pod_row(pod, &rs_owner))
        .filter(|row| pod_matches(filter, row))
        .collect();
    rows.sort_by(|a, b| pod_order(a).cmp(&pod_order(b)));
    rows
}

fn deployment_containers(d: &Deployment) -> Vec<(bool, &k8s_openapi::api::core::v1::Container)> {
    let Some(spec) = d.spec.as_ref().and_then(|s| s.template.spec.as_ref()) else {
        return Vec::new();
    };
    k8s::containers(spec).map(|(c, init)| (init, c)).collect()
}

pub(crate) fn workload_rows(
    snap: &Snapshot,
    findings: &[Finding],
    namespace: &Option<String>,
    filter: &str,
    waiting: &HashMap<WorkloadKey, String>,
) -> Vec<WorkloadRow> {
    let mut deployments: Vec<&Deployment> = snap
        .deployments
        .iter()
        .map(|d| d.as_ref())
        .filter(|d| in_namespace(namespace, d.metadata.namespace.as_deref().unwrap_or("")))
        .collect();
    let sort_key = |d: &Deployment| {
        let ns = d.metadata.namespace.clone().unwrap_or_default();
        (is_kind_namespace(&ns), ns, d.metadata.name.clone())
    };
    deployments.sort_by_key(|d| sort_key(d));
    // Findings by (namespace, workload): one lookup per Deployment, not a scan of them all.
    let mut by_workload: HashMap<(&str, &WorkloadRef), Vec<usize>> = HashMap::new();
    for (i, f) in findings.iter().enumerate() {
        by_workload
            .entry((&f.namespace, &f.workload))
            .or_default()
            .push(i);
    }
    let mut rows = Vec::new();
    for d in deployments {
        let key = WorkloadKey {
            namespace: d.metadata.namespace.clone().unwrap_or_default(),
            name: d.metadata.name.clone().unwrap_or_default(),
        };
        let containers = deployment_containers(d);
        let text_hit = matches_filter(filter, &[&key.namespace, &key.name])
            || containers
                .iter()
                .any(|(_, c)| matches_filter(filter, &[&c.name, c.image.as_deref().unwrap_or("")]));
        if !text_hit {
            continue;
        }
        let kind_name = key.finding_name();
        let mine: &[usize] = by_workload
            .get(&(key.namespace.as_str(), &kind_name))
            .map_or(&[], Vec::as_slice);
        let status = d.status.as_ref();
        rows.push(WorkloadRow::Deployment {
            desired: d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
            ready: status.and_then(|s| s.ready_replicas).unwrap_or(0),
            updated: status.and_then(|s| s.updated_replicas).unwrap_or(0),
            available: status.and_then(|s| s.available_replicas).unwrap_or(0),
            findings: mine.len(),
            waiting: waiting.get(&key).cloned(),
            key: key.clone(),
        });
        for (init, c) in containers {
            let image = c.image.clone().unwrap_or_default();
            let default = PullPolicy::default_for(&image).as_str();
            let finding = mine
                .iter()
                .copied()
                .find(|&i| findings[i].container == c.name && findings[i].init_container == init);
            rows.push(WorkloadRow::Container {
                key: key.clone(),
                name: c.name.clone(),
                init,
                defaulted: c.image_pull_policy.as_deref().is_none_or(|p| p == default),
                policy: c.image_pull_policy.clone(),
                image,
                finding,
            });
        }
    }
    rows
}

fn event_time(e: &Event) -> Option<i64> {
    e.last_timestamp
        .as_ref()
        .map(|t| t.0.as_second())
        .or_else(|| e.event_time.as_ref().map(|t| t.0.as_second()))
        .or_else(|| e.first_timestamp.as_ref().map(|t| t.0.as_second()))
        .or_else(|| {
            e.metadata
                .creation_timestamp
                .as_ref()
                .map(|t| t.0.as_second())
        })
}

/// The pod an event is about, as the events pane groups them (None: not about a pod).
pub(crate) fn event_pod(e: &Event) -> Option<(String, String)> {
    let obj = &e.involved_object;
    if obj.kind.as_deref() != Some("Pod") {
        return None;
    }
    Some((
        obj.namespace
            .clone()
            .or_else(|| e.metadata.namespace.clone())
            .unwrap_or_default(),
        obj.name.clone().unwrap_or_default(),
    ))
}

pub(crate) fn event_row(e: &Event) -> EventRow {
    EventRow {
        type_: e.type_.clone().unwrap_or_else(|| "Normal".to_string()),
        reason: e.reason.clone().unwrap_or_default(),
        count: e
            .series
            .as_ref()
            .and_then(|s| s.count)
            .or(e.count)
            .unwrap_or(1),
        last: event_time(e),
        message: e.message.clone().unwrap_or_default(),
    }
}

/// One pod's event rows, newest first (`events` in listing order).
pub(crate) fn pod_event_rows<'a>(events: impl Iterator<Item = &'a Event>) -> Vec<EventRow> {
    let mut rows: Vec<EventRow> = events.map(event_row).collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.last));
    rows
}

/// Every pod's event rows (the full build; the dashboard builds only the selected pod's).
pub fn event_rows(
    events: &crate::model::ObjectList<Event>,
) -> HashMap<(String, String), Vec<EventRow>> {
    let mut by_pod: HashMap<(String, String), Vec<&Event>> = HashMap::new();
    for e in events {
        if let Some(key) = event_pod(e) {
            by_pod.entry(key).or_default().push(e);
        }
    }
    by_pod
        .into_iter()
        .map(|(k, list)| (k, pod_event_rows(list.into_iter())))
        .collect()
}
