//! Glue between runtime listings and snapshots: when to ask the runtime, and a task that keeps
//! the listings fresh — re-listing when the node set changes or when asked, never in a loop.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::cli::RuntimeChoice;
use crate::cluster::kind::is_kind_cluster;
use crate::cluster::node_images::merge_all;
use crate::cluster::runtime::{self, Programs, Runtime, Selection, list_node_images};
use crate::config::Config;
use crate::model::{NodeImage, Snapshot};

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

/// List every node once and merge into the snapshot's node images.
pub async fn refresh_snapshot(snap: &mut Snapshot, rt: &Runtime, per_node: Duration) {
    let listings = list_node_images(rt, &node_names(snap), per_node).await;
    let api = std::mem::take(&mut snap.node_images);
    snap.node_images = merge_all(api, listings, rt.name());
}

/// Keep runtime listings fresh for a stream of snapshots: list when the set of node names
/// changes, and when `refresh` is notified (the dashboard's refresh key, or after a load).
/// The receiver starts empty; the task ends when every snapshot sender is gone.
pub fn spawn(
    rt: Runtime,
    mut snapshots: watch::Receiver<Arc<Snapshot>>,
    refresh: Arc<Notify>,
    per_node: Duration,
) -> (watch::Receiver<Arc<RuntimeLists>>, JoinHandle<()>) {
    let (tx, rx) = watch::channel(Arc::new(RuntimeLists {
        runtime: rt.name().to_string(),
        listings: BTreeMap::new(),
    }));
    let task = tokio::spawn(async move {
        let mut listed: Option<BTreeSet<String>> = None;
        loop {
            let nodes: BTreeSet<String> = node_names(&snapshots.borrow_and_update())
                .into_iter()
                .collect();
            if listed.as_ref() != Some(&nodes) && !nodes.is_empty() {
                let names: Vec<String> = nodes.iter().cloned().collect();
                let listings = list_node_images(&rt, &names, per_node).await;
                listed = Some(nodes);
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
                changed = snapshots.changed() => if changed.is_err() { return },
                () = refresh.notified() => listed = None,
            }
        }
    });
    (rx, task)
}
