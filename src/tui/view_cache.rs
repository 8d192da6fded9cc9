//! The view kept up to date with work proportional to what changed, not to the cluster.
//!
//! The feed keeps unchanged objects as the same `Arc`s from one snapshot to the next, in lists
//! that share their structure ([`ObjectList`]), so comparing two snapshots skips everything
//! they share ([`ObjectList::changes`]) and only the objects that differ are looked at: their
//! pod rows are patched into place, the waiting reason of the workloads they touch is re-read,
//! events are re-indexed by the pod they are about, and the event text is built for the
//! selected pod only. Workload and node rows are rebuilt only when their inputs (Deployments,
//! findings, waiting reasons, node images) changed. Another namespace or filter is built in
//! full; both ways give the same [`View`] (property-tested).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Event, Pod};
use kube::Resource;

use crate::diagnose::Finding;
use crate::model::{ObjectList, Snapshot};
use crate::tui::system;
use crate::tui::view::{self, PodRow, View, WorkloadKey};

type Key = (String, String);
/// Where a pod row sorts in the pods pane ([`view::pod_order`]).
type PodOrder = (bool, String, String);

fn key_of<K: Resource>(o: &K) -> (&str, &str) {
    let m = o.meta();
    (
        m.namespace.as_deref().unwrap_or(""),
        m.name.as_deref().unwrap_or(""),
    )
}

fn owned_key<K: Resource>(o: &K) -> Key {
    let (ns, name) = key_of(o);
    (ns.to_string(), name.to_string())
}

pub(crate) use crate::object_list::Change;

/// What differs from `old` to `new`, in (namespace, name) order.
pub(crate) fn diff<K>(old: &ObjectList<K>, new: &ObjectList<K>) -> Vec<Change<K>> {
    old.changes(new).collect()
}

fn order_of(row: &PodRow) -> PodOrder {
    let (k, ns, name) = view::pod_order(row);
    (k, ns.to_string(), name.to_string())
}

/// Everything derived from the last snapshot that a change needs to patch the view.
struct Built {
    snap: Arc<Snapshot>,
    namespace: Option<String>,
    /// Lower-cased, as the view matches it.
    filter: String,
    rs_owner: HashMap<Key, String>,
    /// Pods in scope by the ReplicaSet they name as owner.
    pods_by_rs: HashMap<Key, BTreeSet<Key>>,
    /// Rows of the pods in scope (the namespace), whatever the filter.
    rows: HashMap<Key, PodRow>,
    /// Pods in scope by workload, in pane order.
    by_workload: HashMap<WorkloadKey, BTreeSet<PodOrder>>,
    /// The first error waiting reason of each workload's pods.
    waiting: HashMap<WorkloadKey, String>,
    /// Events by the pod they are about: pod → (event key → event), in listing order.
    events_by_pod: HashMap<Key, BTreeMap<Key, Arc<Event>>>,
    /// How many pods and Deployments each namespace has (the namespace chooser).
    namespaces: BTreeMap<String, usize>,
    /// Kind's own namespaces and base images shown (`s`), not folded.
    show_system: bool,
    /// The pods of Kind's own namespaces that findings name (folding keeps them).
    named: BTreeSet<Key>,
    /// The node images the shown findings name (folding keeps them).
    named_images: BTreeSet<String>,
}

/// The incremental builder behind `App`'s view (see the module docs).
#[derive(Default)]
pub struct ViewCache {
    built: Option<Built>,
    /// The pod whose events `View::events` holds.
    shown: Option<Key>,
    /// Full builds and incremental updates so far (tests and the log read them).
    pub full_builds: u64,
    pub updates: u64,
    /// Bumped whenever `View::findings` may have changed: what is drawn from the findings
    /// alone (the strip's wrapped rows) is kept until it moves.
    pub findings_gen: u64,
}

