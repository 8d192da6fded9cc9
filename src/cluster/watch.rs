//! Watchers → snapshots: one kube-runtime watcher + reflector per resource (never polling),
//! and a rebuild task that publishes a fresh `Arc<Snapshot>` after store changes.
//!
//! Bursts are coalesced: a change is published at once, then further changes wait at most
//! [`COALESCE`] so a rollout touching fifty pods yields a handful of snapshots, not fifty.
//! Building a snapshot only clones `Arc`s out of the stores (kept in display order by
//! [`objects`]), and only for resources that changed, so it stays cheap at 5,000 pods.

use std::fmt::Debug;
use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Event, Node, Pod};
use kube::Resource;
use kube::api::Api;
use kube::runtime::watcher;
use serde::de::DeserializeOwned;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use super::compact::Compact;
use super::connect::Connection;
use super::feed_state::{
    Capture, Readiness, Shared, Step, forbidden_error, is_from_another_run, is_gone, readiness,
    timeout_result,
};
use super::objects::{self, Objects};
use super::retry::Retry;
use super::runtime_feed::{NodeImagesCache, NodeKey, RuntimeLists, api_fingerprint};
use crate::error::CliError;
use crate::model::Resource as Watched;
use crate::model::Snapshot;

/// Minimum spacing between two published snapshots.
pub const COALESCE: Duration = Duration::from_millis(15);

/// The watched resources, as named in `Snapshot::resources`.
pub const RESOURCES: [Watched; 5] = Watched::ALL;
/// Resources without which a diagnosis would be wrong; events only add evidence.
pub const REQUIRED: [Watched; 4] = [
    Watched::Nodes,
    Watched::Pods,
    Watched::Deployments,
    Watched::ReplicaSets,
];

/// Live snapshots of one connection. Dropping it stops every watcher.
pub struct Feed {
    rx: watch::Receiver<Arc<Snapshot>>,
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
    /// Wakes the runtime lister (None: node images come from the API only).
    refresh: Option<Arc<Notify>>,
}

