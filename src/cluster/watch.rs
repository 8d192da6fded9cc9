//! Watchers → snapshots: one kube-runtime watcher + reflector per resource (never polling),
//! and a rebuild task that publishes a fresh `Arc<Snapshot>` after store changes.
//!
//! Bursts are coalesced: a change is published at once, then further changes wait at most
//! [`COALESCE`] so a rollout touching fifty pods yields a handful of snapshots, not fifty.
//! Building a snapshot only clones `Arc`s out of the stores, so it stays cheap at 5,000 pods.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Event, Node, Pod};
use kube::api::Api;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Resource, ResourceExt};
use serde::de::DeserializeOwned;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use super::connect::{Connection, describe_kube_error};
use super::node_images::merge_all;
use super::runtime_feed::RuntimeLists;
use crate::error::CliError;
use crate::model::{NodeImages, ResourceState, Snapshot};

/// Minimum spacing between two published snapshots.
pub const COALESCE: Duration = Duration::from_millis(15);

/// The watched resources, as named in `Snapshot::resources`.
pub const RESOURCES: [&str; 5] = ["nodes", "pods", "deployments", "replicasets", "events"];
/// Resources without which a diagnosis would be wrong; events only add evidence.
pub const REQUIRED: [&str; 4] = ["nodes", "pods", "deployments", "replicasets"];

/// Live snapshots of one connection. Dropping it stops every watcher.
pub struct Feed {
    rx: watch::Receiver<Arc<Snapshot>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Feed {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Watch everything kindscope shows, with node images from the API only.
pub fn start(conn: &Connection) -> Feed {
    start_with(conn, None)
}

/// Like [`start`], merging runtime image listings (from [`super::runtime_feed::spawn`], which itself
/// follows this feed's snapshots) into the node images whenever either side changes.
pub fn start_with(conn: &Connection, runtime: Option<watch::Receiver<Arc<RuntimeLists>>>) -> Feed {
    let shared = Arc::new(Shared::default());
    let client = &conn.client;
    let ns = conn.namespace.as_deref();
    let (nodes, t1) = spawn_watch::<Node>(Api::all(client.clone()), "nodes", &shared);
    let (pods, t2) = spawn_watch::<Pod>(api(client, ns), "pods", &shared);
    let (deployments, t3) = spawn_watch::<Deployment>(api(client, ns), "deployments", &shared);
    let (replicasets, t4) = spawn_watch::<ReplicaSet>(api(client, ns), "replicasets", &shared);
    let (events, t5) = spawn_watch::<Event>(api(client, ns), "events", &shared);
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
    let rebuild = tokio::spawn(rebuild_loop(base, stores, shared, runtime, tx));
    Feed {
        rx,
        tasks: vec![t1, t2, t3, t4, t5, rebuild],
    }
}

/// Like [`start`], with the container runtime's image lists merged in: the runtime is asked
/// when the set of nodes changes and whenever `refresh` is notified (see
/// [`super::runtime_feed::spawn`]), each list bounded by `per_node`.
pub fn start_with_runtime(
    conn: &Connection,
    runtime: super::runtime::Runtime,
    per_node: Duration,
    refresh: Arc<Notify>,
) -> Feed {
    let (tx, rx) = watch::channel(Arc::new(RuntimeLists {
        runtime: runtime.name().to_string(),
        listings: Default::default(),
    }));
    let mut feed = start_with(conn, Some(rx));
    // The runtime feed follows our snapshots (for node names) and we follow its lists.
    let (mut lists, lister) =
        super::runtime_feed::spawn(runtime, feed.snapshots(), refresh, per_node);
    let forward = tokio::spawn(async move {
        while lists.changed().await.is_ok() {
            let latest = lists.borrow_and_update().clone();
            if tx.send(latest).is_err() {
                return;
            }
        }
    });
    feed.tasks.push(lister);
    feed.tasks.push(forward);
    feed
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

    /// Wait until every required resource has listed once and return that snapshot.
    ///
    /// A 403 on a required resource or the timeout is an exit-3 error naming the resource.
    /// Events are optional: when they are forbidden or still failing at the deadline the
    /// snapshot is returned without them (and says so in `resources`).
    pub async fn ready(&self, timeout: Duration) -> Result<Arc<Snapshot>, CliError> {
        let mut rx = self.rx.clone();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let snap = rx.borrow_and_update().clone();
            match readiness(&snap) {
                Readiness::Ready => return Ok(snap),
                Readiness::Forbidden(name, reason) => {
                    return Err(CliError::cluster(format!(
                        "context \"{}\" may not list {name} ({reason}); use a context allowed to \
                         list and watch {}",
                        snap.context,
                        REQUIRED.join(", ")
                    )));
                }
                Readiness::Waiting => {}
            }
            match tokio::time::timeout_at(deadline, rx.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => {
                    return Err(CliError::cluster("the cluster watch stopped unexpectedly"));
                }
                Err(_) => return timeout_result(&snap, timeout),
            }
        }
    }
}

enum Readiness {
    Ready,
    Waiting,
    Forbidden(&'static str, String),
}

fn readiness(snap: &Snapshot) -> Readiness {
    let mut ready = true;
    for name in RESOURCES {
        match snap.resources.get(name) {
            Some(ResourceState::Live) => {}
            Some(ResourceState::Forbidden { reason }) if REQUIRED.contains(&name) => {
                return Readiness::Forbidden(name, reason.clone());
            }
            Some(ResourceState::Forbidden { .. }) => {}
            _ => ready = false,
        }
    }
    if ready {
        Readiness::Ready
    } else {
        Readiness::Waiting
    }
}

fn timeout_result(snap: &Arc<Snapshot>, timeout: Duration) -> Result<Arc<Snapshot>, CliError> {
    let required_live = REQUIRED
        .iter()
        .all(|n| matches!(snap.resources.get(*n), Some(ResourceState::Live)));
    if required_live {
        tracing::warn!("events did not list in time; diagnosing without them");
        return Ok(snap.clone());
    }
    let pending: Vec<String> = REQUIRED
        .iter()
        .filter_map(|n| match snap.resources.get(*n) {
            Some(ResourceState::Live) => None,
            Some(ResourceState::Stale { reason }) => Some(format!("{n} ({reason})")),
            _ => Some((*n).to_string()),
        })
        .collect();
    Err(CliError::cluster(format!(
        "context \"{}\" did not list {} within {} s; check that the cluster is healthy and try again",
        snap.context,
        pending.join(", "),
        timeout.as_secs()
    )))
}

/// Per-resource watch state shared between the watcher tasks and the rebuild task.
#[derive(Default)]
struct Shared {
    states: Mutex<BTreeMap<&'static str, Status>>,
    changed: Notify,
}

#[derive(Default, Clone)]
struct Status {
    state: ResourceState,
    listed: bool,
    relisting: bool,
}

impl Shared {
    fn states(&self) -> BTreeMap<String, ResourceState> {
        let map = self.states.lock().unwrap_or_else(PoisonError::into_inner);
        RESOURCES
            .iter()
            .map(|n| {
                let state = map.get(n).map(|s| s.state.clone()).unwrap_or_default();
                ((*n).to_string(), state)
            })
            .collect()
    }