impl ViewCache {
    /// Bring `view` up to date with `snap`, its findings, the namespace and the filter.
    pub fn update(
        &mut self,
        view: &mut View,
        snap: &Arc<Snapshot>,
        findings: &[Finding],
        namespace: &Option<String>,
        filter: &str,
        show_system: bool,
    ) {
        let filter = filter.to_lowercase();
        let reusable = self.built.as_ref().is_some_and(|b| {
            b.namespace == *namespace && b.filter == filter && b.show_system == show_system
        });
        if !(reusable && self.patch(view, snap, findings)) {
            self.full(view, snap, findings, namespace, filter, show_system);
        }
        // The shown pod's event text is rebuilt (one pod: cheap, and always current).
        let shown = self.shown.take();
        self.show_events(view, shown);
    }

    /// Put the events of `pod` (and only those) into `view.events`; nothing to do when they
    /// are there already.
    pub fn show_events(&mut self, view: &mut View, pod: Option<Key>) {
        if self.shown.is_some() && pod == self.shown {
            return;
        }
        view.events.clear();
        if let (Some(key), Some(b)) = (&pod, &self.built)
            && let Some(events) = b.events_by_pod.get(key)
        {
            view.events.insert(
                key.clone(),
                view::pod_event_rows(events.values().map(|e| &**e)),
            );
        }
        self.shown = pod;
    }

    fn full(
        &mut self,
        view: &mut View,
        snap: &Arc<Snapshot>,
        findings: &[Finding],
        namespace: &Option<String>,
        filter: String,
        show_system: bool,
    ) {
        self.full_builds += 1;
        self.findings_gen += 1;
        *view = view::build(snap, findings, namespace, &filter, show_system);
        view.events.clear();
        let rs_owner = view::rs_owner_map(snap);
        let mut b = Built {
            snap: snap.clone(),
            namespace: namespace.clone(),
            filter,
            rs_owner,
            pods_by_rs: HashMap::new(),
            rows: HashMap::new(),
            by_workload: HashMap::new(),
            waiting: HashMap::new(),
            events_by_pod: HashMap::new(),
            namespaces: BTreeMap::new(),
            show_system,
            named: named_of(findings),
            named_images: named_images_of(&view.findings),
        };
        for pod in &snap.pods {
            b.count_namespace(pod.metadata.namespace.as_deref(), 1);
            b.add_pod(pod);
        }
        for d in &snap.deployments {
            b.count_namespace(d.metadata.namespace.as_deref(), 1);
        }
        let workloads: Vec<WorkloadKey> = b.by_workload.keys().cloned().collect();
        for w in workloads {
            b.rewait(&w);
        }
        for e in &snap.events {
            b.add_event(e);
        }
        self.built = Some(b);
    }