impl Drop for Feed {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Which events a feed keeps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Events {
    /// Every event (the dashboard shows a pod's whole history).
    #[default]
    All,
    /// Only the image events a report reads ([`crate::diagnose::is_evidence`]); routine pod
    /// events are not even sent ([`ROUTINE_REASONS`]). At 47,000 events that is most of
    /// `diagnose`'s time and memory saved (docs/performance.md).
    Evidence,
}

/// Watch everything kindscope shows, with node images from the API only.
pub fn start(conn: &Connection) -> Feed {
    super::session::feed(conn, super::session::FeedOptions::default())
}

/// Like [`start`], keeping only the events `events` asks for.
pub fn start_keeping(conn: &Connection, events: Events) -> Feed {
    super::session::feed(
        conn,
        super::session::FeedOptions {
            events,
            ..Default::default()
        },
    )
}

/// The feed behind [`super::session::feed`]: one watcher per resource, a rebuild task that
/// publishes snapshots, a liveness probe, and (with a runtime) the runtime lister, whose
/// listings the rebuild task merges into node images ([`NodeImagesCache`], the one place).
pub(crate) fn start_inner(conn: &Connection, options: super::session::FeedOptions) -> Feed {
    let shared = Arc::new(Shared::default());
    let client = &conn.client;
    let ns = conn.namespace.as_deref();
    let all = || watcher::Config::default().page_size(PAGE_SIZE);
    let (nodes, t1) = spawn_watch::<Node>(
        Api::all(client.clone()),
        Watched::Nodes,
        &shared,
        all(),
        keep,
    );
    let (pods, t2) = spawn_watch::<Pod>(api(client, ns), Watched::Pods, &shared, all(), keep);
    let (deployments, t3) =
        spawn_watch::<Deployment>(api(client, ns), Watched::Deployments, &shared, all(), keep);
    let (replicasets, t4) =
        spawn_watch::<ReplicaSet>(api(client, ns), Watched::ReplicaSets, &shared, all(), keep);
    let (fields, keep_event) = event_filter(options.events);
    let config = match fields {
        Some(fields) => all().fields(&fields),
        None => all(),
    };
    let (events, t5) = spawn_watch::<Event>(
        api(client, ns),
        Watched::Events,
        &shared,
        config,
        keep_event,
    );
    let stores = Stores {
        nodes,
        pods,
        deployments,
        replicasets,
        events,
    };
    let base = Snapshot {
        context: conn.context.clone(),
        server: conn.server.clone(),
        namespace: conn.namespace.clone(),
        ..Snapshot::default()
    };
    let mut first = base.clone();
    first.resources = shared.states();
    let (tx, rx) = watch::channel(Arc::new(first));
    let mut tasks = vec![t1, t2, t3, t4, t5];
    let (runtime, refresh) = match options.runtime {
        Some(source) => {
            let refresh = Arc::new(Notify::new());
            let (keys_tx, keys_rx) = watch::channel(NodeKey::new());
            let (lists, lister) = super::runtime_feed::spawn_lister(
                source.runtime,
                source.per_node,
                keys_rx,
                refresh.clone(),
            );
            tasks.push(lister);
            (Some((lists, keys_tx)), Some(refresh))
        }
        None => (None, None),
    };
    tasks.push(tokio::spawn(rebuild_loop(
        base,
        stores,
        shared.clone(),
        runtime,
        tx,
    )));
    tasks.push(tokio::spawn(probe_loop(client.clone(), shared.clone())));
    Feed {
        rx,
        shared,
        tasks,
        refresh,
    }
}

fn api<K>(client: &kube::Client, ns: Option<&str>) -> Api<K>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    K::DynamicType: Default,
{
    match ns {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

impl Feed {
    /// A receiver of snapshots; the current value is always the newest one.
    pub fn snapshots(&self) -> watch::Receiver<Arc<Snapshot>> {
        self.rx.clone()
    }

    /// The newest snapshot.
    pub fn current(&self) -> Arc<Snapshot> {
        self.rx.borrow().clone()
    }

    /// Whether node images are also read from the container runtime.
    pub fn reads_runtime(&self) -> bool {
        self.refresh.is_some()
    }

    /// Ask the container runtime for every node's images again now (after `kind load`, or
    /// the dashboard's refresh key). False when this feed reads node images from the API only.
    pub fn refresh_node_images(&self) -> bool {
        match &self.refresh {
            Some(r) => {
                r.notify_one();
                true
            }
            None => false,
        }
    }

    /// The newest snapshot once every node in it has been through the runtime (listed, or
    /// failed and said so); at once without a runtime. Each listing is bounded by the
    /// runtime's own timeout, so this ends; `bound` only guards against a wedged lister.
    pub async fn node_images_ready(&self, bound: Duration) -> Arc<Snapshot> {
        let mut rx = self.rx.clone();
        let deadline = tokio::time::Instant::now() + bound;
        loop {
            let snap = rx.borrow_and_update().clone();
            if self.refresh.is_none() || super::runtime_feed::runtime_covers(&snap) {
                return snap;
            }
            match tokio::time::timeout_at(deadline, rx.changed()).await {
                Ok(Ok(())) => {}
                _ => return snap,
            }
        }
    }

    /// Wait until every required resource has listed once and return that snapshot.
    /// A resource whose watch failed after listing counts (it is marked stale).
    ///
    /// A 403 on a required resource or the timeout is an exit-3 error naming the resource.
    /// Events are optional: when they are forbidden or still failing at the deadline the
    /// snapshot is returned without them (and says so in `resources`).
    pub async fn ready(&self, timeout: Duration) -> Result<Arc<Snapshot>, CliError> {
        let mut rx = self.rx.clone();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            // Listed first: the snapshot read after it is at least as new.
            let listed = self.shared.published_listed();
            let snap = rx.borrow_and_update().clone();
            match readiness(&snap, &listed) {
                Readiness::Ready => return Ok(snap),
                Readiness::Forbidden(name, reason) => {
                    return Err(forbidden_error(&snap.context, name, &reason));
                }
                Readiness::Waiting => {}
            }
            match tokio::time::timeout_at(deadline, rx.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => {
                    return Err(CliError::cluster("the cluster watch stopped unexpectedly"));
                }
                Err(_) => return timeout_result(&snap, &listed, timeout),
            }
        }
    }
}

/// Objects per list page. Pages are fetched one after another, so fewer of them shorten the
/// list of 5,000 pods; 1,000 measured ~10% faster than kube's default 500 for ~6% more peak
/// memory (docs/performance.md).
pub(super) const PAGE_SIZE: u32 = 1000;

/// Reasons of the pod events the kubelet and scheduler emit for every healthy pod, which are
/// never evidence: leaving them on the server spares a report ~90% of a big cluster's events.
/// Only a saving, not a filter anyone relies on: [`crate::diagnose::is_evidence`] decides.
const ROUTINE_REASONS: [&str; 7] = [
    "Scheduled",
    "Pulling",
    "Pulled",
    "Created",
    "Started",
    "Killing",
    "SandboxChanged",
];

/// `involvedObject.kind=Pod,reason!=Scheduled,…` (field selectors the apiserver supports on
/// events; requirements are ANDed).
fn not_evidence_selector() -> String {
    std::iter::once("involvedObject.kind=Pod".to_string())
        .chain(ROUTINE_REASONS.iter().map(|r| format!("reason!={r}")))
        .collect::<Vec<_>>()
        .join(",")
}

/// How often the server must have said something; after that much silence a probe asks.
const PROBE_EVERY: Duration = Duration::from_secs(2);
/// How long the probe waits for `/version`; no answer means the server is silent (hung,
/// stopped, or the network dropped without a reset).
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// Watches can be quiet for minutes on a calm cluster (bookmarks come about once a minute),
/// and a stopped apiserver keeps its connections open: only asking tells silence from calm.
/// A `GET /version` after [`PROBE_EVERY`] of quiet is the cheapest question.
async fn probe_loop(client: kube::Client, shared: Arc<Shared>) {
    loop {
        tokio::time::sleep(PROBE_EVERY).await;
        if shared.quiet_for() < PROBE_EVERY {
            continue;
        }
        match tokio::time::timeout(PROBE_TIMEOUT, client.apiserver_version()).await {
            Ok(Ok(_)) => {
                shared.heard();
            }
            _ => shared.silent(),
        }
    }
}

/// The field selector and the keep function for the events `events` asks for (the feed's
/// watch and the one-shot lister read the same ones).
pub(super) fn event_filter(events: Events) -> (Option<String>, fn(&mut Event) -> bool) {
    match events {
        Events::All => (None, keep),
        Events::Evidence => (Some(not_evidence_selector()), |e| {
            e.compact();
            crate::diagnose::is_evidence(e)
        }),
    }
}

/// Keep every object, trimmed ([`Compact`]).
pub(super) fn keep<K: Compact>(obj: &mut K) -> bool {
    obj.compact();
    true
}

fn spawn_watch<K>(
    api: Api<K>,
    name: Watched,
    shared: &Arc<Shared>,
    config: watcher::Config,
    keep: fn(&mut K) -> bool,
) -> (Objects<K>, JoinHandle<()>)
where
    K: Resource
        + k8s_openapi::Metadata<Ty = kube::api::ObjectMeta>
        + Clone
        + DeserializeOwned
        + Debug
        + Send
        + Sync
        + 'static,
    K::DynamicType: Default + Eq + Hash + Clone + Send + Sync,
{
    let (reader, mut writer) = objects::objects(keep);
    let shared = shared.clone();
    let task = tokio::spawn(async move {
        let mut retry = Retry::new(name.as_str().len() as u64 ^ u64::from(std::process::id()));
        let mut epoch = shared.epoch.subscribe();
        epoch.borrow_and_update();
        tracing::info!("{name}: listing");
        // One watcher per round; a new round (a fresh list) when the cluster was replaced.
        loop {
            let mut stream = std::pin::pin!(watcher(api.clone(), config.clone()));
            let replaced = loop {
                let item = tokio::select! {
                    item = stream.next() => item,
                    changed = epoch.changed() => {
                        if changed.is_err() {
                            return;
                        }
                        break true;
                    }
                };
                // Errors arrive as items and the watcher keeps going; never stop early.
                let Some(item) = item else { break false };
                // The store first, then the state: the state bumps the generation the
                // snapshot builder reads before the store, so it can never miss a change.
                let (rebuild, pause, restart) = match item {
                    Ok(event) => {
                        retry.reset();
                        shared.heard();
                        let step = Step::of(&event);
                        let other_cluster = writer.apply(event) && name == Watched::Nodes;
                        if other_cluster {
                            shared.new_cluster();
                            epoch.borrow_and_update();
                        }
                        (shared.update(name, step), None, false)
                    }
                    Err(e) => {
                        let pause = retry.after_error(is_gone(&e));
                        let restart = is_from_another_run(&e);
                        (shared.update(name, Step::Error(&e)), Some(pause), restart)
                    }
                };
                if rebuild {
                    shared.changed.notify_one();
                }
                if let Some(pause) = pause {
                    tokio::time::sleep(pause).await;
                }
                if restart {
                    break false;
                }
            };
            if replaced {
                // Another cluster: nothing of the old one may stay on screen.
                writer.clear();
                shared.forget(name);
                shared.changed.notify_one();
            }
            tracing::info!("{name}: listing again");
        }
    });
    (reader, task)
}

struct Stores {
    nodes: Objects<Node>,
    pods: Objects<Pod>,
    deployments: Objects<Deployment>,
    replicasets: Objects<ReplicaSet>,
    events: Objects<Event>,
}

async fn rebuild_loop(
    base: Snapshot,
    stores: Stores,
    shared: Arc<Shared>,
    mut runtime: Option<(watch::Receiver<Arc<RuntimeLists>>, watch::Sender<NodeKey>)>,
    tx: watch::Sender<Arc<Snapshot>>,
) {
    let mut cache = NodeImagesCache::default();
    let mut nodes_generation = None;
    loop {
        let runtime_changed = async {
            match runtime.as_mut() {
                Some((rx, _)) => rx.changed().await.is_ok(),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = shared.changed.notified() => {}
            alive = runtime_changed => if !alive { runtime = None; }
        }
        let runtime_lists = runtime.as_ref().map(|(rx, _)| rx.borrow().clone());
        // Everything about the states first: a change landing after this is in the stores
        // already (they change before the states) or picked up by the next rebuild.
        let capture = shared.capture();
        let snap = build(&base, &stores, &capture, runtime_lists.as_ref(), &mut cache);
        // Tell the runtime lister which nodes there are (it lists when they or their
        // reported images change); only when the nodes changed.
        if let Some((_, keys)) = &runtime
            && nodes_generation != Some(capture.generation(Watched::Nodes))
        {
            nodes_generation = Some(capture.generation(Watched::Nodes));
            let key: NodeKey = snap
                .nodes
                .iter()
                .filter_map(|n| Some((n.metadata.name.clone()?, api_fingerprint(n))))
                .collect();
            keys.send_if_modified(|k| {
                let changed = *k != key;
                *k = key;
                changed
            });
        }
        shared.publish(&capture);
        tx.send_replace(Arc::new(snap));
        // Coalesce: changes arriving now are picked up by the stored Notify permit.
        tokio::time::sleep(COALESCE).await;
    }
}

/// The stores as they are now: each list an O(1) copy sharing the store's structure, so a
/// publish costs the same at 500 pods as at 20,000. The states were captured first: a change
/// landing after the capture is in the stores already or picked up by the next rebuild.
fn build(
    base: &Snapshot,
    stores: &Stores,
    capture: &Capture,
    runtime: Option<&Arc<RuntimeLists>>,
    cache: &mut NodeImagesCache,
) -> Snapshot {
    let nodes = stores.nodes.state();
    let node_images = cache.get(&nodes, runtime);
    Snapshot {
        nodes,
        node_images,
        pods: stores.pods.state(),
        deployments: stores.deployments.state(),
        replicasets: stores.replicasets.state(),
        events: stores.events.state(),
        resources: capture.states.clone(),
        ..base.clone()
    }
}

#[cfg(test)]
#[path = "watch_tests.rs"]
mod tests;

/// The dashboard runs the edge on its own tasks: everything it calls must be `Send`.
#[cfg(test)]
mod send_checks {
    use super::*;
    use crate::cluster::{apply, rollout};
    use crate::fix::FixPlan;

    fn is_send<T: Send>(_: &T) {}

    #[allow(dead_code, unreachable_code, clippy::diverging_sub_expression)]
    fn futures_are_send(conn: &Connection, plan: &FixPlan) {
        is_send(&start(conn));
        is_send(&apply::apply(&conn.client, plan, false));
        is_send(&apply::undo(&conn.client, plan, false));
        let rx = start(conn).snapshots();
        is_send(&rollout::follow_plan(
            rx.clone(),
            plan,
            None,
            Duration::ZERO,
            |_| {},
        ));
        is_send(&rollout::follow(
            rx,
            &plan.target,
            "c",
            Duration::ZERO,
            |_| {},
        ));
        let feed = start(conn);
        is_send(&feed.ready(Duration::ZERO));
    }
}