    fn update<K>(&self, name: &'static str, item: &Result<watcher::Event<K>, watcher::Error>) {
        let mut map = self.states.lock().unwrap_or_else(PoisonError::into_inner);
        let s = map.entry(name).or_default();
        match item {
            Ok(watcher::Event::Init) => {
                s.relisting = true;
                if s.listed {
                    tracing::info!("{name}: re-listing");
                }
            }
            Ok(watcher::Event::InitDone) => {
                s.relisting = false;
                if !s.listed || s.state != ResourceState::Live {
                    tracing::info!("{name}: listed; watching for changes");
                }
                s.listed = true;
                s.state = ResourceState::Live;
            }
            Ok(_) => {
                // An event after a failed watch means the watch resumed without a relist.
                if s.listed && !s.relisting && s.state != ResourceState::Live {
                    tracing::info!("{name}: watch resumed");
                    s.state = ResourceState::Live;
                }
            }
            Err(e) => {
                let (forbidden, reason) = describe_watch_error(e);
                if forbidden {
                    tracing::warn!("{name}: forbidden ({reason})");
                    s.state = ResourceState::Forbidden { reason };
                } else if is_gone(e) {
                    // Normal after a long disconnect: the watcher relists by itself.
                    tracing::info!("{name}: resourceVersion expired; re-listing");
                    s.state = ResourceState::Stale { reason };
                } else {
                    tracing::warn!("{name}: watch failed, retrying ({reason})");
                    s.state = ResourceState::Stale { reason };
                }
            }
        }
    }
}

fn is_gone(e: &watcher::Error) -> bool {
    matches!(e, watcher::Error::WatchError(s) if s.code == 410)
}

/// (is it a 403, one phrase for the user).
fn describe_watch_error(e: &watcher::Error) -> (bool, String) {
    match e {
        watcher::Error::InitialListFailed(k)
        | watcher::Error::WatchStartFailed(k)
        | watcher::Error::WatchFailed(k) => {
            let forbidden = matches!(k, kube::Error::Api(s) if s.code == 403);
            (forbidden, describe_kube_error(k))
        }
        watcher::Error::WatchError(s) => (
            s.code == 403,
            if s.message.is_empty() {
                format!("HTTP {} {}", s.code, s.reason)
            } else {
                format!("HTTP {}: {}", s.code, s.message)
            },
        ),
        watcher::Error::NoResourceVersion => (false, e.to_string()),
    }
}

fn spawn_watch<K>(
    api: Api<K>,
    name: &'static str,
    shared: &Arc<Shared>,
) -> (Store<K>, JoinHandle<()>)
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Default + Eq + Hash + Clone + Send + Sync,
{
    let (reader, writer) = reflector::store();
    let shared = shared.clone();
    let stream = watcher(api, watcher::Config::default())
        .default_backoff()
        // managedFields are large and never shown; dropping them halves memory on big clusters.
        .modify(|obj: &mut K| obj.managed_fields_mut().clear())
        .reflect(writer);
    let task = tokio::spawn(async move {
        let mut stream = std::pin::pin!(stream);
        tracing::info!("{name}: listing");
        // Errors arrive as items and the watcher keeps going (with back-off); never stop early.
        while let Some(item) = stream.next().await {
            shared.update(name, &item);
            shared.changed.notify_one();
        }
    });
    (reader, task)
}

struct Stores {
    nodes: Store<Node>,
    pods: Store<Pod>,
    deployments: Store<Deployment>,
    replicasets: Store<ReplicaSet>,
    events: Store<Event>,
}

async fn rebuild_loop(
    base: Snapshot,
    stores: Stores,
    shared: Arc<Shared>,
    mut runtime: Option<watch::Receiver<Arc<RuntimeLists>>>,
    tx: watch::Sender<Arc<Snapshot>>,
) {
    let mut cache = NodeImagesCache::default();
    loop {
        let runtime_changed = async {
            match runtime.as_mut() {
                Some(rx) => rx.changed().await.is_ok(),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = shared.changed.notified() => {}
            alive = runtime_changed => if !alive { runtime = None; }
        }
        let lists = runtime.as_ref().map(|rx| rx.borrow().clone());
        let snap = build(&base, &stores, &shared, lists.as_ref(), &mut cache);
        tx.send_replace(Arc::new(snap));
        // Coalesce: changes arriving now are picked up by the stored Notify permit.
        tokio::time::sleep(COALESCE).await;
    }
}

fn build(
    base: &Snapshot,
    stores: &Stores,
    shared: &Shared,
    runtime: Option<&Arc<RuntimeLists>>,
    cache: &mut NodeImagesCache,
) -> Snapshot {
    let nodes = sorted(stores.nodes.state());
    let node_images = cache.get(&nodes, runtime);
    Snapshot {
        nodes,
        node_images,
        pods: sorted(stores.pods.state()),
        deployments: sorted(stores.deployments.state()),
        replicasets: sorted(stores.replicasets.state()),
        events: sorted(stores.events.state()),
        resources: shared.states(),
        ..base.clone()
    }
}

/// Node images change only with nodes or runtime listings; pod churn reuses the last merge.
#[derive(Default)]
struct NodeImagesCache {
    key: Vec<(Option<String>, Option<String>)>,
    runtime: Option<Arc<RuntimeLists>>,
    value: BTreeMap<String, NodeImages>,
}

impl NodeImagesCache {
    fn get(
        &mut self,
        nodes: &[Arc<Node>],
        runtime: Option<&Arc<RuntimeLists>>,
    ) -> BTreeMap<String, NodeImages> {
        let key: Vec<_> = nodes
            .iter()
            .map(|n| (n.metadata.name.clone(), n.metadata.resource_version.clone()))
            .collect();
        let same_runtime = match (runtime, &self.runtime) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        };
        if key != self.key || !same_runtime || (self.value.is_empty() && !nodes.is_empty()) {
            self.value = assemble_node_images(nodes, runtime.map(Arc::as_ref));
            self.key = key;
            self.runtime = runtime.cloned();
        }
        self.value.clone()
    }
}

/// Stable order (namespace, name) so views and outputs do not jump between snapshots.
fn sorted<K: Resource>(mut v: Vec<Arc<K>>) -> Vec<Arc<K>> {
    v.sort_by(|a, b| {
        (a.meta().namespace.as_deref(), a.meta().name.as_deref())
            .cmp(&(b.meta().namespace.as_deref(), b.meta().name.as_deref()))
    });
    v
}

/// The one place node images are assembled: the API view of every node
/// ([`Snapshot::api_node_images`]), with the runtime listings merged on top
/// ([`merge_all`]) when there are any.
pub fn assemble_node_images(
    nodes: &[Arc<Node>],
    runtime: Option<&RuntimeLists>,
) -> BTreeMap<String, NodeImages> {
    let api: BTreeMap<String, NodeImages> = nodes
        .iter()
        .map(|n| {
            let images = Snapshot::api_node_images(n);
            (images.node.clone(), images)
        })
        .collect();
    match runtime {
        Some(lists) if !lists.listings.is_empty() => {
            merge_all(api, lists.listings.clone(), &lists.runtime)
        }
        _ => api,
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