    /// Patch `view` for what changed since the last snapshot; false when it cannot be patched
    /// (nothing built yet, or a Kind pod's folding changed), and nothing was changed then.
    fn patch(&mut self, view: &mut View, snap: &Arc<Snapshot>, all_findings: &[Finding]) -> bool {
        let Some(b) = self.built.as_mut() else {
            return false;
        };
        let old = b.snap.clone();
        let pods = diff(&old.pods, &snap.pods);
        let replicasets = diff(&old.replicasets, &snap.replicasets);
        let events = diff(&old.events, &snap.events);
        let deployments_changed = old.deployments.differs(&snap.deployments);
        // A Kind pod a finding names now (or no longer) is unfolded (or folded): rare, built
        // in full.
        if !b.show_system && named_of(all_findings) != b.named {
            return false;
        }
        self.updates += 1;
        let filter = b.filter.clone();
        let namespace = b.namespace.clone();
        let fold = system::PodFold::new(all_findings, &namespace, b.show_system);
        let mut touched: HashSet<WorkloadKey> = HashSet::new();

        // ReplicaSets first: they name the Deployment of their pods.
        let mut repod: BTreeSet<Key> = BTreeSet::new();
        for c in &replicasets {
            for rs in c.old.iter().chain(&c.new) {
                let key = owned_key(&**rs);
                if let Some(pods) = b.pods_by_rs.get(&key) {
                    repod.extend(pods.iter().cloned());
                }
                b.rs_owner.remove(&key);
            }
            if let Some((key, owner)) = c.new.as_deref().and_then(view::rs_owner) {
                b.rs_owner.insert(key, owner);
            }
        }
        for c in &pods {
            if let Some(p) = &c.old {
                let key = owned_key(&**p);
                repod.remove(&key);
                b.count_namespace(p.metadata.namespace.as_deref(), -1);
                if let Some(row) = b.remove_pod(p) {
                    unshow(view, &row, &filter, &fold);
                    touched.extend(row.workload);
                }
            }
            if let Some(p) = &c.new {
                b.count_namespace(p.metadata.namespace.as_deref(), 1);
                if let Some(row) = b.add_pod(p) {
                    show(view, &row, &filter, &fold);
                    touched.extend(row.workload);
                }
            }
        }
        // Pods whose ReplicaSet changed: their workload may be another one now.
        for key in repod {
            let Some(pod) = snap.pods.get(&key.0, &key.1) else {
                continue;
            };
            if let Some(row) = b.remove_pod(pod) {
                unshow(view, &row, &filter, &fold);
                touched.extend(row.workload);
            }
            if let Some(row) = b.add_pod(pod) {
                show(view, &row, &filter, &fold);
                touched.extend(row.workload);
            }
        }
        let mut workloads_changed = deployments_changed;
        for w in &touched {
            workloads_changed |= b.rewait(w);
        }
        let findings: Vec<Finding> = all_findings
            .iter()
            .filter(|f| view::in_namespace(&b.namespace, &f.namespace))
            .cloned()
            .collect();
        let findings_changed = findings != view.findings;
        if findings_changed {
            view.findings = findings;
            self.findings_gen += 1;
            workloads_changed = true;
        }
        if workloads_changed {
            (view.workloads, view.folded.deployments) = system::workload_pane(
                snap,
                &view.findings,
                &b.namespace,
                &filter,
                &b.waiting,
                b.show_system,
            );
        }
        if deployments_changed {
            for c in diff(&old.deployments, &snap.deployments) {
                for (d, n) in [(&c.old, -1), (&c.new, 1)] {
                    if let Some(d) = d {
                        b.count_namespace(d.metadata.namespace.as_deref(), n);
                    }
                }
            }
        }
        if !pods.is_empty() || deployments_changed {
            view.namespaces = b.namespaces.keys().cloned().collect();
        }
        // Findings name the images folding keeps: only a change of those refolds the nodes.
        let images_named = if findings_changed && !b.show_system {
            let now = named_images_of(&view.findings);
            let changed = now != b.named_images;
            b.named_images = now;
            changed
        } else {
            false
        };
        if old.node_images != snap.node_images || old.nodes.differs(&snap.nodes) || images_named {
            view.nodes = view::node_rows(snap, &filter, &view.findings, b.show_system);
            view.folded.images = system::folded_images(&view.nodes);
        }
        for c in &events {
            for (e, add) in [(&c.old, false), (&c.new, true)] {
                let Some(e) = e else { continue };
                if add {
                    b.add_event(e);
                } else {
                    b.remove_event(e);
                }
            }
        }
        b.snap = snap.clone();
        true
    }
}

fn named_images_of(findings: &[Finding]) -> BTreeSet<String> {
    system::named_images(findings).map(str::to_string).collect()
}

/// The Kind pods findings name, by (namespace, name).
fn named_of(findings: &[Finding]) -> BTreeSet<Key> {
    system::named_system_pods(findings)
        .map(|(ns, name)| (ns.to_string(), name.to_string()))
        .collect()
}

