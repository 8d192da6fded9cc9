//! Glue between runtime listings and snapshots: when to ask the runtime, the feed's task that
//! keeps the listings fresh (re-listing when the nodes or their reported images change, or when
//! asked; never in a loop), and the one place listings are merged into node images.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::cli::RuntimeChoice;
use crate::cluster::kind::is_kind_cluster;
use crate::cluster::node_images::merge_all;
use crate::cluster::runtime::{self, Programs, Runtime, Selection, list_node_images};
use crate::config::Config;
use crate::model::{NodeImage, NodeImages, ObjectList, Snapshot};
use k8s_openapi::api::core::v1::Node;

/// One listing per node name.
pub type Listings = BTreeMap<String, Result<Vec<NodeImage>, String>>;

/// The runtime listings of one moment, with the runtime that made them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuntimeLists {
    pub runtime: String,
    pub listings: Listings,
}

/// Pick the runtime for a context: only a Kind cluster (or an explicit `--runtime`/config choice)
/// is asked; `None` when no runtime should be asked at all.
pub async fn select_for(
    context: &str,
    server: &str,
    flag: Option<RuntimeChoice>,
    config: &Config,
) -> Option<Selection> {
    let asked = flag.or(config.runtime.choice());
    if asked.is_none() && !is_kind_cluster(context, server) {
        return None;
    }
    let provider = std::env::var(runtime::PROVIDER_ENV).ok();
    let sel = runtime::choose(
        flag,
        config.runtime.choice(),
        provider.as_deref(),
        &Programs::default(),
        config.timeouts.runtime_probe(),
    )
    .await;
    sel.runtime.is_some().then_some(sel)
}

/// Node names of a snapshot (Kind names node containers after them).
pub fn node_names(snap: &Snapshot) -> Vec<String> {
    snap.nodes
        .iter()
        .filter_map(|n| n.metadata.name.clone())
        .collect()
}

/// What the feed tells the runtime lister: each node's name with a fingerprint of the image
/// names its kubelet reports (`Node.status.images`). A changed fingerprint means the node's
/// images changed (an image was loaded, pulled or collected), so the runtime is asked again.
pub(crate) type NodeKey = BTreeMap<String, u64>;

/// The fingerprint of the image names the API reports for a node.
pub(crate) fn api_fingerprint(node: &k8s_openapi::api::core::v1::Node) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for image in node.status.iter().flat_map(|s| s.images.iter().flatten()) {
        image.names.hash(&mut h);
    }
    h.finish()
}

/// Keep runtime listings fresh for the feed: list every node when the set of nodes changes,
/// when a node's API image list changes, and whenever `refresh` is notified (the dashboard's
/// refresh key). The receiver starts empty; the task ends when the feed drops its sender.
pub(crate) fn spawn_lister(
    rt: Runtime,
    per_node: Duration,
    mut nodes: watch::Receiver<NodeKey>,
    refresh: Arc<Notify>,
) -> (watch::Receiver<Arc<RuntimeLists>>, JoinHandle<()>) {
    let (tx, rx) = watch::channel(Arc::new(RuntimeLists {
        runtime: rt.name().to_string(),
        listings: BTreeMap::new(),
    }));
    let task = tokio::spawn(async move {
        let mut listed: Option<NodeKey> = None;
        loop {
            let key = nodes.borrow_and_update().clone();
            if listed.as_ref() != Some(&key) && !key.is_empty() {
                let names: Vec<String> = key.keys().cloned().collect();
                let listings = list_node_images(&rt, &names, per_node).await;
                listed = Some(key);
                let lists = RuntimeLists {
                    runtime: rt.name().to_string(),
                    listings,
                };
                if tx.send(Arc::new(lists)).is_err() {
                    return;
                }
                continue;
            }
            tokio::select! {
                changed = nodes.changed() => if changed.is_err() { return },
                () = refresh.notified() => {
                    tracing::info!("re-reading node images from {}", rt.name());
                    listed = None;
                }
            }
        }
    });
    (rx, task)
}

/// Node images change only with nodes or runtime listings; pod churn reuses the last merge,
/// shared (not copied: nodes × images names) with every snapshot published meanwhile.
#[derive(Default)]
pub(crate) struct NodeImagesCache {
    /// The node objects merged last: the store replaces a node's `Arc` exactly when a watch
    /// event changed it, so comparing pointers is comparing resourceVersions.
    key: ObjectList<Node>,
    runtime: Option<Arc<RuntimeLists>>,
    value: Arc<BTreeMap<String, NodeImages>>,
}

impl NodeImagesCache {
    pub(crate) fn get(
        &mut self,
        nodes: &ObjectList<Node>,
        runtime: Option<&Arc<RuntimeLists>>,
    ) -> Arc<BTreeMap<String, NodeImages>> {
        let same_nodes = !self.key.differs(nodes);
        let same_runtime = match (runtime, &self.runtime) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        };
        if !same_nodes || !same_runtime || (self.value.is_empty() && !nodes.is_empty()) {
            self.value = Arc::new(assemble_node_images(nodes, runtime.map(Arc::as_ref)));
            self.key = nodes.clone();
            self.runtime = runtime.cloned();
        }
        self.value.clone()
    }
}

/// The one place node images are assembled: the API view of every node
/// ([`Snapshot::api_node_images`]), with the runtime listings merged on top
/// ([`merge_all`]) when there are any.
pub fn assemble_node_images(
    nodes: &ObjectList<Node>,
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

/// Every node of the snapshot has been through the runtime (listed, or failed): what a
/// one-shot command waits for before judging.
pub(crate) fn runtime_covers(snap: &Snapshot) -> bool {
    snap.node_images
        .values()
        .all(|n| !matches!(n.runtime, crate::model::RuntimeListing::NotTried))
}