/// Remove a row from the pods pane if it is shown there (or from the folded count).
fn unshow(view: &mut View, row: &PodRow, filter: &str, fold: &system::PodFold) {
    if !view::pod_matches(filter, row) {
        return;
    }
    if fold.folds(row) {
        view.folded.pods = view.folded.pods.saturating_sub(1);
        return;
    }
    let at = view::pod_order(row);
    if let Ok(i) = view.pods.binary_search_by(|p| view::pod_order(p).cmp(&at)) {
        view.pods.remove(i);
    }
}

/// Insert a row into the pods pane (in pane order) if the filter lets it through and folding
/// does not hide it (then it is counted as folded).
fn show(view: &mut View, row: &PodRow, filter: &str, fold: &system::PodFold) {
    if !view::pod_matches(filter, row) {
        return;
    }
    if fold.folds(row) {
        view.folded.pods += 1;
        return;
    }
    let at = view::pod_order(row);
    match view.pods.binary_search_by(|p| view::pod_order(p).cmp(&at)) {
        Ok(i) => view.pods[i] = row.clone(),
        Err(i) => view.pods.insert(i, row.clone()),
    }
}

impl Built {
    fn count_namespace(&mut self, ns: Option<&str>, by: isize) {
        let Some(ns) = ns else { return };
        let n = self.namespaces.entry(ns.to_string()).or_default();
        *n = n.saturating_add_signed(by);
        if *n == 0 {
            self.namespaces.remove(ns);
        }
    }

    /// Index a pod; its row when it is in scope.
    fn add_pod(&mut self, pod: &Pod) -> Option<PodRow> {
        if !view::in_namespace(
            &self.namespace,
            pod.metadata.namespace.as_deref().unwrap_or(""),
        ) {
            return None;
        }
        let key = owned_key(pod);
        let row = view::pod_row(pod, &self.rs_owner);
        if let Some(rs) = view::owner_rs(pod) {
            self.pods_by_rs.entry(rs).or_default().insert(key.clone());
        }
        if let Some(w) = &row.workload {
            self.by_workload
                .entry(w.clone())
                .or_default()
                .insert(order_of(&row));
        }
        self.rows.insert(key, row.clone());
        Some(row)
    }

    /// Forget a pod; the row it had, if it was in scope.
    fn remove_pod(&mut self, pod: &Pod) -> Option<PodRow> {
        let key = owned_key(pod);
        let row = self.rows.remove(&key)?;
        if let Some(rs) = view::owner_rs(pod)
            && let Some(set) = self.pods_by_rs.get_mut(&rs)
        {
            set.remove(&key);
            if set.is_empty() {
                self.pods_by_rs.remove(&rs);
            }
        }
        if let Some(w) = &row.workload
            && let Some(set) = self.by_workload.get_mut(w)
        {
            set.remove(&order_of(&row));
            if set.is_empty() {
                self.by_workload.remove(w);
            }
        }
        Some(row)
    }

    /// Re-read a workload's waiting reason (the first error among its pods); true if changed.
    fn rewait(&mut self, w: &WorkloadKey) -> bool {
        let reason = self.by_workload.get(w).and_then(|pods| {
            pods.iter().find_map(|(_, ns, name)| {
                let row = self.rows.get(&(ns.clone(), name.clone()))?;
                row.reason_is_error.then(|| row.reason.clone()).flatten()
            })
        });
        let old = match &reason {
            Some(r) => self.waiting.insert(w.clone(), r.clone()),
            None => self.waiting.remove(w),
        };
        old != reason
    }

    fn add_event(&mut self, e: &Arc<Event>) {
        if let Some(pod) = view::event_pod(e) {
            self.events_by_pod
                .entry(pod)
                .or_default()
                .insert(owned_key(&**e), e.clone());
        }
    }

    fn remove_event(&mut self, e: &Event) {
        if let Some(pod) = view::event_pod(e)
            && let Some(list) = self.events_by_pod.get_mut(&pod)
        {
            list.remove(&owned_key(e));
            if list.is_empty() {
                self.events_by_pod.remove(&pod);
            }
        }
    }
}

#[cfg(test)]
#[path = "view_cache_tests.rs"]
pub(crate) mod tests;
